// The real extension in real Chromium: its service worker loads the WebAssembly core and
// answers a page's message with the RFC 6238 code for T = 59 s.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ROOT, launchWithExtension, openExtensionPage } from '../support/browser.mjs';

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
