// The popup in Firefox against the real server: each sign-in request arrives at the background
// page and is answered in the popup: number matching (the right number approves, a wrong one is
// refused), Deny then "No" or "Yes, Report", several requests paged with < >, and a
// PIN-protected token approved with its PIN. The same flows as the Chromium suite's
// tests/e2e/popup.test.mjs, driven through geckodriver (tests/support/firefox.mjs).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { enrollInOptions, launchFirefox } from '../support/firefox.mjs';
import { signIn, startServer } from '../support/server.mjs';

const COMMON = ['--deny-cooldown', '0', '--max-pending', '100'];

let browser;
let plain; // no number matching
let matching; // number matching
let pinned; // number matching and a PIN-protected token
before(async () => {
  [browser, plain, matching, pinned] = await Promise.all([
    launchFirefox(),
    startServer([...COMMON, '--no-number-matching']),
    startServer(COMMON),
    startServer([...COMMON, '--require-pin']),
  ]);
  await enrollInOptions(browser, plain.link, { count: 1 });
  await enrollInOptions(browser, matching.link, { count: 2 });
  await enrollInOptions(browser, pinned.link, { pin: '2468', count: 3 });
});
after(async () => {
  await browser?.close();
  await Promise.all([plain?.stop(), matching?.stop(), pinned?.stop()]);
});

/** A sign-in with the password, then "Use my mobile": the login and the number its page shows. */
async function push(server) {
  const login = await signIn(server.url, 'alice', 'alice-demo');
  const { status, body } = await login.push();
  assert.equal(status, 200, JSON.stringify(body));
  return { login, number: body.number };
}

/**
 * The popup in a tab, once it shows `count` waiting requests (each comes over the WebSocket to
 * the background page, which takes longer on a busy machine).
 */
async function openPopup(count = 1) {
  const popup = await browser.openExtensionPage('popup.html');
  const waiting = () => popup.evaluate(async () => Object.keys((await browser.storage.session.get('pending')).pending ?? {}).length);
  await popup.until(async () => (await waiting()) === count, `${count} waiting requests`, 30_000);
  if (count === 1) await popup.waitFor('#request:not([hidden]) #approve');
  else await popup.until(async () => (await popup.text('#position')) === `1 of ${count}`, `1 of ${count}`);
  return popup;
}

/** Waits until the login's state, as its page sees it, is `state`. */
async function settles(login, state) {
  const end = Date.now() + 10_000;
  for (;;) {
    const now = await login.state();
    if (now.state === state) return now;
    if (Date.now() > end) throw new Error(`the login stayed ${JSON.stringify(now)}, not ${state}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test('number matching: the right number approves, a wrong one is refused and said plainly', async () => {
  const { login, number } = await push(matching);
  const popup = await openPopup();
  await popup.waitForText('Pick the number shown on the sign-in page');
  assert.equal(await popup.enabled('#approve'), false, 'Approve waits for a number');
  await popup.clickText('#numbers button', String(number));
  assert.equal((await login.state()).state, 'waiting', 'picking sends nothing yet');
  await popup.click('#approve');
  await popup.waitForText('Approved. You are being signed in to Demo Portal.');
  await settles(login, 'approved');

  const first = await popup.evaluate(() => document.getElementById('request').dataset.id);
  const second = await push(matching);
  // The next request shown, with its own three numbers (not the last request's, still drawn).
  const choices = await popup.until(async () => {
    const shown = await popup.evaluate(() => ({
      id: document.getElementById('request').dataset.id,
      numbers: [...document.querySelectorAll('#numbers button')].filter((b) => b.checkVisibility()).map((b) => b.textContent.trim()),
    }));
    return shown.id !== first && shown.numbers.length === 3 && shown.numbers.includes(String(second.number)) ? shown.numbers : null;
  }, 'the numbers of the next request');
  const wrong = choices.find((n) => n !== String(second.number));
  await popup.clickText('#numbers button', wrong);
  await popup.click('#approve');
  await popup.waitForText('That was not the number on the sign-in page.');
  assert.deepEqual(await settles(second.login, 'rejected'), { state: 'rejected', reason: 'wrong_number', number: null });
  await popup.close();
});

test('Deny, then "No", denies; Deny, then "Yes, Report", reports', async () => {
  const first = await push(plain);
  let popup = await openPopup();
  await popup.click('#deny');
  await popup.click('#deny-only');
  await popup.waitForText('Denied. The sign-in to Demo Portal was refused.');
  assert.deepEqual(await settles(first.login, 'denied'), { state: 'denied', reason: null, number: null });
  await popup.close();

  const second = await push(plain);
  popup = await openPopup();
  await popup.click('#deny');
  await popup.click('#deny-report');
  await popup.waitForText('Reported. Your administrator has been told.');
  assert.deepEqual(await settles(second.login, 'denied'), { state: 'denied', reason: 'reported', number: null });
  await popup.close();
});

test('several requests, one at a time in the order they came, paged with < and >', async () => {
  const logins = [];
  for (let i = 0; i < 3; i++) logins.push((await push(plain)).login);
  const popup = await openPopup(3);
  assert.equal(await popup.enabled('#prev'), false);
  await popup.click('#next');
  assert.equal(await popup.text('#position'), '2 of 3');
  await popup.click('#next');
  assert.equal(await popup.text('#position'), '3 of 3');
  assert.equal(await popup.enabled('#next'), false);
  await popup.click('#prev');
  assert.equal(await popup.text('#position'), '2 of 3');
  // Answering the second leaves the first and the third waiting.
  await popup.click('#approve');
  await popup.until(async () => (await popup.text('#position')) === '2 of 2', '2 of 2');
  assert.deepEqual((await Promise.all(logins.map((l) => l.state()))).map((s) => s.state), ['waiting', 'approved', 'waiting']);
  for (let left = 2; left > 0; left--) {
    await popup.click('#deny');
    await popup.click('#deny-only');
    await popup.until(async () => (await Promise.all(logins.map((l) => l.state()))).filter((s) => s.state === 'denied').length === 3 - left, `${3 - left} denied`);
  }
  await popup.waitForText('No sign-in requests are waiting.');
  await popup.close();
});

test('a PIN-protected token: the number, then the PIN, approve', async () => {
  const { login, number } = await push(pinned);
  const popup = await openPopup();
  await popup.clickText('#numbers button', String(number));
  await popup.click('#approve');
  await popup.fill('#pin', '2468');
  await popup.click('#pin-ok');
  await popup.waitForText('Approved. You are being signed in to Demo Portal.');
  await settles(login, 'approved');
  await popup.close();
});
