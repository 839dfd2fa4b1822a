// PushOTP in Firefox (firefox-esr, driven by geckodriver: tests/support/firefox.mjs), against the
// real reference server: the extension starts as an event page with its WebAssembly core, a
// token is added from its activation link in the options page (Firefox asks for the server's
// site within the click on Add), a sign-in started on the organization's login page arrives
// over the WebSocket, and one press on Approve in the popup signs the person in without typing.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchFirefox } from '../support/firefox.mjs';
import { startServer } from '../support/server.mjs';

let browser;
let server;
before(async () => {
  [browser, server] = await Promise.all([launchFirefox(), startServer()]);
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test('the extension starts in Firefox: its popup shows, and its core computes RFC 6238 codes', async () => {
  const popup = await browser.openExtensionPage('popup.html');
  await popup.waitForText('No sign-in requests are waiting.');
  // The background page (an event page in Firefox) computes with the WebAssembly core: RFC 6238
  // appendix B, SHA-1, T = 59 s.
  const codes = await popup.evaluate(async () => {
    const secret = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
    const added = await browser.runtime.sendMessage({ type: 'otp.add', tokens: [{ issuer: 'RFC 6238', account: '', type: 'totp', digits: 8, secret }] });
    const reply = await browser.runtime.sendMessage({ type: 'otp.codes', at: 59_000 });
    await browser.runtime.sendMessage({ type: 'otp.delete', id: added.ids[0] });
    return reply.codes[added.ids[0]];
  });
  assert.equal(codes.code, '94287082');
  await popup.close();
});

test('enroll in the options page, then approve a sign-in started in this browser with one press', async () => {
  const options = await browser.openExtensionPage('options.html');
  await options.waitFor('body[data-ready="true"]');
  await options.fill('#link', server.link);
  await options.click('#add');
  await options.until(async () => (await options.text('#tokens')).includes('Demo Portal'), 'the token in the list');

  const login = await browser.open(`${server.url}/app`);
  await login.until(async () => (await login.url()) === `${server.url}/app/login`, 'the login page');
  await login.fill('#username', 'alice');
  await login.fill('#password', 'alice-demo');
  await login.click('button[type=submit]');
  await login.click('#push');
  await login.waitForText('Waiting for your approval…');
  const number = (await login.text('#number')).trim();
  assert.match(number, /^\d{2}$/);

  const popup = await browser.openExtensionPage('popup.html');
  await popup.waitForText('Started in this browser');
  await popup.click('#approve');
  await popup.waitForText('Approved. You are being signed in to Demo Portal.');

  await login.until(async () => (await login.url()) === `${server.url}/app`, 'the protected app');
  await login.waitForText('You are signed in as');
  await popup.close();
  await login.close();
  await options.close();
});
