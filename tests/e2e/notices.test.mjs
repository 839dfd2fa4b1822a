// What a token's server says about the person's account reaches them at once: wrong passcodes
// typed at the sign-in page past the free ones (someone who knows the password is guessing),
// and another authenticator added. The real extension in Chromium against the real server: a
// notification, and a line on the token in the options page, also for a notice made while the
// worker was stopped. A notice that does not verify shows nothing.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { launchWithExtension, openExtensionPage } from '../support/browser.mjs';
import { otherDevice } from '../support/device.mjs';
import { enroll, serviceWorkerControl, session, waitForSession, workerConsole } from '../support/extension.mjs';
import { signIn, startServer } from '../support/server.mjs';

// What "at once" allows: the notice is sent in the step that causes it.
const AT_ONCE = 5_000;
// Wrong typed passcodes before passcodes wait (server/src/signin.rs, PASSCODE_FREE).
const FREE = 5;

let browser;
let dataDir;
let server;
let helper; // an extension page for enrollment and storage reads
let token; // the extension's token

before(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'pushotp-notices-'));
  [browser, server] = await Promise.all([
    launchWithExtension(),
    // Room for the pushes of every test within one request lifetime.
    startServer(['--max-pending', '10'], { database: path.join(dataDir, 'server.db') }),
  ]);
  helper = await openExtensionPage(browser, 'popup.html');
  token = await enroll(helper, server.link);
  // Notices are told only as they happen: wait until the extension's socket is up, which a
  // request that arrives over it shows.
  const login = await signIn(server.url, 'alice', 'alice-demo');
  assert.equal((await login.push()).status, 200);
  await waitForSession(helper, (s) => Object.values(s.pending ?? {}).some((p) => p.via === 'socket'));
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** Waits until the worker shows notification `id`. */
async function untilNotification(id, timeout = AT_ONCE) {
  const end = Date.now() + timeout;
  for (;;) {
    const ids = Object.keys(await helper.evaluate(() => chrome.notifications.getAll()));
    if (ids.includes(id)) return;
    if (Date.now() > end) throw new Error(`timed out; notifications: ${JSON.stringify(ids)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The options page's line on the token for notices of `kind`, once it shows. */
async function line(kind) {
  const options = await openExtensionPage(browser, 'options.html');
  const found = options.locator(`li[data-token-id="${token.tokenId}"] .token-notice[data-kind="${kind}"]`);
  await found.waitFor();
  return { options, text: await found.textContent() };
}

/** A typed passcode at the organization's login page; the status of the answer. */
async function typePasscode(login, passcode) {
  const reply = await fetch(`${server.url}/auth/passcode`, {
    method: 'POST',
    headers: { cookie: login.cookie },
    body: new URLSearchParams({ passcode }),
    redirect: 'manual',
  });
  return reply.status;
}

test('wrong passcodes typed for the account: a notification and a line on the token', async () => {
  const login = await signIn(server.url, 'alice', 'alice-demo');
  for (let i = 0; i < FREE; i++) assert.equal(await typePasscode(login, '000000'), 401);
  // Typos alarm nobody.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const ids = Object.keys(await helper.evaluate(() => chrome.notifications.getAll()));
  assert.ok(!ids.some((id) => id.startsWith('notice:')), JSON.stringify(ids));
  // One more, and passcodes wait: the person is told.
  assert.equal(await typePasscode(login, '000000'), 401);
  await untilNotification(`notice:${token.tokenId}:wrong_passcodes`);
  const { options, text } = await line('wrong_passcodes');
  assert.match(
    text,
    /^Wrong passcodes were typed for alice at Demo Org on .+\. Whoever typed them knows your password: change it\. Typed passcodes wait for now; sign-ins you approve here still work\.$/,
  );
  await options.close();
  assert.deepEqual(browser.errors, []);
});

test('a new authenticator added to the account: a notification and a line on the token', async () => {
  await otherDevice(await server.enrollLink('alice'));
  await untilNotification(`notice:${token.tokenId}:authenticator_added`);
  const { options, text } = await line('authenticator_added');
  assert.match(
    text,
    /^A new authenticator was added to alice at Demo Org on .+\. If this was not you, change your password and tell Demo Org\.$/,
  );
  await options.close();
  assert.deepEqual(browser.errors, []);
});

test('a notice that does not verify shows nothing', async () => {
  await helper.evaluate(() => chrome.notifications.getAll().then((all) => Promise.all(Object.keys(all).map((id) => chrome.notifications.clear(id)))));
  const before = (await local()).pushTokens[token.tokenId].notices;
  // A notice of a later time, tagged under a key that is not the token's, by Web Push.
  const forged = { v: 2, tokenId: token.tokenId, kind: 'authenticator_added', at: Math.floor(Date.now() / 1000) + 60, tag: 'A'.repeat(43) };
  const worker = await serviceWorkerControl(browser, helper);
  const heard = workerConsole(browser);
  await worker.push(JSON.stringify({ type: 'notice', notice: forged }));
  // The worker says it ignored the notice; then nothing shows.
  await heard.until(new RegExp(`^warning: PushOTP: ignored a notice about token ${token.tokenId} that does not verify$`));
  heard.stop();
  const ids = Object.keys(await helper.evaluate(() => chrome.notifications.getAll()));
  assert.deepEqual(ids.filter((id) => id.startsWith('notice:')), []);
  assert.deepEqual((await local()).pushTokens[token.tokenId].notices, before);
  assert.deepEqual(browser.errors, []);
});

test('a notice made while the worker was stopped shows once it starts again', async () => {
  await helper.evaluate(() => chrome.notifications.getAll().then((all) => Promise.all(Object.keys(all).map((id) => chrome.notifications.clear(id)))));
  const worker = await serviceWorkerControl(browser, helper);
  await worker.stop();
  // A second later than the last one of its kind, which the token keeps.
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  await otherDevice(await server.enrollLink('alice'), 'Tablet');
  // Any page's message starts the worker, which polls and logs in again.
  const options = await openExtensionPage(browser, 'options.html');
  await untilNotification(`notice:${token.tokenId}:authenticator_added`, 10_000);
  const kept = (await local()).pushTokens[token.tokenId].notices.authenticator_added;
  assert.ok(Date.now() - kept < 10_000, `kept ${new Date(kept).toISOString()}`);
  await options.close();
  assert.deepEqual(browser.errors, []);
});

test('a link someone else redeemed first: the person\'s failed try does not hide their notice', async () => {
  await helper.evaluate(() => chrome.notifications.getAll().then((all) => Promise.all(Object.keys(all).map((id) => chrome.notifications.clear(id)))));
  // The worker is stopped when someone who saw the link redeems it: the notice waits on the
  // server until the worker logs in again, which the person's own try with the link starts.
  const worker = await serviceWorkerControl(browser, helper);
  await worker.stop();
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  const link = await server.enrollLink('alice');
  await otherDevice(link, 'Tablet');
  const reply = await helper.evaluate((link) => chrome.runtime.sendMessage({ type: 'token.enroll', link, deviceName: 'Test browser' }), link);
  assert.equal(reply.error?.code, 'link_used', JSON.stringify(reply));
  // That try added nothing here: the notice is about someone else's authenticator.
  await untilNotification(`notice:${token.tokenId}:authenticator_added`, 10_000);
  const kept = (await local()).pushTokens[token.tokenId];
  assert.notEqual(kept.ownNotices?.authenticator_added, kept.notices.authenticator_added);
  assert.deepEqual(browser.errors, []);
});

test('an authenticator this browser adds itself is no news: kept, not shown', async () => {
  await helper.evaluate(() => chrome.notifications.getAll().then((all) => Promise.all(Object.keys(all).map((id) => chrome.notifications.clear(id)))));
  // A second push token of the same account, added here: the server tells the first one.
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  const before = (await local()).pushTokens[token.tokenId].notices.authenticator_added;
  await enroll(helper, await server.enrollLink('alice'));
  const end = Date.now() + AT_ONCE;
  while ((await local()).pushTokens[token.tokenId].notices.authenticator_added === before) {
    assert.ok(Date.now() < end, 'the notice never came');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const kept = (await local()).pushTokens[token.tokenId];
  assert.equal(kept.ownNotices?.authenticator_added, kept.notices.authenticator_added);
  const ids = Object.keys(await helper.evaluate(() => chrome.notifications.getAll()));
  assert.deepEqual(ids.filter((id) => id.startsWith('notice:')), []);
  const options = await openExtensionPage(browser, 'options.html');
  await options.locator('body[data-ready]').waitFor();
  const shown = options.locator(`li[data-token-id="${token.tokenId}"] .token-notice[data-kind="authenticator_added"]`);
  assert.equal(await shown.isVisible(), false);
  await options.close();
  assert.deepEqual(browser.errors, []);
});

/** The extension's local storage. */
function local() {
  return helper.evaluate(() => chrome.storage.local.get('pushTokens'));
}

test('a failed approval on another device: a notification and a line on the token', async () => {
  await helper.evaluate(() => chrome.notifications.getAll().then((all) => Promise.all(Object.keys(all).map((id) => chrome.notifications.clear(id)))));
  const phone = await otherDevice(await server.enrollLink('alice'), 'Guesser');
  const login = await signIn(server.url, 'alice', 'alice-demo');
  const { status, body } = await login.push();
  assert.equal(status, 200);
  const request = (await phone.pending()).at(-1);
  const wrong = request.choices.find((n) => n !== body.number);
  const reply = await phone.approve(request, wrong);
  assert.equal(reply.reason, 'wrong_number');
  await untilNotification(`notice:${token.tokenId}:failed_approvals`);
  const { options, text } = await line('failed_approvals');
  assert.match(
    text,
    /^A wrong PIN or a wrong number was entered to approve a sign-in to alice at Demo Org on .+\. If it was not you, someone may be trying to get past your authenticator: deny sign-in requests you did not start, and tell Demo Org\. Each wrong answer brings your authenticator closer to being locked\.$/,
  );
  await options.close();
  assert.deepEqual(browser.errors, []);
});

test('a failed approval of this browser is no news here: kept, not shown; one on another device still is', async () => {
  await helper.evaluate(() => chrome.notifications.getAll().then((all) => Promise.all(Object.keys(all).map((id) => chrome.notifications.clear(id)))));
  // A second later than the last one of its kind, which the token keeps.
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  const before = (await local()).pushTokens[token.tokenId].notices?.failed_approvals;
  const known = new Set(Object.keys((await session(helper)).pending ?? {}));
  const login = await signIn(server.url, 'alice', 'alice-demo');
  const { status, body } = await login.push();
  assert.equal(status, 200);
  const isNew = (s) => Object.values(s.pending ?? {}).map((p) => p.request).find((r) => r.tokenId === token.tokenId && !known.has(r.id));
  const request = isNew(await waitForSession(helper, isNew));
  const wrong = request.choices.find((n) => n !== body.number);
  // The person picks a wrong number here: the popup says so, and the server tells every device.
  const reply = await helper.evaluate(
    ({ requestId, number }) => chrome.runtime.sendMessage({ type: 'request.answer', requestId, decision: 'approve', number }),
    { requestId: request.id, number: wrong },
  );
  assert.equal(reply.outcome?.reason, 'wrong_number', JSON.stringify(reply));
  const end = Date.now() + AT_ONCE;
  while ((await local()).pushTokens[token.tokenId].notices?.failed_approvals === before) {
    assert.ok(Date.now() < end, 'the notice never came');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const kept = (await local()).pushTokens[token.tokenId];
  assert.equal(kept.ownNotices?.failed_approvals, kept.notices.failed_approvals);
  // Time for a notification to show, were one made.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const ids = Object.keys(await helper.evaluate(() => chrome.notifications.getAll()));
  assert.deepEqual(ids.filter((id) => id.startsWith('notice:')), []);
  // A wrong number on another device a moment later is news, and shows.
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  const phone = await otherDevice(await server.enrollLink('alice'), 'Second guesser');
  await helper.evaluate(() => chrome.notifications.getAll().then((all) => Promise.all(Object.keys(all).map((id) => chrome.notifications.clear(id)))));
  const again = await signIn(server.url, 'alice', 'alice-demo');
  const next = await again.push();
  assert.equal(next.status, 200);
  const theirs = (await phone.pending()).at(-1);
  const reply2 = await phone.approve(theirs, theirs.choices.find((n) => n !== next.body.number));
  assert.equal(reply2.reason, 'wrong_number');
  await untilNotification(`notice:${token.tokenId}:failed_approvals`);
  assert.deepEqual(browser.errors, []);
});
