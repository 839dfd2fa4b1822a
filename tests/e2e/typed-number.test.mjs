// A server that asks for the sign-in page's number to be typed (`--number-matching type`): the
// popup offers no numbers to pick, only a labelled two-digit field, and Approve waits for both
// digits; the keyboard alone types and sends it. The right number signs in, a wrong one is
// refused and ends the sign-in, and the notification's button approves nothing. The real
// extension in Chromium against the real server.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchWithExtension, openExtensionPage } from '../support/browser.mjs';
import { enroll, session, waitForSession } from '../support/extension.mjs';
import { signIn, startServer } from '../support/server.mjs';

let browser;
let helper; // an extension page for enrollment and storage reads
let server;
let token;
const seen = new Set(); // the ids of the requests the tests pushed so far

before(async () => {
  [browser, server] = await Promise.all([
    launchWithExtension(),
    startServer(['--number-matching', 'type', '--deny-cooldown', '0', '--max-pending', '100']),
  ]);
  helper = await openExtensionPage(browser, 'popup.html');
  token = await enroll(helper, server.link);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** A sign-in with the password, then "Use my mobile": the login and the number its page shows. */
async function push() {
  const login = await signIn(server.url, 'alice', 'alice-demo');
  const { status, body } = await login.push();
  assert.equal(status, 200, JSON.stringify(body));
  assert.equal(typeof body.number, 'number', 'the page shows a number');
  const fresh = (s) => Object.values(s.pending ?? {}).map((p) => p.request).find((r) => r.tokenId === token.tokenId && !seen.has(r.id));
  const request = fresh(await waitForSession(helper, fresh));
  seen.add(request.id);
  return { login, number: body.number, request };
}

/** The popup, as a tab the size of the toolbar popup, showing a request. */
async function openPopup() {
  const popup = await openExtensionPage(browser, 'popup.html');
  await popup.setViewportSize({ width: 380, height: 600 });
  await popup.locator('#request:not([hidden])').waitFor();
  return popup;
}

/** Waits for the outcome message of one request and returns its text. */
async function outcome(popup, requestId) {
  const box = popup.locator(`#outcomes .outcome[data-id="${requestId}"]`);
  await box.waitFor();
  return box.locator('p').textContent();
}

const active = (popup) => popup.evaluate(() => ({ id: document.activeElement?.id ?? '', text: document.activeElement?.textContent?.trim() ?? '' }));

test('the number is typed with the keyboard: Approve waits for two digits, then signs in', async () => {
  const { login, number, request } = await push();
  assert.equal(request.choices, null);
  assert.equal(request.numberEntry, 'type');
  const popup = await openPopup();
  const field = popup.getByLabel('Type the number shown on the sign-in page');
  await field.waitFor();
  assert.equal(await popup.locator('#numbers button').count(), 0, 'no numbers to pick');
  assert.equal(await popup.locator('#where').textContent(), `The number is on the sign-in page of ${new URL(server.url).host}.`);
  const approve = popup.getByRole('button', { name: 'Approve' });
  assert.ok(await approve.isDisabled());
  // The focus is on the request's heading; Enter answers nothing.
  assert.equal((await active(popup)).id, 'app');
  await popup.keyboard.press('Enter');
  // Digits typed anywhere go into the field; letters never do; one digit is not enough.
  const [first, second] = String(number);
  await popup.keyboard.type(first);
  assert.equal((await active(popup)).id, 'typed-number');
  await popup.keyboard.type('x');
  assert.equal(await field.inputValue(), first);
  assert.ok(await approve.isDisabled());
  await popup.keyboard.press('Enter');
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal((await login.state()).state, 'waiting');
  await popup.keyboard.type(second);
  assert.equal(await field.inputValue(), String(number));
  assert.ok(await approve.isEnabled());
  // Typing sends nothing: Tab reaches Approve, and Enter there sends the number.
  assert.equal((await login.state()).state, 'waiting');
  await popup.keyboard.press('Tab');
  assert.equal((await active(popup)).text, 'Approve');
  await popup.keyboard.press('Enter');
  assert.equal(await outcome(popup, request.id), 'Approved. You are being signed in to Demo Portal.');
  assert.equal((await login.state()).state, 'approved');
  await popup.close();
});

test('a wrong typed number is refused and ends the sign-in', async () => {
  const { login, number, request } = await push();
  const popup = await openPopup();
  const field = popup.getByLabel('Type the number shown on the sign-in page');
  await field.fill(String(number === 99 ? 10 : number + 1));
  await popup.getByRole('button', { name: 'Approve' }).click();
  assert.match(await outcome(popup, request.id), /^That was not the number on the sign-in page\. The sign-in was refused; start it again\./);
  assert.deepEqual(await login.state(), { state: 'rejected', reason: 'wrong_number', number: null });
  await popup.close();
});

test('only 10 to 99 can be typed: anything else is marked invalid, keeps Approve disabled and sends nothing', async () => {
  const { login, number, request } = await push();
  const popup = await openPopup();
  const field = popup.getByLabel('Type the number shown on the sign-in page');
  const approve = popup.getByRole('button', { name: 'Approve' });
  const hint = popup.locator('#typed-hint');
  // A leading 0 can never become a number of the sign-in page: said at once.
  await field.focus();
  await popup.keyboard.type('0');
  assert.equal(await field.getAttribute('aria-invalid'), 'true');
  assert.equal(await hint.textContent(), 'The number on the sign-in page has two digits, from 10 to 99.');
  assert.ok(await hint.isVisible());
  assert.ok(await approve.isDisabled());
  await popup.keyboard.type('5');
  assert.equal(await field.inputValue(), '05');
  assert.equal(await field.getAttribute('aria-invalid'), 'true');
  assert.ok(await approve.isDisabled());
  await popup.keyboard.press('Enter');
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal((await login.state()).state, 'waiting', 'nothing was sent');
  assert.ok((await session(helper)).pending[request.id], 'still waiting');
  // One digit of a number that can still be right is not invalid, only unfinished.
  await field.fill('');
  await popup.keyboard.type(String(number)[0]);
  assert.equal(await field.getAttribute('aria-invalid'), 'false');
  assert.ok(await hint.isHidden());
  assert.ok(await approve.isDisabled());
  await popup.keyboard.type(String(number)[1]);
  assert.equal(await field.getAttribute('aria-invalid'), 'false');
  await approve.click();
  assert.equal(await outcome(popup, request.id), 'Approved. You are being signed in to Demo Portal.');
  assert.equal((await login.state()).state, 'approved');
  await popup.close();
});

test('the notification\'s button approves nothing where the number is typed', async () => {
  const { login, request } = await push();
  const outcomeOfButton = await browser.worker.evaluate((id) => globalThis.pushotp.onNotificationButton(id, 0), `request:${request.id}`);
  assert.equal(outcomeOfButton, null);
  assert.ok((await session(helper)).pending[request.id], 'still waiting');
  assert.equal((await login.state()).state, 'waiting');
  for (const page of browser.context.pages()) if (page.url().endsWith('/extension/popup.html') && page !== helper) await page.close();
  assert.deepEqual(browser.errors, []);
});
