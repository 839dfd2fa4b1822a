// The whole journey a person makes, in the real pages: add the token in the options page from
// the activation link, sign in on the organization's login page with the password, choose
// "Use my mobile to autosend a password", approve in the popup with one press (the sign-in started
// in this browser: the popup names its tab, and no number is asked for), and land signed in on
// the protected app without typing a code.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ROOT, launchWithExtension, openExtensionPage } from '../support/browser.mjs';
import { startServer } from '../support/server.mjs';

let browser;
let server;
before(async () => {
  [browser, server] = await Promise.all([launchWithExtension(), startServer()]);
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

/**
 * The login page in a new tab: username, password, "Use my mobile to autosend a password", and
 * the number it shows. Returns the page and the number.
 */
async function startSignIn() {
  // Signed out: the demo app's session cookie goes.
  await browser.context.clearCookies();
  const login = await browser.context.newPage();
  await login.goto(`${server.url}/app`);
  await login.waitForURL(`${server.url}/app/login`);
  await login.getByLabel('Username').fill('alice');
  await login.getByLabel('Password').fill('alice-demo');
  await login.getByRole('button', { name: 'Sign in' }).click();
  await login.getByRole('button', { name: 'Use my mobile to autosend a password' }).click();
  // The page says whether the push went out or why not.
  const status = login.locator('#status');
  await status.filter({ hasNotText: /^Sending/ }).filter({ hasText: /\S/ }).waitFor();
  assert.equal(await status.textContent(), 'Waiting for your approval…');
  await login.getByTestId('match-number').filter({ hasText: /^\s*\d{2}\s*$/ }).waitFor();
  const number = (await login.getByTestId('match-number').textContent()).trim();
  assert.match(number, /^\d{2}$/);
  return { login, number };
}

test('enroll in the options page, then approve a sign-in started in this browser with one press', async () => {
  const options = await openExtensionPage(browser, 'options.html');
  await options.getByLabel('Activation link').fill(server.link);
  await options.getByRole('button', { name: 'Add', exact: true }).click();
  await options.getByRole('list', { name: 'Push tokens' }).getByRole('listitem').filter({ hasText: 'Demo Portal' }).waitFor();

  const { login, number } = await startSignIn();

  const popup = await openExtensionPage(browser, 'popup.html');
  await popup.getByText('Started in this browser').waitFor();
  assert.equal(await popup.getByRole('heading', { name: 'Demo Portal' }).count(), 1);
  // It names the login page's tab; the page's number is not asked for.
  assert.equal(await popup.locator('#bound-title').textContent(), `“${await login.title()}”`);
  assert.match(number, /^\d{2}$/);
  assert.ok(await popup.getByText('Pick the number shown on the sign-in page').isHidden());
  await popup.setViewportSize({ width: 380, height: 600 });
  await popup.screenshot({ path: path.join(ROOT, 'tests/artifacts/screenshots/popup-started-here.png') });
  await popup.getByRole('button', { name: 'Approve' }).click();
  await popup.getByText('Approved. You are being signed in to Demo Portal.').waitFor();

  await login.waitForURL(`${server.url}/app`);
  await login.getByText('You are signed in as').waitFor();
  assert.match(await login.locator('body').textContent(), /signed in as\s*alice/);
  // Nothing is left waiting, and the badge is clear.
  assert.equal(await popup.evaluate(() => chrome.action.getBadgeText({})), '');
  await Promise.all([login.close(), popup.close()]);
  assert.deepEqual(browser.errors, []);
});

test('signing in again and again within a minute works: approved sign-ins do not count toward the push limit', async () => {
  // The server's default limit is 3 pushes per person within a request lifetime (120 s); these
  // sign-ins, one after the other, are more than that.
  for (let round = 1; round <= 4; round++) {
    const { login } = await startSignIn();
    const popup = await openExtensionPage(browser, 'popup.html');
    await popup.getByText('Started in this browser').waitFor();
    await popup.getByRole('button', { name: 'Approve' }).click();
    await login.waitForURL(`${server.url}/app`);
    await login.getByText('You are signed in as').waitFor();
    await Promise.all([login.close(), popup.close()]);
  }
  assert.deepEqual(browser.errors, []);
});

test('a denied sign-in is over: the login page says so and offers to sign in again with the password', async () => {
  const { login } = await startSignIn();
  const popup = await openExtensionPage(browser, 'popup.html');
  await popup.getByRole('button', { name: 'Deny' }).click();
  await popup.getByRole('button', { name: 'No' }).click();
  await popup.getByText('Denied. The sign-in to Demo Portal was refused.').waitFor();

  // Neither another push nor a passcode is offered for this sign-in.
  const status = login.locator('#status');
  await status.getByRole('link', { name: 'Sign in again' }).waitFor();
  assert.equal(await status.textContent(), 'The request was denied on your authenticator. This sign-in has ended. Sign in again.');
  assert.ok(await login.getByRole('button', { name: 'Use my mobile to autosend a password' }).isHidden());
  assert.ok(await login.getByLabel('Or enter the sign-in code your authenticator filled in').isHidden());
  await status.getByRole('link', { name: 'Sign in again' }).click();
  await login.waitForURL(`${server.url}/app/login`);
  // Coming back to it later says the same, on the password form, once.
  await login.goto(`${server.url}/auth`);
  await login.getByText('This sign-in has ended: it was denied on your authenticator. Sign in again to continue.').waitFor();
  await login.getByLabel('Password').waitFor();
  await login.goto(`${server.url}/auth`);
  await login.waitForURL(`${server.url}/app/login`);
  await Promise.all([login.close(), popup.close()]);
  assert.deepEqual(browser.errors, []);
});
