// The vault in Firefox: a password set in the options page seals the secrets (Argon2id in the
// WebAssembly core, AES-GCM), Lock now locks, a push request then waits for the password in the
// popup, a wrong one is refused, and the right one unlocks and approves.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { enrollInOptions, launchFirefox } from '../support/firefox.mjs';
import { signIn, startServer } from '../support/server.mjs';

const PASSWORD = 'correct horse battery';

let browser;
let server;
before(async () => {
  [browser, server] = await Promise.all([launchFirefox(), startServer(['--no-number-matching'])]);
  await enrollInOptions(browser, server.link);
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test('a password seals the secrets; locked, the popup asks for it, refuses a wrong one and approves after the right one', async () => {
  const options = await browser.openExtensionPage('options.html');
  await options.waitFor('body[data-ready="true"]');
  await options.fill('#new-password', PASSWORD);
  await options.fill('#new-password-again', PASSWORD);
  await options.click('#password-save');
  await options.waitForText('Password saved. The secrets are encrypted with it.');
  const stored = await options.evaluate(() => browser.storage.local.get('secrets'));
  assert.deepEqual(Object.keys(stored.secrets), ['sealed']);
  await options.click('#lock-now');
  await options.waitForText('Locked: the secrets of your tokens are encrypted');

  const login = await signIn(server.url, 'alice', 'alice-demo');
  assert.equal((await login.push()).status, 200);
  const popup = await browser.openExtensionPage('popup.html');
  await popup.click('#approve');
  // One unlock prompt for the request and the codes below it.
  await popup.waitForText('PushOTP is locked. Type your password to unlock it.');
  await popup.fill('.unlock-form input[type=password]', 'not the password');
  await popup.click('.unlock-form button[type=submit]');
  await popup.waitForText('Wrong password.');
  assert.equal((await login.state()).state, 'waiting');
  await popup.fill('.unlock-form input[type=password]', PASSWORD);
  await popup.click('.unlock-form button[type=submit]');
  await popup.waitForText('Approved. You are being signed in to Demo Portal.');
  assert.equal((await login.state()).state, 'approved');
  await popup.close();
  await options.close();
});
