// The real extension in real Chromium: loaded from the staged folder that holds only its files,
// its service worker loads the WebAssembly core and answers a page's message with the RFC 6238
// code for T = 59 s.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ROOT, launchWithExtension, openExtensionPage } from '../support/browser.mjs';
import { VENDORED } from '../../scripts/stage-extension.mjs';

const totpVectors = JSON.parse(
  await readFile(path.join(ROOT, 'crate/tests/vectors/rfc6238_totp.json'), 'utf8'),
);

/** The RFC's hex seed as the base32 secret tokens carry. */
function base32(hex) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (let i = 0; i < hex.length; i += 2) bits += parseInt(hex.slice(i, i + 2), 16).toString(2).padStart(8, '0');
  let out = '';
  for (let i = 0; i < bits.length; i += 5) out += alphabet[parseInt(bits.slice(i, i + 5).padEnd(5, '0'), 2)];
  return out;
}

let browser;
let popup;
before(async () => {
  browser = await launchWithExtension();
  popup = await openExtensionPage(browser, 'popup.html');
});
after(async () => browser?.close());

/** Every file below `dir`, relative, with `/` separators. */
async function filesIn(dir) {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'))
    .sort();
}

test('Chromium loads the staged folder, which holds only the extension and is small', async () => {
  const staged = await realpath(path.join(ROOT, 'dist/extension'));
  // Chromium names an unpacked extension after its folder's path: the first 32 hex digits of
  // its SHA-256, written with the letters a to p (as scripts/demo.sh computes it too).
  const idOf = (folder) => createHash('sha256').update(folder).digest('hex').slice(0, 32).replace(/[0-9a-f]/g, (d) => 'abcdefghijklmnop'[parseInt(d, 16)]);
  assert.equal(browser.extensionId, idOf(staged), 'the extension was loaded from dist/extension');

  const files = await filesIn(staged);
  assert.deepEqual(files.filter((f) => !f.startsWith('extension/')), ['LICENSE-APACHE', 'LICENSE-MIT', 'manifest.json']);
  // extension/ as it is in the repository, without what the browser never reads (type
  // declarations among them), and the vendored npm modules the staging copies in.
  const expected = (await filesIn(path.join(ROOT, 'extension')))
    .filter((f) => f !== 'icons/icon.svg' && !/^(pkg|vendor)\/.*\.d\.ts$/.test(f) && !/(^|\/)\./.test(f))
    .map((f) => `extension/${f}`)
    .concat(Object.keys(VENDORED))
    .sort();
  assert.deepEqual(files.filter((f) => f.startsWith('extension/')), expected);
  for (const file of ['extension/pkg/pushotp_bg.wasm', 'extension/pkg/pushotp_tools_bg.wasm', 'extension/background.js']) {
    assert.ok(files.includes(file), file);
    assert.ok((await readFile(path.join(staged, file))).equals(await readFile(path.join(ROOT, file))), `${file} is fresh`);
  }
  let bytes = 0;
  for (const file of files) bytes += (await stat(path.join(staged, file))).size;
  assert.ok(bytes < 2_000_000, `${bytes} bytes staged`);
});

/** Sends a message to the service worker from an extension page, as the popup does. */
function ask(message) {
  return popup.evaluate((m) => chrome.runtime.sendMessage(m), message);
}

test('the service worker computes the RFC 6238 T=59 code through the WebAssembly core', async () => {
  const vector = totpVectors.vectors.find((v) => v.time === 59 && v.algorithm === 'SHA1');
  const token = { type: 'totp', secret: base32(totpVectors.secrets_hex.SHA1), digits: 8 };
  const reply = await ask({ type: 'code.request', token, at: vector.time * 1000 });
  assert.deepEqual(reply, { ok: true, code: '94287082' });
  assert.equal(reply.code, vector.code);
});

test('every RFC 6238 vector comes out of the extension unchanged', async () => {
  for (const v of totpVectors.vectors) {
    const token = { type: 'totp', secret: base32(totpVectors.secrets_hex[v.algorithm]), algorithm: v.algorithm, digits: 8 };
    const reply = await ask({ type: 'code.request', token, at: v.time * 1000 });
    assert.deepEqual(reply, { ok: true, code: v.code }, `${v.algorithm} T=${v.time}`);
  }
});

test('bad input reaches the page as a typed error, not a crash', async () => {
  const bad = await ask({ type: 'code.request', token: { type: 'totp', secret: 'not base32!' }, at: 0 });
  assert.equal(bad.ok, false);
  assert.equal(bad.error.code, 'invalid_base32');
  const unknown = await ask({ type: 'no.such.message' });
  assert.equal(unknown.error.code, 'unknown_message');
  // The worker still answers afterwards.
  const again = await ask({ type: 'code.request', token: { type: 'hotp', secret: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', counter: 1 } });
  assert.deepEqual(again, { ok: true, code: '287082' });
});

test('the popup opens without console errors', async () => {
  await popup.reload();
  const empty = popup.getByRole('status').filter({ hasText: 'No sign-in requests' });
  await empty.waitFor();
  assert.match(await empty.textContent(), /No sign-in requests are waiting/);
  assert.deepEqual(browser.errors, []);
});
