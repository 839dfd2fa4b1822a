// A phishing relay: a site of another origin (`localhost`) passes the real login page (of the
// server at `127.0.0.1`) on, so that a person who signs in there gets a real push for the relay's
// sign-in, with the real number on the relayed page. The extension reads the login page's binding
// only on the request's origin, so it finds none: the popup warns that the sign-in did not start
// in this browser, the approval is unbound, and a server that takes only bound approvals
// (`--require-same-browser`) refuses it and signs nobody in. The same sign-in on the real origin
// is bound, approved with one click, and signs in.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ROOT, launchWithExtension, openExtensionPage } from '../support/browser.mjs';
import { enroll } from '../support/extension.mjs';
import { startPhishingRelay, startServer } from '../support/server.mjs';

const SHOTS = path.join(ROOT, 'tests/artifacts/screenshots');
const UNBOUND = 'This sign-in did not start in this browser';

let browser;
/** The server that takes only bound approvals, and one that takes any, each with its log. */
let strict;
let lenient;

/** A server with its log kept, at the level where each audit record is a line. */
async function serverWithLog(args) {
  const lines = [];
  const server = await startServer(args, { log: 'info', onOutput: (text) => lines.push(text) });
  return { server, log: () => lines.join('') };
}

before(async () => {
  [browser, strict, lenient] = await Promise.all([
    launchWithExtension(),
    serverWithLog(['--require-same-browser']),
    serverWithLog([]),
  ]);
  const page = await openExtensionPage(browser, 'options.html');
  await enroll(page, strict.server.link);
  await enroll(page, lenient.server.link);
  await page.close();
});
after(async () => {
  await browser?.close();
  await Promise.all([strict?.server.stop(), lenient?.server.stop()]);
});

/**
 * Signs alice in at `site` (the server itself, or a relay in front of it) up to the push: the
 * login tab and the number it shows.
 */
async function pushFrom(site) {
  await browser.context.clearCookies();
  const login = await browser.context.newPage();
  await login.goto(`${site}/app/login`);
  await login.getByLabel('Username').fill('alice');
  await login.getByLabel('Password').fill('alice-demo');
  await login.getByRole('button', { name: 'Sign in' }).click();
  await login.getByRole('button', { name: 'Use my mobile to autosend a password' }).click();
  await login.getByTestId('match-number').filter({ hasText: /^\s*\d{2}\s*$/ }).waitFor();
  return { login, number: (await login.getByTestId('match-number').textContent()).trim() };
}

/** The audit lines of `event` in a server's log. */
const audited = (log, event) => log.split('\n').filter((line) => line.includes('audit') && line.includes(`"${event}"`));

test('a relayed sign-in is unbound: the popup warns, and a server that requires the same browser refuses it and signs nobody in', async () => {
  const relay = await startPhishingRelay(strict.server.url);
  try {
    const { login, number } = await pushFrom(relay.url);
    const popup = await openExtensionPage(browser, 'popup.html');
    await popup.getByText(UNBOUND).waitFor();
    await popup.setViewportSize({ width: 380, height: 640 });
    await popup.screenshot({ path: path.join(SHOTS, 'popup-unbound.png') });
    // Unbound: the number is asked for as ever, and reporting is the prominent choice.
    assert.ok(await popup.locator('#bound').isHidden());
    await popup.getByRole('button', { name: number, exact: true }).click();
    await popup.getByRole('button', { name: 'Approve' }).click();
    await popup.getByText('This sign-in must be approved from the browser you are signing in with.').waitFor();

    // The relayed page is told, and its sign-in opened nothing.
    await login.getByText('Approve from the browser you are signing in with').waitFor();
    await login.goto(`${relay.url}/app`);
    await login.waitForURL(`${relay.url}/app/login`);
    const log = strict.log();
    assert.equal(audited(log, 'push_approved').length, 0, log);
    assert.match(audited(log, 'push_rejected').join('\n'), / unbound/);
    assert.equal(audited(log, 'token_locked').length, 0);
    await Promise.all([login.close(), popup.close()]);
  } finally {
    await relay.close();
  }
  assert.deepEqual(browser.errors, []);
});

test('by default a relayed approval is taken but audited unbound, and the same sign-in on the real origin is bound and needs one click', async () => {
  const relay = await startPhishingRelay(lenient.server.url);
  try {
    const { login, number } = await pushFrom(relay.url);
    const popup = await openExtensionPage(browser, 'popup.html');
    await popup.getByText(UNBOUND).waitFor();
    await popup.getByRole('button', { name: number, exact: true }).click();
    await popup.getByRole('button', { name: 'Approve' }).click();
    await login.waitForURL(`${relay.url}/app`);
    assert.match(audited(lenient.log(), 'push_approved').join('\n'), / unbound/);
    await Promise.all([login.close(), popup.close()]);
  } finally {
    await relay.close();
  }

  // The person at the real login page: bound, approved without the number.
  const { login } = await pushFrom(lenient.server.url);
  const popup = await openExtensionPage(browser, 'popup.html');
  await popup.getByText('Started in this browser').waitFor();
  assert.ok(await popup.locator('#unbound').isHidden());
  await popup.setViewportSize({ width: 380, height: 640 });
  await popup.screenshot({ path: path.join(SHOTS, 'popup-bound.png') });
  await popup.getByRole('button', { name: 'Approve' }).click();
  await login.waitForURL(`${lenient.server.url}/app`);
  await login.getByText('You are signed in as').waitFor();
  const approvals = audited(lenient.log(), 'push_approved');
  assert.equal(approvals.length, 2);
  assert.match(approvals[1], / bound"?/);
  assert.doesNotMatch(approvals[1], /unbound/);
  await Promise.all([login.close(), popup.close()]);
  assert.deepEqual(browser.errors, []);
});
