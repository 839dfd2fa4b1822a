// Requests that end elsewhere leave the extension at once, without a click: the real extension
// in Chromium and a second device of the same person against the real server. When the sign-in
// is approved on the other device, replaced by a newer one, or expires on the server while this
// device's clock is behind, the open popup shows the next request or the empty state and says
// why, the badge is recounted and the notification goes. A notice that does not verify changes
// nothing; one that comes by Web Push or after the network was away works the same.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { launchWithExtension, openExtensionPage } from '../support/browser.mjs';
import { otherDevice, poll } from '../support/device.mjs';
import { badge, enroll, serviceWorkerControl, session, waitForSession, workerConsole } from '../support/extension.mjs';
import { signIn, startRelay, startServer } from '../support/server.mjs';

// What "at once" allows: the notice is sent in the step that ends the request.
const AT_ONCE = 5_000;

let browser;
let dataDir;
let server;
let helper; // an extension page for enrollment and storage reads
let token; // the extension's token
let phone; // the person's other device
let relayPort;

before(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'pushotp-ended-'));
  // Pushes are not limited, so that one server serves every test.
  [browser, server] = await Promise.all([
    launchWithExtension(),
    startServer(['--deny-cooldown', '0', '--max-pending', '100'], { database: path.join(dataDir, 'server.db') }),
  ]);
  helper = await openExtensionPage(browser, 'popup.html');
  token = await enroll(helper, server.link);
  phone = await otherDevice(await server.enrollLink('alice'));
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** The popup, as a tab the size of the toolbar popup. */
async function openPopup() {
  const popup = await openExtensionPage(browser, 'popup.html');
  await popup.setViewportSize({ width: 380, height: 600 });
  return popup;
}

/** A sign-in with the password, then "Use my mobile": the login and the number its page shows. */
async function push(login = null, to = server) {
  login ??= await signIn(to.url, 'alice', 'alice-demo');
  const { status, body } = await login.push();
  assert.equal(status, 200, JSON.stringify(body));
  return { login, number: body.number };
}

/** The ids of the requests the worker keeps for `of` (a token). */
const kept = (s, of = token) => Object.values(s.pending ?? {}).filter((p) => p.request.tokenId === of.tokenId).map((p) => p.request.id);

/** Waits until the worker keeps `count` requests of `of` and returns their ids, oldest first. */
async function arrived(count = 1, of = token) {
  const s = await waitForSession(helper, (x) => kept(x, of).length === count);
  return kept(s, of).sort((a, b) => s.pending[a].receivedAt - s.pending[b].receivedAt);
}

/** The ids of the notifications the worker shows. */
async function notifications() {
  return Object.keys(await helper.evaluate(() => chrome.notifications.getAll()));
}

/** Waits until `check(notification ids)` holds. */
async function untilNotifications(check, timeout = AT_ONCE) {
  const end = Date.now() + timeout;
  for (;;) {
    const ids = await notifications();
    if (check(ids)) return ids;
    if (Date.now() > end) throw new Error(`timed out; notifications: ${JSON.stringify(ids)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The message the popup shows for request `id`. */
function message(popup, id) {
  return popup.locator(`#outcomes .outcome[data-id="${id}"] p`).first();
}

const shown = (popup) => popup.locator('#request').getAttribute('data-id');

/** The other device's copy of the request waiting now, as it polls for it. */
async function onPhone() {
  const [request] = await phone.pending();
  assert.ok(request, 'the other device got the request');
  return request;
}

test('approved on another device: the popup, the badge and the notification lose it at once', async () => {
  const { number } = await push();
  const [id] = await arrived();
  const popup = await openPopup();
  await popup.getByText('Pick the number shown on the sign-in page').waitFor();
  assert.equal(await shown(popup), id);
  assert.equal(await badge(helper), '1');
  await untilNotifications((ids) => ids.includes(`request:${id}`));

  const reply = await phone.approve(await onPhone(), number);
  assert.equal(reply.status, 'approved', JSON.stringify(reply));

  // Nobody touches the popup: it shows the empty state and says why.
  await popup.getByText('No sign-in requests are waiting.').waitFor({ timeout: AT_ONCE });
  assert.equal(await message(popup, id).textContent(), 'Answered elsewhere. The sign-in to Demo Portal was answered on another device or with a code.');
  assert.ok(await popup.locator('#request').isHidden());
  assert.equal(await badge(helper), '');
  await untilNotifications((ids) => !ids.includes(`request:${id}`));
  const s = await session(helper);
  assert.equal(s.pending[id], undefined);
  assert.deepEqual([s.outcomes[id].status, s.outcomes[id].reason], ['ended', 'answered']);
  await popup.close();
});

test('replaced by a newer sign-in: the popup moves on to the new request and says why', async () => {
  const { login } = await push();
  const [first] = await arrived();
  const popup = await openPopup();
  await popup.getByText('Pick the number shown on the sign-in page').waitFor();
  assert.equal(await shown(popup), first);

  await push(login);
  const s = await waitForSession(helper, (x) => kept(x).length === 1 && !x.pending[first], AT_ONCE);
  const [second] = kept(s);
  await popup.locator(`#request[data-id="${second}"]`).waitFor({ timeout: AT_ONCE });
  assert.equal(await message(popup, first).textContent(), 'Replaced by a newer sign-in. Answer the newest request from Demo Portal.');
  assert.ok(await popup.locator('#pager').isHidden());
  assert.equal(await badge(helper), '1');
  await untilNotifications((ids) => ids.includes(`request:${second}`) && !ids.includes(`request:${first}`));
  assert.deepEqual([s.outcomes[first].status, s.outcomes[first].reason], ['ended', 'replaced']);

  // The other device denies the new one: it leaves too.
  await phone.deny(await onPhone());
  await popup.getByText('No sign-in requests are waiting.').waitFor({ timeout: AT_ONCE });
  assert.equal(await badge(helper), '');
  await popup.close();
});

test('expired on the server while this device\'s clock is behind: it leaves when the server says so', async () => {
  const short = await startServer(['--no-number-matching', '--request-ttl', '3']);
  const shortToken = await enroll(helper, short.link);
  // The worker's clock 20 s behind the server's (within the 30 s a request may be ahead): by
  // its own clock the request would stay 20 s after the server expired it.
  await browser.worker.evaluate(() => {
    globalThis.realNow = Date.now;
    Date.now = () => globalThis.realNow() - 20_000;
  });
  try {
    await push(null, short);
    const [id] = await arrived(1, shortToken);
    assert.equal(await badge(helper), '1');
    const s = await waitForSession(helper, (x) => !x.pending?.[id], 3_000 + AT_ONCE);
    // The same outcome as when the worker's own clock sees it expire.
    assert.deepEqual([s.outcomes[id].status, s.outcomes[id].reason], ['expired', null]);
    assert.equal(await badge(helper), '');
    await untilNotifications((ids) => !ids.includes(`request:${id}`));
  } finally {
    await browser.worker.evaluate(() => {
      Date.now = globalThis.realNow;
    });
    await helper.evaluate((tokenId) => chrome.runtime.sendMessage({ type: 'token.remove', tokenId }), shortToken.tokenId);
    await short.stop();
  }
});

test('by Web Push and after the network was away; a notice that does not verify changes nothing', async () => {
  // The server is reached through a relay the test can cut, as a network going away would.
  const relay = await startRelay();
  relayPort = new URL(relay.url).port;
  const dir = await mkdtemp(path.join(tmpdir(), 'pushotp-ended-relay-'));
  const away = await startServer(['--public-url', relay.url, '--deny-cooldown', '0'], { database: path.join(dir, 'server.db') });
  relay.to(away.url);
  const mine = await enroll(helper, away.link);
  const other = await otherDevice(await away.enrollLink('alice'));
  other.token.server = away.url;
  const control = await serviceWorkerControl(browser, helper);
  try {
    // Ended while the socket is down: only Web Push gets through.
    const { number } = await push(null, away);
    const [id] = await arrived(1, mine);
    relay.cut();
    const [request] = await other.pending();
    assert.equal((await other.approve(request, number)).status, 'approved');
    const [notice] = (await poll(mine, away.url)).ended;
    assert.equal(notice.id, id);
    const deliver = (ended) => control.push(JSON.stringify({ type: 'ended', ended }));
    // Forged or misdirected notices are dropped: the worker says so of each.
    const heard = workerConsole(browser);
    await deliver({ ...notice, reason: 'expired' });
    await deliver({ ...notice, tokenId: token.tokenId });
    await deliver({ ...notice, tag: notice.tag.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) });
    await heard.until(/^warning: PushOTP: dropped an end notice that failed its check: .* \(webpush\)$/, 3);
    heard.stop();
    assert.deepEqual(kept(await session(helper), mine), [id]);
    assert.equal(await badge(helper), '1');
    await deliver(notice);
    const s = await waitForSession(helper, (x) => !x.pending?.[id], AT_ONCE);
    assert.deepEqual([s.outcomes[id].status, s.outcomes[id].reason], ['ended', 'answered']);
    assert.equal(await badge(helper), '');
    await untilNotifications((ids) => !ids.includes(`request:${id}`));
    relay.restore();

    // Ended while the network is away; it leaves once the device reaches its server again.
    await push(null, away);
    const [next] = await arrived(1, mine);
    relay.cut();
    const [copy] = await other.pending();
    await other.deny(copy);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.deepEqual(kept(await session(helper), mine), [next]);
    relay.restore();
    // Opening the popup asks the servers what changed (and the socket comes back).
    const popup = await openPopup();
    await popup.getByText('No sign-in requests are waiting.').waitFor({ timeout: 15_000 });
    assert.equal(await message(popup, next).textContent(), 'Answered elsewhere. The sign-in to Demo Portal was answered on another device or with a code.');
    assert.equal(await badge(helper), '');
    await popup.close();
  } finally {
    await helper.evaluate((tokenId) => chrome.runtime.sendMessage({ type: 'token.remove', tokenId }), mine.tokenId);
    await away.stop();
    await relay.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('no console errors, apart from the worker\'s connections refused while the relay was cut', () => {
  const unexpected = browser.errors.filter(
    (e) => !(relayPort && e.startsWith('service worker:') && (e.includes(`127.0.0.1:${relayPort}/`) || /ERR_CONNECTION_(REFUSED|RESET)|ERR_EMPTY_RESPONSE/.test(e))),
  );
  assert.deepEqual(unexpected, []);
});
