// The service worker against the real server in real Chromium: requests arrive by socket, poll
// and Web Push, are checked before they are kept, counted on the badge and announced; the
// notification's buttons answer where no number and no PIN are needed; an approval's sign-in
// code (the server's, never the approval's passcode) lands in the login page of the request's
// origin and nowhere else; expired and forged requests
// never stay; a stopped worker comes back.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ROOT, launchWithExtension, openExtensionPage } from '../support/browser.mjs';
import { badge, enroll, recordNotifications, serviceWorkerControl, session, waitForSession, workerConsole } from '../support/extension.mjs';
import { signIn, startRelay, startServer } from '../support/server.mjs';
import * as core from '../../extension/pkg/pushotp.js';

core.initSync({ module: await readFile(path.join(ROOT, 'extension/pkg/pushotp_bg.wasm')) });

let browser;
let page;
let plain; // no number matching, no PIN: the notification may approve
let pinned; // PIN-protected tokens
let plainToken;
let pinnedToken;
before(async () => {
  [browser, plain, pinned] = await Promise.all([
    launchWithExtension(),
    startServer(['--no-number-matching', '--deny-cooldown', '0']),
    startServer(['--no-number-matching', '--require-pin', '--deny-cooldown', '0']),
  ]);
  page = await openExtensionPage(browser, 'popup.html');
  plainToken = await enroll(page, plain.link);
  pinnedToken = await enroll(page, pinned.link, { pin: '2468' });
});
after(async () => {
  await browser?.close();
  await Promise.all([plain?.stop(), pinned?.stop()]);
});

const onlyRequest = (s) => Object.values(s.pending ?? {}).length === 1;
const requestOf = async () => Object.values((await session(page)).pending)[0].request;

/** Opens the demo login page in a tab and signs in with the password, as a person does. */
async function loginPage(server, host = '127.0.0.1') {
  const tab = await browser.context.newPage();
  await tab.goto(`${server.url.replace('127.0.0.1', host)}/app/login`);
  await tab.getByLabel('Username').fill('alice');
  await tab.getByLabel('Password').fill('alice-demo');
  await tab.getByRole('button', { name: 'Sign in' }).click();
  await tab.getByRole('button', { name: 'Use my mobile to autosend a password' }).waitFor();
  return tab;
}

/** Remembers in the tab's session storage what is typed or filled into the passcode field. */
function recordPasscode(tab) {
  return tab.evaluate(() =>
    document.getElementById('passcode').addEventListener('input', (e) => {
      sessionStorage.filled = e.target.value;
    }),
  );
}

test('a push is checked, kept, counted on the badge and announced', async () => {
  const login = await signIn(plain.url, 'alice', 'alice-demo');
  assert.equal((await login.push()).status, 200);
  const s = await waitForSession(page, onlyRequest);
  const [{ request, via }] = Object.values(s.pending);
  assert.equal(via, 'socket');
  assert.equal(request.tokenId, plainToken.tokenId);
  assert.equal(request.app, 'Demo Portal');
  assert.equal(await badge(page), '1');
  // The worker announces the request right after keeping and counting it.
  let shown = {};
  for (let i = 0; i < 50 && !shown[`request:${request.id}`]; i++) {
    if (i) await new Promise((resolve) => setTimeout(resolve, 100));
    shown = await page.evaluate(() => chrome.notifications.getAll());
  }
  assert.ok(shown[`request:${request.id}`], JSON.stringify(shown));
  // Deny from the notification's second button: no popup needed.
  const outcome = await browser.worker.evaluate((id) => globalThis.pushotp.onNotificationButton(id, 1), `request:${request.id}`);
  assert.equal(outcome.status, 'denied');
  const after = await waitForSession(page, (x) => !Object.keys(x.pending).length);
  assert.equal(after.outcomes[request.id].status, 'denied');
  assert.equal(await badge(page), '');
});

test('Approve on the notification signs in, and the sign-in code lands only in the page of the request\'s origin', async () => {
  const tab = await loginPage(plain);
  // The same login page under another origin (cookies ignore ports, so another host name).
  const elsewhere = await loginPage(plain, 'localhost');
  await recordPasscode(tab);
  await recordPasscode(elsewhere);
  // A login page that completes only with the filled code (it does not follow the approval's
  // event stream), and the person asked for the form to be submitted after the fill.
  await tab.route('**/auth/events', (route) => route.fulfill({ status: 200, contentType: 'text/event-stream', body: '' }));
  await page.evaluate(async () => {
    const { settings = {} } = await chrome.storage.local.get('settings');
    await chrome.storage.local.set({ settings: { ...settings, autoSubmit: true } });
  });
  const before = (await page.evaluate(() => chrome.storage.local.get('pushTokens'))).pushTokens[plainToken.tokenId];
  await tab.getByRole('button', { name: 'Use my mobile to autosend a password' }).click();
  await waitForSession(page, onlyRequest);
  const request = await requestOf();
  assert.equal(request.origin, plain.url);
  const outcome = await browser.worker.evaluate((id) => globalThis.pushotp.onNotificationButton(id, 0), `request:${request.id}`);
  assert.equal(outcome.status, 'approved');
  await tab.waitForURL(`${plain.url}/app`);
  await tab.getByText('You are signed in as').waitFor();
  // What the page got is the server's sign-in code (the page signed in with it alone), not the
  // approval's passcode.
  const passcode = core.pushPasscode(plainToken.keys.otp, 'SHA1', 6, request.id);
  const filled = await tab.evaluate(() => sessionStorage.filled);
  assert.match(filled, /^\d{6}$/);
  assert.notEqual(filled, passcode);
  assert.equal(await elsewhere.evaluate(() => sessionStorage.filled ?? null), null);
  assert.equal(await elsewhere.locator('#passcode').inputValue(), '');
  // Nothing about the token moved.
  const stored = (await page.evaluate(() => chrome.storage.local.get('pushTokens'))).pushTokens[plainToken.tokenId];
  assert.deepEqual(stored, before);
  await tab.close();
  await elsewhere.close();
  await page.evaluate(async () => {
    const { settings } = await chrome.storage.local.get('settings');
    await chrome.storage.local.set({ settings: { ...settings, autoSubmit: false } });
  });
});

test('a PIN-protected request is not approved from the notification', async () => {
  const login = await signIn(pinned.url, 'alice', 'alice-demo');
  await login.push();
  await waitForSession(page, onlyRequest);
  const request = await requestOf();
  assert.equal(request.tokenId, pinnedToken.tokenId);
  const popups = () =>
    page.evaluate(async () => (await chrome.runtime.getContexts({})).filter((c) => c.documentUrl?.endsWith('/extension/popup.html')).length);
  const before = await popups();
  const outcome = await browser.worker.evaluate((id) => globalThis.pushotp.onNotificationButton(id, 0), `request:${request.id}`);
  assert.equal(outcome, null);
  // Still waiting, and the popup (or a window with it) was opened for the PIN.
  assert.ok((await session(page)).pending[request.id]);
  assert.equal(await popups(), before + 1);
  // Without the PIN the worker refuses to approve at all; a denial needs none.
  const refused = await page.evaluate((requestId) => chrome.runtime.sendMessage({ type: 'request.answer', requestId, decision: 'approve' }), request.id);
  assert.equal(refused.error.code, 'pin_required');
  const denied = await page.evaluate((requestId) => chrome.runtime.sendMessage({ type: 'request.answer', requestId, decision: 'deny' }), request.id);
  assert.equal(denied.outcome.status, 'denied');
  for (const p of browser.context.pages()) if (p.url().endsWith('/extension/popup.html') && p !== page) await p.close();
});

test('the notification\'s first button says what it does: Approve, or opening the popup to choose the number or enter the PIN', async () => {
  // Servers of its own: the others' pushes are limited per person.
  const [direct, matching] = await Promise.all([startServer(['--no-number-matching']), startServer()]);
  const added = [await enroll(page, direct.link), await enroll(page, matching.link)];
  // What the worker asks of the notifications API, as it asks it.
  const notice = await recordNotifications(browser);
  try {
    const buttons = async (server) => {
      const login = await signIn(server.url, 'alice', 'alice-demo');
      assert.equal((await login.push()).status, 200);
      await waitForSession(page, onlyRequest);
      const request = await requestOf();
      const id = `request:${request.id}`;
      const options = await notice(id);
      await page.evaluate((requestId) => chrome.runtime.sendMessage({ type: 'request.answer', requestId, decision: 'deny' }), request.id);
      await waitForSession(page, (s) => !Object.keys(s.pending ?? {}).length);
      return options.buttons.map((b) => b.title);
    };
    assert.deepEqual(await buttons(direct), ['Approve', 'Deny']);
    assert.deepEqual(await buttons(matching), ['Choose the number…', 'Deny']);
    assert.deepEqual(await buttons(pinned), ['Enter PIN…', 'Deny']);
  } finally {
    for (const { tokenId } of added) await page.evaluate((tokenId) => chrome.runtime.sendMessage({ type: 'token.remove', tokenId }), tokenId);
    await Promise.all([direct.stop(), matching.stop()]);
  }
});

test('forged, unknown and replayed requests never show', async () => {
  const control = await serviceWorkerControl(browser, page);
  const login = await signIn(plain.url, 'alice', 'alice-demo');
  await login.push();
  await waitForSession(page, onlyRequest);
  const genuine = await requestOf();
  const deliver = (request) => control.push(JSON.stringify({ type: 'push', request }));
  const heard = workerConsole(browser);
  await deliver({ ...genuine, id: 'AAAAAAAAAAAAAAAAAAAAAA', app: 'Payroll' });
  await deliver({ ...genuine, id: 'BBBBBBBBBBBBBBBBBBBBBA', tokenId: 'tok_unknown' });
  await deliver(genuine);
  await control.push('not json');
  // The worker says it dropped each of the three, then nothing new is kept.
  await heard.until(/^warning: PushOTP: dropped a request that failed its check: .* \(webpush\)$/);
  await heard.until(/^warning: PushOTP: dropped a request for an unknown token \(webpush\)$/);
  await heard.until(/^warning: PushOTP: dropped a push message that is not JSON$/);
  heard.stop();
  const s = await session(page);
  assert.deepEqual(Object.keys(s.pending), [genuine.id]);
  assert.equal(await badge(page), '1');
  await page.evaluate((requestId) => chrome.runtime.sendMessage({ type: 'request.answer', requestId, decision: 'deny' }), genuine.id);
});

test('a request replayed after it was answered, or after it expired, never shows again', async () => {
  const control = await serviceWorkerControl(browser, page);
  const deliver = (request) => control.push(JSON.stringify({ type: 'push', request }));
  const heard = workerConsole(browser);
  // Answered: denied here, then the same signed request comes again.
  const login = await signIn(plain.url, 'alice', 'alice-demo');
  await login.push();
  await waitForSession(page, onlyRequest);
  const answered = await requestOf();
  await page.evaluate((requestId) => chrome.runtime.sendMessage({ type: 'request.answer', requestId, decision: 'deny' }), answered.id);
  await waitForSession(page, (s) => !Object.keys(s.pending ?? {}).length);
  await deliver(answered);
  // Messages are handled in order: once a forged one after it is dropped, the replay was handled.
  await deliver({ ...answered, id: 'CCCCCCCCCCCCCCCCCCCCCA', app: 'Payroll' });
  await heard.until(/^warning: PushOTP: dropped a request that failed its check: .* \(webpush\)$/);
  assert.deepEqual(Object.keys((await session(page)).pending), []);
  assert.equal(await badge(page), '');
  // Expired: kept until its time ran out, then the same request comes again.
  const short = await startServer(['--no-number-matching', '--request-ttl', '2']);
  try {
    await enroll(page, short.link);
    const late = await signIn(short.url, 'alice', 'alice-demo');
    await late.push();
    await waitForSession(page, onlyRequest);
    const expired = await requestOf();
    await waitForSession(page, (x) => x.outcomes?.[expired.id]?.status === 'expired', 6_000);
    await deliver(expired);
    await deliver({ ...expired, id: 'DDDDDDDDDDDDDDDDDDDDDA', app: 'Payroll' });
    await heard.until(/^warning: PushOTP: dropped a request that failed its check: .* \(webpush\)$/, 3);
    const s = await session(page);
    assert.deepEqual(Object.keys(s.pending), []);
    assert.equal(s.outcomes[expired.id].status, 'expired');
    assert.equal(await badge(page), '');
  } finally {
    heard.stop();
    await short.stop();
  }
});

test('an expired request is removed', async () => {
  const short = await startServer(['--no-number-matching', '--request-ttl', '2']);
  try {
    await enroll(page, short.link);
    const login = await signIn(short.url, 'alice', 'alice-demo');
    await login.push();
    const s = await waitForSession(page, onlyRequest);
    const [id] = Object.keys(s.pending);
    const gone = await waitForSession(page, (x) => !x.pending[id], 6_000);
    assert.equal(gone.outcomes[id].status, 'expired');
    assert.equal(await badge(page), '');
    // Its notification goes right after it.
    let shown = { [`request:${id}`]: true };
    for (let i = 0; i < 50 && shown[`request:${id}`]; i++) {
      if (i) await new Promise((resolve) => setTimeout(resolve, 100));
      shown = await page.evaluate(() => chrome.notifications.getAll());
    }
    assert.equal(shown[`request:${id}`], undefined);
  } finally {
    await short.stop();
  }
});

test('a Web Push message shows up like a socket one, and a stopped worker comes back for the next push', async () => {
  // The server is reached through a relay the test can cut, as a network going away would.
  const relay = await startRelay();
  const server = await startServer(['--no-number-matching', '--public-url', relay.url]);
  relay.to(server.url);
  try {
    const token = await enroll(page, server.link);
    const control = await serviceWorkerControl(browser, page);
    relay.cut();
    await control.stop();
    // Sent while the worker is stopped and its server unreachable: only Web Push gets through.
    const login = await signIn(server.url, 'alice', 'alice-demo');
    await login.push();
    const at = Math.floor(Date.now() / 1000);
    const polled = await fetch(`${server.url}/api/v1/devices/pending`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tokens: [{ tokenId: token.tokenId, at, tag: core.signedAt('poll', token.keys.channel, token.tokenId, at) }] }),
    });
    const [request] = (await polled.json()).requests;
    await control.push(JSON.stringify({ type: 'push', request }));
    const s = await waitForSession(page, (x) => x.pending?.[request.id]);
    assert.equal(s.pending[request.id].via, 'webpush');
    assert.equal(await badge(page), '1');
    relay.restore();
    const outcome = await browser.worker.evaluate((id) => globalThis.pushotp.onNotificationButton(id, 0), `request:${request.id}`);
    assert.equal(outcome.status, 'approved');

    // Stopped again: the watchdog alarm (every 30 s) revives it, and the socket brings the next push.
    await control.stop();
    const next = await signIn(server.url, 'alice', 'alice-demo');
    await next.push();
    const revived = await waitForSession(page, (x) => Object.values(x.pending ?? {}).some((p) => p.request.tokenId === token.tokenId), 40_000);
    const [{ via }] = Object.values(revived.pending).filter((p) => p.request.tokenId === token.tokenId);
    assert.ok(['socket', 'poll'].includes(via), via);
  } finally {
    await server.stop();
    await relay.close();
  }
});

test('no console errors apart from the connections refused while the relay was cut', () => {
  const unexpected = browser.errors.filter((e) => !/WebSocket connection to 'ws:\/\/127\.0\.0\.1:\d+\/api\/v1\/devices\/ws' failed|ERR_CONNECTION_REFUSED|ERR_CONNECTION_RESET|ERR_EMPTY_RESPONSE/.test(e));
  assert.deepEqual(unexpected, []);
});
