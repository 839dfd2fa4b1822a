// Everyday codes in Firefox: a TOTP token's code shown in the popup is filled into the login
// page of the web tab the person came from, once they confirm the site (Firefox asks for the
// site within that click), and typed as a person types, key by key.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, test } from 'node:test';
import { launchFirefox } from '../support/firefox.mjs';
import { servePages } from '../support/pages.mjs';

// RFC 6238's SHA-1 seed, "12345678901234567890", in base32.
const SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

/** RFC 6238 TOTP (SHA-1, 6 digits, 30 s) computed here, independently of the extension. */
function totp(atMs) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(atMs / 1000 / 30)));
  const mac = createHmac('sha1', Buffer.from('12345678901234567890')).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

let browser;
let pages;
before(async () => {
  [browser, pages] = await Promise.all([launchFirefox(), servePages()]);
  const options = await browser.openExtensionPage('options.html');
  const added = await options.evaluate(
    (secret) => browser.runtime.sendMessage({ type: 'otp.add', tokens: [{ issuer: 'Example', account: 'alice', type: 'totp', secret }] }),
    SECRET,
  );
  assert.equal(added.ok, true, JSON.stringify(added));
  await options.close();
});
after(async () => {
  await browser?.close();
  await pages?.stop();
});

test('Fill types the code into the login page after the person confirms its site', async () => {
  const login = await browser.open(`${pages.url}/pages/plain.html`);
  await login.waitFor('#code');
  // The person clicks PushOTP's toolbar button on the login page's tab.
  await browser.clickToolbarButton(login);
  const popup = await browser.openExtensionPage('popup.html');
  await popup.click('#code-list li .code-fill');
  const host = new URL(pages.url).host;
  await popup.waitForText(`Fill codes of Example into ${host}?`);
  await popup.click('#site-confirm');
  await popup.waitForText(`Filled the code of Example alice into ${host}.`);
  const value = await login.value('#code');
  assert.ok([totp(Date.now() - 3000), totp(Date.now())].includes(value), value);
  // Typed as a person types: a key down, an input and a key up per digit, then a change.
  assert.deepEqual(await login.evaluate(() => window.seen.code), { keydown: 6, input: 6, keyup: 6, change: 1 });
  await popup.close();
  await login.close();
});
