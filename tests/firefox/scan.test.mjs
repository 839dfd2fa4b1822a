// Scanning a QR code in Firefox: signed in to the demo app with a first token, the person opens
// "Add a push authenticator", clicks PushOTP's toolbar button on that tab, and scans its QR code
// from the options page. The server's site, granted with the first token, is not asked for
// again (Firefox refuses to ask outside a click, and the scan's link is read after one), and the
// page that showed the code confirms the token with the code both pages show.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { enrollInOptions, launchFirefox } from '../support/firefox.mjs';
import { startServer } from '../support/server.mjs';

let browser;
let server;
before(async () => {
  [browser, server] = await Promise.all([launchFirefox(), startServer()]);
  await enrollInOptions(browser, server.link);
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test('a second token is added from the QR code of the app\'s page in the tab the toolbar button was clicked on', async () => {
  const app = await browser.open(`${server.url}/app`);
  await app.fill('#username', 'alice');
  await app.fill('#password', 'alice-demo');
  await app.click('button[type=submit]');
  await app.click('#push');
  await app.waitForText('Waiting for your approval…');
  const popup = await browser.openExtensionPage('popup.html');
  await popup.click('#approve');
  await app.waitForText('You are signed in as');
  await popup.close();

  await app.click('form[action="/app/enroll"] button');
  await app.waitFor('[data-testid="enroll-qr"] svg');
  await browser.clickToolbarButton(app);
  const options = await browser.openExtensionPage('options.html');
  await options.waitFor('body[data-ready="true"]');
  await options.click('#scan');
  await options.waitForText('Added Demo Portal for alice at Demo Org.', 30_000);
  assert.equal(await options.count('#tokens > li'), 2);
  const code = (await options.text('#add-confirm strong')).trim();
  await app.until(async () => (await app.text('#code')).trim() === code, 'the same code on the enrollment page');
  await app.click('#confirm');
  await app.until(async () => /^Confirmed\./.test(await app.text('#status')), 'Confirmed');
  await options.close();
  await app.close();
});
