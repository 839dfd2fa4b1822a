// scripts/stage-extension.mjs on a made-up repository: the staged folder gets the manifest, the
// licenses, extension/ without the icon drawing, declarations and hidden files, and the vendored
// modules from node_modules/; staging again rewrites only what changed and removes what is gone;
// a missing WebAssembly build or vendored module is named.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { stageExtension } from '../../scripts/stage-extension.mjs';

let root;
let to;
before(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'pushotp-stage-'));
  to = path.join(root, 'dist/extension');
  const files = {
    'manifest.json': '{}',
    'LICENSE-MIT': 'mit',
    'LICENSE-APACHE': 'apache',
    'README.md': 'not part of the extension',
    'target/debug/big': 'build output',
    'extension/background.js': 'worker',
    'extension/icons/icon.svg': '<svg/>',
    'extension/icons/icon-16.png': 'png',
    'extension/pkg/pushotp_bg.wasm': 'wasm',
    'extension/pkg/pushotp_tools_bg.wasm': 'tools wasm',
    'extension/pkg/pushotp.d.ts': 'declarations',
    'extension/.popup.js.swp': 'editor',
    'extension/vendor/tldts.d.ts': 'declarations',
    'node_modules/tldts/dist/index.esm.min.js': 'export{};\n//# sourceMappingURL=index.esm.min.js.map\n',
    'node_modules/tldts/LICENSE': 'tldts license',
  };
  for (const [file, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await writeFile(path.join(root, file), text);
  }
});
after(() => rm(root, { recursive: true, force: true }));

const staged = async () =>
  (await readdir(to, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => path.relative(to, path.join(e.parentPath, e.name)))
    .sort();

test('stages the manifest, the licenses and extension/ only', async () => {
  const result = await stageExtension({ root, to });
  const expected = [
    'LICENSE-APACHE',
    'LICENSE-MIT',
    'extension/background.js',
    'extension/icons/icon-16.png',
    'extension/pkg/pushotp_bg.wasm',
    'extension/pkg/pushotp_tools_bg.wasm',
    'extension/vendor/tldts-LICENSE',
    'extension/vendor/tldts.js',
    'manifest.json',
  ];
  assert.deepEqual(await staged(), expected);
  assert.deepEqual(result.files, expected);
  assert.equal(result.changed, expected.length);
  // The vendored module without its source map comment (the map is not shipped).
  assert.equal(await readFile(path.join(to, 'extension/vendor/tldts.js'), 'utf8'), 'export{};\n');
  assert.equal(await readFile(path.join(to, 'extension/vendor/tldts-LICENSE'), 'utf8'), 'tldts license');
});

test('staging again rewrites what changed and removes what is gone', async () => {
  const untouched = (await stat(path.join(to, 'manifest.json'))).mtimeMs;
  await writeFile(path.join(root, 'extension/background.js'), 'worker, changed');
  await rm(path.join(root, 'extension/icons'), { recursive: true });
  const result = await stageExtension({ root, to });
  assert.equal(result.changed, 2);
  assert.equal(await readFile(path.join(to, 'extension/background.js'), 'utf8'), 'worker, changed');
  assert.ok(!(await staged()).some((f) => f.startsWith('extension/icons')));
  // The emptied folder went too.
  assert.ok(!(await readdir(path.join(to, 'extension'))).includes('icons'));
  assert.equal((await stat(path.join(to, 'manifest.json'))).mtimeMs, untouched);
  assert.equal((await stageExtension({ root, to })).changed, 0);
});

test('a missing vendored module is named', async () => {
  const source = path.join(root, 'node_modules/tldts/dist/index.esm.min.js');
  const text = await readFile(source);
  await rm(source);
  await assert.rejects(stageExtension({ root, to }), /node_modules\/tldts\/dist\/index\.esm\.min\.js is missing: install the npm packages first \(npm ci\)/);
  await writeFile(source, text);
});

test('a missing WebAssembly build is named', async () => {
  await rm(path.join(root, 'extension/pkg/pushotp_bg.wasm'));
  await assert.rejects(stageExtension({ root, to }), /extension\/pkg\/pushotp_bg\.wasm is missing: build the WebAssembly package first/);
});
