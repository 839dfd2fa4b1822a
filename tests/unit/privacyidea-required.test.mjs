// The privacyIDEA end-to-end tests skip only where allowed: a plain local run without python3
// skips them and says why, while scripts/test.sh (PUSHOTP_REQUIRE_PRIVACYIDEA=1) fails them.
// The support module is run in a child process whose PATH holds only what
// scripts/privacyidea.sh needs before it looks for python3.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { ROOT } from '../support/root.mjs';

const run = promisify(execFile);
const SUPPORT = pathToFileURL(path.join(ROOT, 'tests/support/privacyidea.mjs')).href;

let bin;
before(async () => {
  bin = await mkdtemp(path.join(tmpdir(), 'pushotp-nopython-'));
  for (const tool of ['bash', 'dirname']) {
    const { stdout } = await run('bash', ['-c', `command -v ${tool}`]);
    await symlink(stdout.trim(), path.join(bin, tool));
  }
});
after(() => rm(bin, { recursive: true, force: true }));

/** What `startPrivacyIdea` does without python3 on the PATH, with `env` added. */
async function startWithoutPython(env) {
  const script = `
    import { startPrivacyIdea } from ${JSON.stringify(SUPPORT)};
    try {
      console.log(JSON.stringify({ resolved: await startPrivacyIdea() }));
    } catch (err) {
      console.log(JSON.stringify({ threw: err.message }));
    }`;
  const { PUSHOTP_REQUIRE_PRIVACYIDEA: _, ...inherited } = process.env;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...inherited, PATH: bin, ...env },
  });
  return JSON.parse(stdout);
}

test('without python3 a plain run skips the privacyIDEA tests and says why', async () => {
  const { resolved } = await startWithoutPython({});
  assert.match(resolved?.skipped ?? '', /^python3 is missing \(PUSHOTP_REQUIRE_PRIVACYIDEA=1 makes this a failure/);
});

test('without python3, PUSHOTP_REQUIRE_PRIVACYIDEA=1 (scripts/test.sh) fails them', async () => {
  const outcome = await startWithoutPython({ PUSHOTP_REQUIRE_PRIVACYIDEA: '1' });
  assert.equal(outcome.resolved, undefined, JSON.stringify(outcome));
  assert.match(outcome.threw, /^privacyIDEA cannot start: python3 is missing/);
});

test('scripts/test.sh sets PUSHOTP_REQUIRE_PRIVACYIDEA=1 before any test runs', async () => {
  const text = await (await import('node:fs/promises')).readFile(path.join(ROOT, 'scripts/test.sh'), 'utf8');
  const set = text.indexOf('\nexport PUSHOTP_REQUIRE_PRIVACYIDEA=1\n');
  assert.ok(set > 0, 'exported');
  assert.ok(set < text.indexOf('node --test'), 'before the tests');
});
