// A push token added from the app's own "Add a push authenticator" page is confirmed there
// (docs/protocol.md §3, "Confirming an enrollment"): the options page and the app's page show
// the same comparison code, the token gets no push until the person presses Confirm on the page
// that showed the link, and from then on it approves sign-ins.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { launchWithExtension, openExtensionPage } from '../support/browser.mjs';
import { otherDevice, poll } from '../support/device.mjs';
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

/** Signs alice in on the app's login page; returns the page and the number it shows. */
async function startSignIn() {
  await browser.context.clearCookies();
  const login = await browser.context.newPage();
  await login.goto(`${server.url}/app`);
  await login.getByLabel('Username').fill('alice');
  await login.getByLabel('Password').fill('alice-demo');
  await login.getByRole('button', { name: 'Sign in' }).click();
  await login.getByRole('button', { name: 'Use my mobile to autosend a password' }).click();
  await login.getByTestId('match-number').filter({ hasText: /^\s*\d{2}\s*$/ }).waitFor();
  return { login, number: (await login.getByTestId('match-number').textContent()).trim() };
}

/**
 * Approves the only request the popup shows, started in this browser (no number to pick: the
 * login page is here); waits for the app.
 */
async function approve(login, tokenName) {
  const popup = await openExtensionPage(browser, 'popup.html');
  await popup.getByRole('heading', { name: tokenName }).waitFor();
  await popup.getByText('Started in this browser').waitFor();
  await popup.getByRole('button', { name: 'Approve' }).click();
  await login.waitForURL(`${server.url}/app`);
  await popup.close();
}

test('the options page and the page that showed the link show one code; Confirm makes pushes reach the token', async () => {
  // alice's first token, from an administrator's link: active at once.
  const options = await openExtensionPage(browser, 'options.html');
  await options.getByLabel('Activation link').fill(server.link);
  await options.getByRole('button', { name: 'Add', exact: true }).click();
  await options.getByRole('list', { name: 'Push tokens' }).getByRole('listitem').filter({ hasText: 'Demo Portal' }).waitFor();
  const first = Object.values((await options.evaluate(() => chrome.storage.local.get('pushTokens'))).pushTokens)[0];
  const { login } = await startSignIn();
  await approve(login, 'Demo Portal');

  // Signed in, she adds a second authenticator from the app.
  await login.getByRole('button', { name: 'Add a push authenticator' }).click();
  await login.getByTestId('enroll-qr').locator('svg').waitFor();
  assert.match(await login.locator('main').textContent(), /It works once, for 10 minutes\./);
  const link = await login.getByTestId('enroll-link').inputValue();
  await options.bringToFront();
  await options.getByLabel('Name of this browser').fill('Second profile');
  await options.getByLabel('Activation link').fill(link);
  await options.getByRole('button', { name: 'Add', exact: true }).click();
  await options.locator('#add-status.ok').waitFor();
  const told = options.getByTestId('add-confirm');
  assert.match(await told.textContent(), /^If the page that showed the link asks you to confirm, check that it shows \d{3} \d{3} before you confirm\./);
  const code = (await told.locator('strong').textContent()).trim();

  // The app's page learned of the redemption and shows the same code, and the device's name.
  await login.getByTestId('enroll-code').filter({ hasText: /\d{3} \d{3}/ }).waitFor();
  assert.equal((await login.getByTestId('enroll-code').textContent()).trim(), code);
  assert.equal(await login.getByTestId('enroll-device').textContent(), 'Second profile');
  // The name is the device's own word for itself (anyone who redeems the link chooses it), and
  // a device that shows no number, or says the link was used, is not the one to confirm.
  const compare = await login.locator('#compare').textContent();
  assert.match(compare.replace(/\s+/g, ' '), /a device that calls itself “Second profile”/);
  assert.match(compare.replace(/\s+/g, ' '), /If your authenticator shows no number, or says the link was already used, choose It does not match\./);
  assert.equal(await login.getByTestId('enroll-qr').isVisible(), false, 'the QR code is gone');

  // Until confirmed the server makes nothing for it: its polls (which a device makes for all
  // its tokens of a server at once) answer, with nothing (server/tests/enrollment.rs shows
  // that a waiting sign-in's push does not reach it either).
  const tokens = Object.values((await options.evaluate(() => chrome.storage.local.get('pushTokens'))).pushTokens);
  const second = tokens.find((t) => t.tokenId !== first.tokenId);
  assert.equal(second.confirmCode, undefined, 'the code is not stored');
  assert.deepEqual((await poll(second)).requests, []);

  await login.getByRole('button', { name: 'Confirm' }).click();
  await login.getByTestId('enroll-status').filter({ hasText: /^Confirmed\./ }).waitFor();
  assert.equal(await login.getByRole('button', { name: 'Confirm' }).isVisible(), false);

  // Now a sign-in pushes to both tokens, and the second one's copy reaches the server's poll
  // and the popup.
  await login.close();
  const again = await startSignIn();
  const { requests } = await poll(second);
  assert.equal(requests.length, 1);
  assert.equal(requests[0].tokenId, second.tokenId);
  const popup = await openExtensionPage(browser, 'popup.html');
  // Started in this browser: shown with its tab, no number to pick.
  assert.match(again.number, /^\d{2}$/);
  await popup.getByText('Started in this browser').first().waitFor();
  await popup.close();
  await again.login.close();
  assert.deepEqual(browser.errors, []);
});

/**
 * A server on a database file that the test can change, alice's phone holding its first token,
 * and a page of the app signed in with an approval from that phone.
 */
async function signedInWithPhone(dir) {
  const file = path.join(dir, 'server.db');
  const own = await startServer([], { database: file });
  const phone = await otherDevice(own.link, 'Phone');
  await browser.context.clearCookies();
  const page = await browser.context.newPage();
  await page.goto(`${own.url}/app`);
  await page.getByLabel('Username').fill('alice');
  await page.getByLabel('Password').fill('alice-demo');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Use my mobile to autosend a password' }).click();
  const shown = page.getByTestId('match-number').filter({ hasText: /^\s*\d{2}\s*$/ });
  await shown.waitFor();
  const [request] = await phone.pending();
  assert.equal((await phone.approve(request, Number(await shown.textContent()))).status, 'approved');
  await page.waitForURL(`${own.url}/app`);
  /** Runs `sql` on the server's database. */
  const sql = (statement) => promisify(execFile)('sqlite3', [file, statement]);
  return { own, page, sql };
}

test('the page keeps following its link: a server error does not stop it, and a token nobody confirmed in time ends in its own words', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'pushotp-enroll-'));
  const { own, page, sql } = await signedInWithPhone(dir);
  try {
    // The server fails the page's first question about the link (a restart, a proxy's 502).
    let failed = 0;
    await page.route('**/app/enroll/status?*', (route) => (failed++ < 1 ? route.fulfill({ status: 502, body: 'Bad Gateway' }) : route.continue()));
    await page.getByRole('button', { name: 'Add a push authenticator' }).click();
    const link = await page.getByTestId('enroll-link').inputValue();
    const tokenId = await page.locator('#enroll').getAttribute('data-token');
    await otherDevice(link, 'Tablet');
    await page.getByTestId('enroll-code').filter({ hasText: /\d{3} \d{3}/ }).waitFor();
    assert.ok(failed >= 1, 'the server error was answered');

    // Nobody confirms: the page, still following, says so once the confirmation ends.
    await sql(`UPDATE tokens SET activation_expires_at = 1 WHERE id = '${tokenId}'`);
    const status = page.getByTestId('enroll-status');
    await status.filter({ hasText: /./ }).waitFor();
    assert.match(await status.textContent(), /^Nobody confirmed the code in time/);
    assert.doesNotMatch(await status.textContent(), /before it was used/);
    assert.equal(await page.getByRole('button', { name: 'Confirm' }).isVisible(), false);
    // The browser notes the failed answer in the console; nothing else is logged.
    assert.deepEqual(browser.errors.filter((e) => !/status of 502/.test(e)), []);
  } finally {
    await page.close();
    await own.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
