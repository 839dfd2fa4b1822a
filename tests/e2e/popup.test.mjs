// The toolbar popup against the real server and the real service worker in Chromium: a person
// sees each push sign-in request (app, page, IP, place on the offline map, token, live times) and
// answers it: Approve, the number shown on the sign-in page, Deny or Report, a PIN first for
// PIN-protected tokens; pages through several requests; sees requests expire; and reads how each
// answer ended. Screenshots of the popup go to tests/artifacts/screenshots/ (not tracked);
// scripts/screenshots.sh copies them into docs/screenshots/ for the README.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { ROOT, launchWithExtension, openExtensionPage } from '../support/browser.mjs';
import { enroll, serviceWorkerControl, session, waitForSession } from '../support/extension.mjs';
import { signIn, startRelay, startServer } from '../support/server.mjs';

const GEOIP = path.join(ROOT, 'server/testdata/geoip/GeoIP2-City-Test.mmdb');
const SCREENSHOTS = path.join(ROOT, 'tests/artifacts/screenshots');
// Logins come "through a proxy" that names the client, so that the test GeoIP database places
// them; pushes are not limited, so that one server serves every test.
const COMMON = ['--geoip', GEOIP, '--trusted-proxy', '127.0.0.1', '--deny-cooldown', '0', '--max-pending', '100'];
const LONDON = '81.2.69.142';
const LINKOPING = '89.160.20.112';
const MILTON = '216.160.83.56';

let browser;
let helper; // an extension page for enrollment and storage reads
let dataDir;
let database;
let plain; // no number matching, a database file for the report list
let matching; // number matching
let pinned; // number matching and PIN-protected tokens, 4 tries (failures of one test still count in the next)
const tokens = {};

before(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'pushotp-popup-'));
  database = `sqlite://${path.join(dataDir, 'server.db')}`;
  [browser, plain, matching, pinned] = await Promise.all([
    launchWithExtension(),
    startServer([...COMMON, '--no-number-matching', '--database', database]),
    startServer(COMMON),
    startServer([...COMMON, '--require-pin', '--max-tries', '4']),
  ]);
  helper = await openExtensionPage(browser, 'popup.html');
  tokens.plain = await enroll(helper, plain.link);
  tokens.matching = await enroll(helper, matching.link);
  tokens.pinned = await enroll(helper, pinned.link, { pin: '2468' });
  await mkdir(SCREENSHOTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  await Promise.all([plain?.stop(), matching?.stop(), pinned?.stop()]);
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** The popup, as a tab the size of the toolbar popup. */
async function openPopup() {
  const popup = await openExtensionPage(browser, 'popup.html');
  await popup.setViewportSize({ width: 380, height: 600 });
  return popup;
}

/** A sign-in with the password, then "Use my mobile": the login and the number its page shows. */
async function push(server, forwardedFor) {
  const login = await signIn(server.url, 'alice', 'alice-demo', forwardedFor ? { forwardedFor } : {});
  const { status, body } = await login.push();
  assert.equal(status, 200, JSON.stringify(body));
  return { login, number: body.number };
}

/** Waits until the worker keeps `count` requests of `token`. */
function arrived(token, count = 1) {
  return waitForSession(helper, (s) => Object.values(s.pending ?? {}).filter((p) => p.request.tokenId === token.tokenId).length === count);
}

/** The id of the request the popup shows. */
const shown = (popup) => popup.locator('#request').getAttribute('data-id');

/** Waits for the outcome message of one request and returns its text. */
async function outcome(popup, requestId) {
  const box = popup.locator(`#outcomes .outcome[data-id="${requestId}"]`);
  await box.waitFor();
  return box.locator('p').textContent();
}

const text = (popup, id) => popup.locator(`#${id}`).textContent();

/**
 * A push request without place or numbers, tagged under `kReq` (base64url) as the protocol says
 * (docs/protocol.md §2, §4): what a server could send that the reference server never would.
 */
function signedRequest(fields, kReq) {
  const request = { v: 2, id: randomBytes(16).toString('base64url'), place: null, choices: null, nonce: randomBytes(16).toString('base64url'), ...fields };
  const frame = (bytes) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    return Buffer.concat([length, bytes]);
  };
  const str = (value) => frame(Buffer.from(value, 'utf8'));
  const u64 = (value) => {
    const bytes = Buffer.alloc(8);
    bytes.writeBigUInt64BE(BigInt(value));
    return frame(bytes);
  };
  const none = frame(Buffer.from([0]));
  const input = Buffer.concat([
    str('pushotp/1'), str('push-request'), frame(Buffer.from(request.id, 'base64url')), str(request.tokenId),
    str(request.app), str(request.origin), str(request.clientIp), none, u64(request.createdAt), u64(request.expiresAt),
    none, frame(Buffer.from(request.nonce, 'base64url')),
  ]);
  return { ...request, tag: createHmac('sha256', Buffer.from(kReq, 'base64url')).update(input).digest('base64url') };
}
const focused = (popup) => popup.evaluate(() => document.activeElement?.textContent?.trim() ?? '');

test('a request shows live: app, page, IP, place on the map, token and times; Approve signs in once', async () => {
  const popup = await openPopup();
  await popup.getByText('No sign-in requests are waiting.').waitFor();
  const { login } = await push(plain, LONDON);
  // No reopening: the request appears in the open popup.
  await popup.getByRole('heading', { name: 'Demo Portal', level: 2 }).waitFor();
  assert.equal(await text(popup, 'lead'), 'Sign-in to Demo Portal');
  const host = new URL(plain.url).host;
  assert.equal(await text(popup, 'origin'), host);
  assert.equal(await popup.locator('#origin').getAttribute('title'), plain.url);
  assert.equal(await text(popup, 'ip'), LONDON);
  assert.equal(await text(popup, 'place'), 'London, GB');
  await popup.getByRole('img', { name: 'Map showing London, GB' }).waitFor();
  assert.equal(await text(popup, 'account'), 'Demo Portal · alice');
  assert.equal(await text(popup, 'arrived'), 'just now');
  assert.match(await text(popup, 'expires'), /^expires in (2:00|1:5\d)$/);
  assert.ok(await popup.locator('#empty').isHidden());
  // One request: no pager.
  assert.ok(await popup.locator('#pager').isHidden());
  // The times run on their own.
  await popup.waitForFunction(() => /^\d+ s ago$/.test(document.getElementById('arrived').textContent), null, { timeout: 10_000 });
  assert.match(await text(popup, 'expires'), /^expires in 1:[45]\d$/);

  await popup.screenshot({ path: path.join(SCREENSHOTS, 'popup-light.png') });
  await popup.emulateMedia({ colorScheme: 'dark' });
  await popup.screenshot({ path: path.join(SCREENSHOTS, 'popup-dark.png') });
  // Dark really is dark.
  const background = await popup.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.equal(background, 'rgb(21, 25, 35)');
  await popup.emulateMedia({ colorScheme: 'light' });

  // A double click answers once: the buttons are disabled while the answer is on its way.
  const id = await shown(popup);
  await popup.getByRole('button', { name: 'Approve' }).dblclick();
  assert.equal(await outcome(popup, id), 'Approved. You are being signed in to Demo Portal.');
  assert.equal(await popup.locator('#outcomes .outcome').count(), 1);
  assert.deepEqual(await login.state(), { state: 'approved', reason: null, number: null });
  await popup.getByText('No sign-in requests are waiting.').waitFor();
  // The focus is on the message, not on anything that answers.
  assert.equal(await popup.evaluate(() => document.activeElement.getAttribute('aria-label')), 'Dismiss this message');
  await popup.keyboard.press('Enter');
  assert.equal(await popup.locator('#outcomes .outcome').count(), 0);
  // Dismissed for the worker too.
  await waitForSession(helper, (s) => Object.keys(s.outcomes ?? {}).length === 0);
  await popup.close();
});

test('number matching: the right number approves, a wrong one is refused and said plainly', async () => {
  const { login, number } = await push(matching, LINKOPING);
  await arrived(tokens.matching);
  const popup = await openPopup();
  await popup.getByText('Pick the number shown on the sign-in page').waitFor();
  assert.equal(await text(popup, 'place'), 'Linköping, SE');
  const choices = await popup.locator('#numbers button').allTextContents();
  assert.equal(choices.length, 3);
  assert.ok(choices.includes(String(number)));
  // Where to look, though no tab of that page is open here.
  assert.equal(await text(popup, 'where'), `The number is on the sign-in page of ${new URL(matching.url).host}.`);
  // The popup opens with the focus on the request's heading, not on an answer; Approve waits
  // for a number.
  assert.equal(await focused(popup), 'Demo Portal');
  assert.ok(await popup.getByRole('button', { name: 'Approve' }).isDisabled());
  const id = await shown(popup);
  await popup.getByRole('button', { name: String(number), exact: true }).click();
  // Picking sends nothing yet.
  assert.equal((await login.state()).state, 'waiting');
  await popup.screenshot({ path: path.join(SCREENSHOTS, 'popup-number-matching.png') });
  await popup.getByRole('button', { name: 'Approve' }).click();
  assert.equal(await outcome(popup, id), 'Approved. You are being signed in to Demo Portal.');
  assert.equal((await login.state()).state, 'approved');

  const second = await push(matching, LINKOPING);
  await popup.locator('#numbers button').first().waitFor();
  const wrong = (await popup.locator('#numbers button').allTextContents()).find((n) => n !== String(second.number));
  const secondId = await shown(popup);
  await popup.getByRole('button', { name: wrong, exact: true }).click();
  await popup.getByRole('button', { name: 'Approve' }).click();
  assert.match(await outcome(popup, secondId), /^That was not the number on the sign-in page\. The sign-in was refused; start it again\./);
  assert.deepEqual(await second.login.state(), { state: 'rejected', reason: 'wrong_number', number: null });
  await popup.close();
});

test('the keyboard: no answer has the focus, Enter answers nothing, digits pick, Approve sends', async () => {
  const { login, number } = await push(matching, LONDON);
  await arrived(tokens.matching);
  const popup = await openPopup();
  await popup.locator('#numbers button').first().waitFor();
  // The focus is on the request's heading: read out, answering nothing.
  const active = () => popup.evaluate(() => ({ id: document.activeElement.id, text: document.activeElement.textContent.trim() }));
  assert.deepEqual(await active(), { id: 'app', text: 'Demo Portal' });
  await popup.keyboard.press('Enter');
  await popup.keyboard.press('Space');
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal((await login.state()).state, 'waiting');
  const id = await shown(popup);
  assert.equal(await popup.locator(`#outcomes .outcome[data-id="${id}"]`).count(), 0);
  assert.ok((await waitForSession(helper, (s) => s.pending?.[id])).pending[id]);
  // Tab reaches the numbers; pressing one picks it and sends nothing.
  const choices = await popup.locator('#numbers button').allTextContents();
  await popup.keyboard.press('Tab');
  assert.equal(await focused(popup), choices[0]);
  await popup.keyboard.press('Enter');
  assert.equal(await popup.locator('#numbers button').first().getAttribute('aria-pressed'), 'true');
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal((await login.state()).state, 'waiting');
  // Typing the number picks it instead, and takes the focus to Approve.
  await popup.keyboard.type(String(number));
  const pressed = popup.locator('#numbers button[aria-pressed="true"]');
  assert.deepEqual(await pressed.allTextContents(), [String(number)]);
  assert.equal(await focused(popup), 'Approve');
  assert.equal((await login.state()).state, 'waiting');
  await popup.keyboard.press('Enter');
  assert.equal(await outcome(popup, id), 'Approved. You are being signed in to Demo Portal.');
  assert.equal((await login.state()).state, 'approved');

  // When the carousel moves, the focus goes to the heading of the request it shows.
  await push(matching, LONDON);
  await push(matching, LINKOPING);
  await popup.locator('#pager').waitFor();
  await popup.getByRole('button', { name: 'Deny' }).focus();
  await popup.keyboard.press('ArrowRight');
  assert.equal(await text(popup, 'place'), 'Linköping, SE');
  assert.equal((await active()).id, 'app');
  for (let i = 0; i < 2; i++) {
    await popup.getByRole('button', { name: 'Deny' }).click();
    await popup.getByRole('button', { name: 'No' }).click();
    await popup.locator('#deny-dialog').waitFor({ state: 'hidden' });
  }
  await popup.getByText('No sign-in requests are waiting.').waitFor();
  await popup.close();
});

test('Deny asks whether to report; going back answers nothing, "No" denies', async () => {
  const { login } = await push(plain);
  await arrived(tokens.plain);
  const popup = await openPopup();
  // Straight from 127.0.0.1: the test database has no place for it.
  assert.equal(await text(popup, 'place'), 'Location unknown');
  assert.equal(await popup.locator('#map svg').count(), 0);
  assert.equal(await focused(popup), 'Demo Portal');
  await popup.getByRole('button', { name: 'Deny' }).click();
  const dialog = popup.getByRole('dialog', { name: 'Report this as a sign-in you did not make?' });
  await dialog.waitFor();
  assert.equal(await focused(popup), 'No');
  // Escape goes back to the request without answering.
  await popup.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  assert.equal(await focused(popup), 'Deny');
  assert.equal((await login.state()).state, 'waiting');
  // So does Cancel.
  await popup.keyboard.press('Enter');
  await dialog.getByRole('button', { name: 'Cancel, back to the request' }).click();
  await dialog.waitFor({ state: 'hidden' });
  assert.equal((await login.state()).state, 'waiting');

  const id = await shown(popup);
  await popup.getByRole('button', { name: 'Deny' }).click();
  await dialog.getByRole('button', { name: 'No' }).click();
  assert.equal(await outcome(popup, id), 'Denied. The sign-in to Demo Portal was refused.');
  assert.deepEqual(await login.state(), { state: 'denied', reason: null, number: null });
  await popup.close();
});

test('Yes, Report refuses the sign-in and the administrator finds the report', async () => {
  const { login } = await push(plain, MILTON);
  await arrived(tokens.plain);
  const popup = await openPopup();
  const id = await shown(popup);
  await popup.getByRole('button', { name: 'Deny' }).click();
  await popup.getByRole('button', { name: 'Yes, Report' }).click();
  assert.match(await outcome(popup, id), /^Reported\. Your administrator has been told\./);
  assert.deepEqual(await login.state(), { state: 'denied', reason: 'reported', number: null });
  // What `pushotp-server report list` shows the administrator.
  const { stdout } = await promisify(execFile)(path.join(ROOT, 'target/debug/pushotp-server'), ['--database', database, 'report', 'list'], {
    env: { ...process.env, RUST_LOG: 'warn' },
  });
  assert.match(stdout, new RegExp(`user=alice token=${tokens.plain.tokenId} app="Demo Portal" origin=${plain.url} ip=${MILTON} place=Milton, US`));
  await popup.close();
});

test('several requests, one at a time in the order they came: < > buttons and arrow keys', async () => {
  const logins = [];
  for (const [i, ip] of [LONDON, LINKOPING, MILTON].entries()) {
    logins.push((await push(plain, ip)).login);
    await arrived(tokens.plain, i + 1);
  }
  const popup = await openPopup();
  const position = () => text(popup, 'position');
  await popup.locator('#pager').waitFor();
  assert.equal(await position(), '1 of 3');
  assert.equal(await popup.locator('#position').getAttribute('aria-live'), 'polite');
  assert.equal(await text(popup, 'ip'), LONDON);
  assert.ok(await popup.getByRole('button', { name: 'Previous request' }).isDisabled());
  await popup.getByRole('button', { name: 'Next request' }).click();
  assert.equal(await position(), '2 of 3');
  assert.equal(await text(popup, 'ip'), LINKOPING);
  await popup.keyboard.press('ArrowRight');
  assert.equal(await position(), '3 of 3');
  assert.equal(await text(popup, 'place'), 'Milton, US');
  assert.ok(await popup.getByRole('button', { name: 'Next request' }).isDisabled());
  await popup.keyboard.press('ArrowRight');
  assert.equal(await position(), '3 of 3');
  await popup.keyboard.press('ArrowLeft');
  assert.equal(await position(), '2 of 3');
  assert.equal(await text(popup, 'ip'), LINKOPING);

  // Answering the second moves on to the one after it.
  const id = await shown(popup);
  await popup.getByRole('button', { name: 'Approve' }).click();
  assert.match(await outcome(popup, id), /^Approved\./);
  await popup.waitForFunction(() => document.getElementById('position').textContent === '2 of 2');
  assert.equal(await text(popup, 'ip'), MILTON);
  assert.deepEqual((await Promise.all(logins.map((l) => l.state()))).map((s) => s.state), ['waiting', 'approved', 'waiting']);
  await popup.getByRole('button', { name: 'Previous request' }).click();
  assert.equal(await text(popup, 'ip'), LONDON);
  assert.equal(await position(), '1 of 2');
  for (const ip of [LONDON, MILTON]) {
    assert.equal(await text(popup, 'ip'), ip);
    const next = await shown(popup);
    await popup.getByRole('button', { name: 'Deny' }).click();
    await popup.getByRole('button', { name: 'No' }).click();
    assert.match(await outcome(popup, next), /^Denied\./);
  }
  await popup.getByText('No sign-in requests are waiting.').waitFor();
  assert.deepEqual((await Promise.all(logins.map((l) => l.state()))).map((s) => s.state), ['denied', 'approved', 'denied']);
  await popup.close();
});

test('only the latest outcome shows, with its time, under a waiting request, and not for long', async () => {
  const popup = await openPopup();
  const next = async (previous) => {
    await push(plain, LONDON);
    await popup.waitForFunction((previous) => {
      const request = document.getElementById('request');
      return !request.hidden && request.dataset.id && request.dataset.id !== previous;
    }, previous);
    return shown(popup);
  };
  const one = await next(null);
  await popup.getByRole('button', { name: 'Approve' }).click();
  assert.match(await outcome(popup, one), /^Approved\./);
  const two = await next(one);
  await popup.getByRole('button', { name: 'Deny' }).click();
  await popup.getByRole('button', { name: 'No' }).click();
  assert.match(await outcome(popup, two), /^Denied\./);
  // Only the latest, and when it was.
  assert.equal(await popup.locator('#outcomes .outcome').count(), 1);
  assert.equal(await popup.locator(`#outcomes .outcome[data-id="${two}"] time`).textContent(), 'just now');

  // A new request takes the popup: the message is a small line under it, Deny above the fold.
  const three = await next(two);
  const below = await popup.evaluate(
    () => document.getElementById('request').compareDocumentPosition(document.getElementById('outcomes')) & Node.DOCUMENT_POSITION_FOLLOWING,
  );
  assert.ok(below, 'the message is under the request');
  const deny = await popup.getByRole('button', { name: 'Deny' }).boundingBox();
  assert.ok(deny.y + deny.height <= 600, `Deny ends at ${deny.y + deny.height}`);
  await popup.screenshot({ path: path.join(SCREENSHOTS, 'popup-outcome-below.png') });

  // After a while the message fades, then goes; the worker forgets old outcomes. (The answers
  // are made older than they are, two's by `ms`, every other one's, earlier tests' too, by 15 min.)
  const age = (ms) =>
    helper.evaluate(
      async ({ two, ms }) => {
        const { outcomes } = await chrome.storage.session.get('outcomes');
        for (const [id, o] of Object.entries(outcomes)) o.at = Date.now() - (id === two ? ms : 15 * 60_000);
        await chrome.storage.session.set({ outcomes });
      },
      { two, ms },
    );
  await age(50_000);
  await popup.locator(`#outcomes .outcome.fading[data-id="${two}"]`).waitFor();
  await age(61_000);
  await popup.locator('#outcomes .outcome').waitFor({ state: 'detached' });
  await popup.getByRole('button', { name: 'Deny' }).click();
  await popup.getByRole('button', { name: 'No' }).click();
  assert.match(await outcome(popup, three), /^Denied\./);
  const kept = await waitForSession(helper, (s) => s.outcomes?.[three]);
  assert.equal(kept.outcomes[one], undefined);
  await popup.close();
});

test('a PIN-protected token: the PIN is asked after the number, checked, and never kept', async () => {
  const { login, number } = await push(pinned, LONDON);
  await arrived(tokens.pinned);
  const popup = await openPopup();
  const id = await shown(popup);
  await popup.getByRole('button', { name: String(number), exact: true }).click();
  await popup.getByRole('button', { name: 'Approve' }).click();
  const dialog = popup.getByRole('dialog', { name: 'Enter your PIN' });
  await dialog.waitFor();
  const field = popup.locator('#pin');
  assert.equal(await dialog.getByLabel('PIN', { exact: true }).getAttribute('id'), 'pin');
  assert.equal(await focused(popup), '');
  assert.equal(await popup.evaluate(() => document.activeElement.id), 'pin');
  assert.equal(await field.getAttribute('type'), 'password');
  assert.equal(await field.getAttribute('inputmode'), 'numeric');
  assert.equal(await field.getAttribute('autocomplete'), 'off');
  // Escape goes back without answering, and without keeping what was typed.
  await field.pressSequentially('99');
  await popup.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  assert.equal(await field.inputValue(), '');
  assert.equal((await login.state()).state, 'waiting');
  // Back on Approve, which opened the dialog; the number stays picked.
  assert.equal(await focused(popup), 'Approve');

  await popup.getByRole('button', { name: 'Approve' }).click();
  await field.pressSequentially('24a6b8');
  assert.equal(await field.inputValue(), '2468', 'digits only');
  // Records what the PIN prompt says while the PIN is checked.
  await popup.evaluate(() => {
    window.said = [];
    new MutationObserver(() => window.said.push(document.getElementById('pin-status').textContent)).observe(
      document.getElementById('pin-status'),
      { childList: true, characterData: true, subtree: true },
    );
  });
  await field.press('Enter');
  assert.equal(await outcome(popup, id), 'Approved. You are being signed in to Demo Portal.');
  assert.ok((await popup.evaluate(() => window.said)).includes('Checking…'));
  assert.equal(await field.inputValue(), '');
  assert.equal((await login.state()).state, 'approved');
  await popup.close();
});

test('a PIN-protected token is denied without its PIN', async () => {
  const { login } = await push(pinned);
  await arrived(tokens.pinned);
  const popup = await openPopup();
  const id = await shown(popup);
  await popup.getByRole('button', { name: 'Deny' }).click();
  await popup.getByRole('button', { name: 'No' }).click();
  assert.match(await outcome(popup, id), /^Denied\./);
  assert.ok(await popup.getByRole('dialog', { name: 'Enter your PIN' }).isHidden());
  assert.equal((await login.state()).state, 'denied');
  await popup.close();
});

test('a wrong PIN keeps the sign-in: the popup says how many tries are left and asks again in place', async () => {
  // The real login page, which waits for the approval.
  const tab = await browser.context.newPage();
  await tab.goto(`${pinned.url}/app/login`);
  await tab.getByLabel('Username').fill('alice');
  await tab.getByLabel('Password').fill('alice-demo');
  await tab.getByRole('button', { name: 'Sign in' }).click();
  await tab.getByRole('button', { name: 'Use my mobile to autosend a password' }).click();
  await tab.getByTestId('match-number').filter({ hasText: /^\s*\d{2}\s*$/ }).waitFor();
  const number = (await tab.getByTestId('match-number').textContent()).trim();
  const waitingAt = tab.url();

  // Started in this browser: no number to pick, only the PIN.
  assert.match(number, /^\d{2}$/);
  const popup = await openPopup();
  await popup.getByText('Started in this browser').waitFor();
  await popup.getByRole('button', { name: 'Approve' }).click();
  const dialog = popup.getByRole('dialog', { name: 'Enter your PIN' });
  const field = popup.getByLabel('PIN', { exact: true });
  await field.fill('1111');
  await field.press('Enter');
  // Counted by the server, said in the dialog, which asks again; nothing else ended.
  await popup.locator('#pin-tried', { hasText: 'Wrong PIN — 3 tries left. Type it again.' }).waitFor();
  assert.ok(await dialog.isVisible());
  assert.equal(await popup.evaluate(() => document.activeElement.id), 'pin');
  assert.equal(await field.inputValue(), '');
  // Read out with the field.
  assert.equal(await field.getAttribute('aria-describedby'), 'pin-tried');
  const id = await shown(popup);
  assert.equal(await popup.locator(`#outcomes .outcome[data-id="${id}"]`).count(), 0);
  assert.equal((await session(helper)).pending[id].tried.triesLeft, 3);
  assert.equal(await text(popup, 'tried'), 'Wrong PIN — 3 tries left. Approve to type it again.');
  await popup.screenshot({ path: path.join(SCREENSHOTS, 'popup-wrong-pin.png') });
  assert.equal(tab.url(), waitingAt);
  assert.ok(await tab.getByTestId('match-number').isVisible());

  // The right PIN, typed again: the same login page signs in.
  await field.fill('2468');
  await field.press('Enter');
  assert.equal(await outcome(popup, id), 'Approved. You are being signed in to Demo Portal.');
  await tab.waitForURL(`${pinned.url}/app`);
  await tab.getByText('You are signed in as').waitFor();
  await tab.close();
  await popup.close();
});

test('wrong PINs on one request: the tries left each time, and the last one locks the token', async () => {
  const popup = await openPopup();
  const { login, number } = await push(pinned, LONDON);
  await popup.getByRole('button', { name: String(number), exact: true }).click();
  const id = await shown(popup);
  await popup.getByRole('button', { name: 'Approve' }).click();
  const field = popup.getByLabel('PIN', { exact: true });
  // The wrong PIN of the test before still counts: a right approval forgives no failure.
  for (const left of ['2 tries left', '1 try left']) {
    await field.fill('1111');
    await field.press('Enter');
    await popup.locator('#pin-tried', { hasText: `Wrong PIN — ${left}. Type it again.` }).waitFor();
    assert.equal((await login.state()).state, 'waiting');
  }
  // Put off: the request says it, and Approve asks again with the same words.
  await popup.keyboard.press('Escape');
  await popup.getByText('Wrong PIN — 1 try left. Approve to type it again.').waitFor();
  await popup.screenshot({ path: path.join(SCREENSHOTS, 'popup-wrong-pin-request.png') });
  await popup.getByRole('button', { name: 'Approve' }).click();
  await popup.locator('#pin-tried', { hasText: 'Wrong PIN — 1 try left. Type it again.' }).waitFor();
  await field.fill('1111');
  await field.press('Enter');
  assert.equal(await outcome(popup, id), 'This token is locked after too many wrong PINs. Ask your administrator to unlock it.');
  assert.ok(await popup.getByRole('dialog', { name: 'Enter your PIN' }).isHidden());
  assert.equal((await login.state()).state, 'locked');
  // The server sends no more requests to a locked token.
  const again = await signIn(pinned.url, 'alice', 'alice-demo');
  assert.equal((await again.push()).status, 409);
  await popup.close();
});

test('two tokens of one account: the popup and the options tell them apart by when each was added', async () => {
  const file = `sqlite://${path.join(dataDir, 'twins.db')}`;
  const server = await startServer(['--no-number-matching', '--database', file]);
  const added = [await enroll(helper, server.link)];
  try {
    // A second activation link for alice, from the administrator's command line, redeemed in
    // the same browser under the same name a second later.
    const { stdout } = await promisify(execFile)(
      path.join(ROOT, 'target/debug/pushotp-server'),
      ['--database', file, 'token', 'enroll', 'alice', '--public-url', server.url],
      { env: { ...process.env, RUST_LOG: 'warn' } },
    );
    await new Promise((resolve) => setTimeout(resolve, 1100));
    added.push(await enroll(helper, stdout.match(/pushotp:\/\/enroll\?\S+/)[0]));
    assert.equal(added[0].deviceName, added[1].deviceName);

    // One push reaches both: each request names its token apart.
    await push(server);
    for (const token of added) await arrived(token);
    const popup = await openPopup();
    await popup.locator('#pager').waitFor();
    const accounts = [];
    for (const _ of added) {
      accounts.push(await text(popup, 'account'));
      await popup.keyboard.press('ArrowRight');
    }
    for (const account of accounts) assert.match(account, /^Demo Portal · alice · added \S/);
    assert.notEqual(accounts[0], accounts[1]);
    await popup.screenshot({ path: path.join(SCREENSHOTS, 'popup-two-tokens.png') });
    await popup.close();

    // The options page's list says when each was added.
    const options = await openExtensionPage(browser, 'options.html');
    const items = options.getByRole('list', { name: 'Push tokens' }).getByRole('listitem').filter({ hasText: server.url });
    await items.nth(1).waitFor();
    const dates = await items.locator('.token-added').allTextContents();
    assert.equal(dates.length, 2);
    assert.notEqual(dates[0], dates[1]);
    assert.deepEqual(accounts.map((a) => a.split(' · added ')[1]).sort(), [...dates].sort());
    await items.nth(1).scrollIntoViewIfNeeded();
    await options.screenshot({ path: path.join(SCREENSHOTS, 'options-two-tokens.png') });
    await options.close();
  } finally {
    for (const { tokenId } of added) await helper.evaluate((tokenId) => chrome.runtime.sendMessage({ type: 'token.remove', tokenId }), tokenId);
    await server.stop();
  }
});

test('a request that expires leaves the popup with a message', async () => {
  const short = await startServer(['--no-number-matching', '--request-ttl', '4']);
  const token = await enroll(helper, short.link);
  try {
    const popup = await openPopup();
    await push(short);
    await popup.getByRole('button', { name: 'Approve' }).waitFor();
    const id = await shown(popup);
    assert.match(await text(popup, 'expires'), /^expires in 0:0[1-4]$/);
    assert.equal(await outcome(popup, id), 'The sign-in request from Demo Portal expired before it was answered.');
    await popup.getByText('No sign-in requests are waiting.').waitFor();
    assert.ok(await popup.locator('#request').isHidden());
    await waitForSession(helper, (s) => !Object.keys(s.pending ?? {}).length);
    await popup.close();
  } finally {
    // Removed before its server stops, so that the worker does not keep calling it.
    await helper.evaluate((tokenId) => chrome.runtime.sendMessage({ type: 'token.remove', tokenId }), token.tokenId);
    await short.stop();
  }
});

let relayPort;
test('an answer that cannot reach the server is said so, and the request can be answered again', async () => {
  const relay = await startRelay();
  relayPort = new URL(relay.url).port;
  const server = await startServer(['--no-number-matching', '--public-url', relay.url]);
  relay.to(server.url);
  const token = await enroll(helper, server.link);
  try {
    const { login } = await push(server);
    await arrived(token);
    const popup = await openPopup();
    const id = await shown(popup);
    relay.cut();
    await popup.getByRole('button', { name: 'Approve' }).click();
    assert.match(await outcome(popup, id), /^The server could not be reached, so the answer was not delivered\./);
    // Still there, and answerable.
    assert.ok(await popup.getByRole('button', { name: 'Approve' }).isEnabled());
    assert.equal((await login.state()).state, 'waiting');
    relay.restore();
    await popup.getByRole('button', { name: 'Approve' }).click();
    await popup.locator(`#outcomes .outcome[data-id="${id}"]`, { hasText: 'Approved.' }).waitFor();
    assert.equal((await login.state()).state, 'approved');
    await popup.close();
  } finally {
    await helper.evaluate((tokenId) => chrome.runtime.sendMessage({ type: 'token.remove', tokenId }), token.tokenId);
    await server.stop();
    await relay.close();
  }
});

test('a request that arrives while the popup is open takes no stray key press as an answer', async () => {
  const first = await push(plain, LONDON);
  await arrived(tokens.plain);
  const popup = await openPopup();
  await popup.locator('#request[data-id]').waitFor();
  const active = () => popup.evaluate(() => document.activeElement.id);
  assert.equal(await active(), 'app');
  const second = await push(plain, LINKOPING);
  await arrived(tokens.plain, 2);
  // The popup shows that it came (the pager) before the keys are pressed.
  await popup.locator('#pager:not([hidden])').waitFor();
  assert.equal(await active(), 'app');
  for (const key of ['Enter', 'Space', 'Enter']) await popup.keyboard.press(key);
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal((await first.login.state()).state, 'waiting');
  assert.equal((await second.login.state()).state, 'waiting');
  const pending = Object.keys((await session(helper)).pending);
  assert.equal(pending.length, 2);
  for (const requestId of pending) {
    assert.equal(await popup.locator(`#outcomes .outcome[data-id="${requestId}"]`).count(), 0);
  }
  for (const requestId of pending) {
    await helper.evaluate((id) => chrome.runtime.sendMessage({ type: 'request.answer', requestId: id, decision: 'deny' }), requestId);
  }
  await waitForSession(helper, (s) => Object.keys(s.pending ?? {}).length === 0);
  await popup.close();
});

test('text that hides characters never shows; the registrable domain of the page stands out', async () => {
  const control = await serviceWorkerControl(browser, helper);
  const now = Math.floor(Date.now() / 1000);
  // Tagged under the token's key, so that only the text rule can refuse them; gone in 8 s.
  const forge = (app, origin) => signedRequest({ tokenId: tokens.plain.tokenId, app, origin, clientIp: LONDON, createdAt: now, expiresAt: now + 8 }, tokens.plain.keys.request);
  // A right-to-left override: "Payroll \u202Emoc.knab" reads "Payroll bank.com".
  const spoofed = forge('Payroll \u202Emoc.knab', 'https://payroll.example');
  const lookalike = forge('Bank', 'https://login.bank.com.evil.example');
  await control.push(JSON.stringify({ type: 'push', request: spoofed }));
  await control.push(JSON.stringify({ type: 'push', request: lookalike }));
  await waitForSession(helper, (s) => s.pending?.[lookalike.id]);
  const popup = await openPopup();
  await popup.getByRole('heading', { name: 'Bank', level: 2 }).waitFor();
  assert.equal(await text(popup, 'origin'), 'login.bank.com.evil.example');
  assert.deepEqual(await popup.locator('#origin strong').allTextContents(), ['evil.example']);
  const s = await session(helper);
  assert.deepEqual(Object.keys(s.pending), [lookalike.id]);
  assert.equal(s.outcomes?.[spoofed.id], undefined);
  assert.ok(await popup.locator('#pager').isHidden());
  await waitForSession(helper, (x) => !x.pending?.[lookalike.id], 15_000);
  await popup.close();
});

test('no console errors, apart from the worker\'s connections refused while the relay was cut', () => {
  const unexpected = browser.errors.filter(
    (e) => !(relayPort && e.startsWith('service worker:') && (e.includes(`127.0.0.1:${relayPort}/`) || /ERR_CONNECTION_(REFUSED|RESET)|ERR_EMPTY_RESPONSE/.test(e))),
  );
  assert.deepEqual(unexpected, []);
});
