// The store packages (scripts/package-extension.mjs): each holds exactly the extension's files,
// with the manifest its browser reads, and building again, elsewhere and in another time zone,
// gives the same bytes.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { unzipSync } from 'fflate';
import { packageExtension } from '../../scripts/package-extension.mjs';
import { extensionFiles } from '../../scripts/stage-extension.mjs';
import { ROOT } from '../support/root.mjs';

let work;
let first;
before(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'pushotp-package-'));
  first = await packageExtension({ out: path.join(work, 'one'), stage: path.join(work, 'stage-one') });
});
after(() => rm(work, { recursive: true, force: true }));

test('each package holds exactly the staged extension, and its browser\'s manifest', async () => {
  const expected = await extensionFiles();
  const shared = JSON.parse(await readFile(path.join(ROOT, 'manifest.json'), 'utf8'));
  for (const { target, file } of first) {
    const entries = unzipSync(new Uint8Array(await readFile(file)));
    assert.deepEqual(Object.keys(entries).sort(), expected, target);
    // Nothing of the build or the tests: only what the browser loads.
    assert.ok(!Object.keys(entries).some((name) => /^(loadgen|tests|scripts|server|crate|target|node_modules|docs)\//.test(name)), target);
    const manifest = JSON.parse(Buffer.from(entries['manifest.json']).toString('utf8'));
    if (target === 'chromium') {
      assert.deepEqual(manifest.background, { service_worker: 'extension/background.js', type: 'module' });
      assert.equal(manifest.browser_specific_settings, undefined);
    } else {
      assert.deepEqual(manifest.background, { scripts: ['extension/background.js'], type: 'module' });
      assert.deepEqual(manifest.browser_specific_settings, shared.browser_specific_settings);
      assert.equal(manifest.minimum_chrome_version, undefined);
    }
    // Every other file as staged, byte for byte.
    const staged = await readFile(path.join(work, 'stage-one', 'extension/popup.js'));
    assert.ok(Buffer.from(entries['extension/popup.js']).equals(staged), target);
  }
});

test('building again, in another process and time zone, gives byte-identical packages', async () => {
  const out = path.join(work, 'two');
  const script = path.join(ROOT, 'scripts/package-extension.mjs');
  await promisify(execFile)(process.execPath, [script, '--out', out, '--stage', path.join(work, 'stage-two')], { env: { ...process.env, TZ: 'Pacific/Chatham' }, cwd: work });
  for (const { file } of first) {
    const again = await readFile(path.join(out, path.basename(file)));
    assert.ok(again.equals(await readFile(file)), `${path.basename(file)} differs between builds`);
  }
});
