// What docs/threat-model.md promises of how requests and answers travel, in real Chromium with
// the real extension against the real server: an approval whose delivery fails sends the same
// request-bound passcode however often it is retried, and nothing about the token moves, so
// lost tries leave nothing to resynchronise; the notification's Approve
// button approves nothing where a number must be picked; a request sent while the worker was
// stopped is fetched when it starts, without its socket; and a replayed notice that a request
// ended removes no other request.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer, request as httpRequest } from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ROOT, launchWithExtension, openExtensionPage } from '../support/browser.mjs';
import { poll } from '../support/device.mjs';
import { enroll, serviceWorkerControl, session, waitForSession, workerConsole } from '../support/extension.mjs';
import { freePort, signIn, startRelay, startServer } from '../support/server.mjs';
import * as core from '../../extension/pkg/pushotp.js';

core.initSync({ module: await readFile(path.join(ROOT, 'extension/pkg/pushotp_bg.wasm')) });

let browser;
let relay; // in front of `server`: the network between the browser and it, which a test cuts
let server; // no number matching: the notification may approve its requests
let matching; // number matching
let page; // an extension page, for messages and storage reads
let token; // the extension's token at `server`
let matchingToken;
let control; // stops the worker, delivers Web Push messages to it
/** The ports whose refused connections the worker reports in its console while they are cut. */
const cutPorts = [];

before(async () => {
  relay = await startRelay();
  cutPorts.push(new URL(relay.url).port);
  // Pushes are not limited: every test signs in again.
  [browser, server, matching] = await Promise.all([
    launchWithExtension(),
    startServer(['--no-number-matching', '--public-url', relay.url, '--deny-cooldown', '0', '--max-pending', '100']),
    startServer(['--deny-cooldown', '0', '--max-pending', '100']),
  ]);
  relay.to(server.url);
  page = await openExtensionPage(browser, 'popup.html');
  token = await enroll(page, server.link);
  matchingToken = await enroll(page, matching.link);
  control = await serviceWorkerControl(browser, page);
});
after(async () => {
  await browser?.close();
  await Promise.all([server?.stop(), matching?.stop()]);
  await relay?.close();
});

const ask = (message) => page.evaluate((m) => chrome.runtime.sendMessage(m), message);
const storedToken = async (of = token) => (await page.evaluate(() => chrome.storage.local.get('pushTokens'))).pushTokens[of.tokenId];
/** The requests the worker keeps for `of` (a token). */
const kept = (s, of) => Object.values(s.pending ?? {}).filter((p) => p.request.tokenId === of.tokenId);

/** Signs in with the password and pushes at `to`; the login and its request once the worker keeps it. */
async function pushed(to, of, login = null) {
  const known = new Set(Object.keys((await session(page)).seen ?? {}));
  login ??= await signIn(to.url, 'alice', 'alice-demo');
  const { status, body } = await login.push();
  assert.equal(status, 200, JSON.stringify(body));
  const fresh = (x) => kept(x, of).filter((p) => !known.has(p.request.id));
  const s = await waitForSession(page, (x) => fresh(x).length === 1);
  return { login, request: fresh(s)[0].request, via: fresh(s)[0].via };
}

/** Wakes the stopped worker with a message and takes hold of it again as `browser.worker`. */
async function restarted() {
  await ask({ type: 'vault.status' });
  const ours = (w) => w.url().endsWith('/extension/background.js');
  for (let i = 0; i < 100 && !browser.context.serviceWorkers().some((w) => ours(w) && w !== browser.worker); i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  browser.worker = browser.context.serviceWorkers().find((w) => ours(w) && w !== browser.worker) ?? browser.worker;
}

test('an approval that cannot reach the server sends the same request-bound passcode on every retry: retries past the old look-ahead, across a worker restart, still sign in', async () => {
  // What the worker sends to /api/v1/answers, recorded as it leaves the worker.
  const record = () =>
    browser.worker.evaluate(() => {
      const real = globalThis.fetch;
      globalThis.__answers = [];
      globalThis.fetch = async (input, init) => {
        if (new URL(String(input)).pathname === '/api/v1/answers') globalThis.__answers.push(JSON.parse(init.body));
        return real(input, init);
      };
    });
  await record();
  const { login, request } = await pushed(server, token);
  const stored = await storedToken();
  // The passcode of this request (docs/protocol.md §5: OCRA over the request id).
  const passcode = core.pushPasscode(token.keys.otp, 'SHA1', 6, request.id);

  // The network is away for more tries than a counter's look-ahead was (20), and the worker
  // stops halfway through.
  const tries = 22;
  relay.cut();
  try {
    for (let i = 0; i < tries; i++) {
      if (i === tries / 2) {
        await control.stop();
        await restarted();
        await record();
      }
      const lost = await ask({ type: 'request.answer', requestId: request.id, decision: 'approve' });
      assert.equal(lost.outcome?.status, 'failed', JSON.stringify(lost));
    }
  } finally {
    relay.restore();
  }
  assert.ok((await session(page)).pending[request.id], 'the request waits to be answered again');
  // Every try sent the request's own passcode; nothing about the token was kept or moved.
  const sent = await browser.worker.evaluate(() => globalThis.__answers);
  assert.equal(sent.length, tries / 2);
  assert.deepEqual(new Set(sent.map((a) => a.passcode)), new Set([passcode]));
  assert.deepEqual(await storedToken(), stored);
  assert.equal((await login.state()).state, 'waiting');

  // Back online: the retry is accepted, and so is the next sign-in, with its own passcode.
  const reply = await ask({ type: 'request.answer', requestId: request.id, decision: 'approve' });
  assert.equal(reply.outcome?.status, 'approved', JSON.stringify(reply));
  assert.equal((await login.state()).state, 'approved');
  const later = await pushed(server, token);
  const next = await ask({ type: 'request.answer', requestId: later.request.id, decision: 'approve' });
  assert.equal(next.outcome?.status, 'approved', JSON.stringify(next));
  assert.equal((await later.login.state()).state, 'approved');
  const answers = await browser.worker.evaluate(() => globalThis.__answers);
  assert.equal(answers.at(-1).passcode, core.pushPasscode(token.keys.otp, 'SHA1', 6, later.request.id));
  assert.notEqual(answers.at(-1).passcode, passcode);
  assert.deepEqual(await storedToken(), stored);
});

test('with number matching, the notification\'s Approve button approves nothing and opens the popup', async () => {
  const setting = await page.evaluate(async () => (await chrome.storage.local.get('settings')).settings?.approveFromNotification);
  assert.notEqual(setting, false, 'approving from the notification is on');
  const { login, request } = await pushed(matching, matchingToken);
  assert.ok(Array.isArray(request.choices) && request.choices.length > 1, JSON.stringify(request));
  const popups = () =>
    page.evaluate(async () => (await chrome.runtime.getContexts({})).filter((c) => c.documentUrl?.endsWith('/extension/popup.html')).length);
  const before = await popups();
  const outcome = await browser.worker.evaluate((id) => globalThis.pushotp.onNotificationButton(id, 0), `request:${request.id}`);
  assert.equal(outcome, null);
  // Nothing went to the server: the request still waits here and there, and the popup (or a
  // window with it) was opened for the person to pick the number.
  assert.ok((await session(page)).pending[request.id], 'still waiting');
  assert.equal((await login.state()).state, 'waiting');
  assert.equal(await popups(), before + 1);
  for (const p of browser.context.pages()) if (p.url().endsWith('/extension/popup.html') && p !== page) await p.close();
  const denied = await ask({ type: 'request.answer', requestId: request.id, decision: 'deny' });
  assert.equal(denied.outcome?.status, 'denied');
});

test('a replayed notice that a request ended leaves the request waiting now in place', async () => {
  // A real end: the same sign-in asks again, which replaces its first request.
  const first = await pushed(server, token);
  const second = await pushed(server, token, first.login);
  await waitForSession(page, (x) => !x.pending?.[first.request.id]);
  assert.equal((await session(page)).outcomes[first.request.id]?.reason, 'replaced');
  // The notice of that end, as the server sent it: genuine, its tag verifies under K_req.
  const notice = (await poll(token, server.url)).ended.find((n) => n.id === first.request.id);
  assert.ok(notice, 'the server reports the end');
  assert.equal(core.verifyPushEnded(notice, token.keys.request), 'replaced');

  // Replayed, by Web Push, while the second request waits. A forged notice follows it: the
  // worker handles end notices one after another, in the order they come (inbox.js `end`, in
  // the storage queue), so its word that it dropped the forged one says the replay is done.
  const heard = workerConsole(browser);
  await control.push(JSON.stringify({ type: 'ended', ended: notice }));
  await control.push(JSON.stringify({ type: 'ended', ended: { ...notice, tag: notice.tag.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) } }));
  await heard.until(/^warning: PushOTP: dropped an end notice that failed its check: .* \(webpush\)$/);
  heard.stop();
  const s = await session(page);
  assert.ok(s.pending[second.request.id], 'the waiting request is still there');
  assert.equal(s.outcomes[second.request.id], undefined);
  assert.equal((await second.login.state()).state, 'waiting');
  const reply = await ask({ type: 'request.answer', requestId: second.request.id, decision: 'approve' });
  assert.equal(reply.outcome?.status, 'approved', JSON.stringify(reply));
  assert.equal((await second.login.state()).state, 'approved');
});

/**
 * An HTTP proxy in front of `target` that refuses every WebSocket: what reaches the server
 * through it comes by plain HTTP (the poll), never by the socket.
 */
async function withoutSockets() {
  const port = await freePort();
  let upstream = null;
  let refused = 0;
  const proxy = createServer((req, res) => {
    const out = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (reply) => {
      res.writeHead(reply.statusCode, reply.headers);
      reply.pipe(res);
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  proxy.on('upgrade', (req, socket) => {
    refused += 1;
    socket.destroy();
  });
  await new Promise((resolve) => proxy.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    /** Points the proxy at the server. */
    to(target) {
      upstream = new URL(target);
    },
    refused: () => refused,
    close() {
      proxy.closeAllConnections();
      return new Promise((resolve) => proxy.close(resolve));
    },
  };
}

test('a request sent while the worker was stopped is fetched when it starts, without its socket', async () => {
  // No Web Push here, and the socket never connects: only the poll can bring the request.
  const proxy = await withoutSockets();
  cutPorts.push(new URL(proxy.url).port);
  const away = await startServer(['--no-number-matching', '--public-url', proxy.url]);
  proxy.to(away.url);
  try {
    const mine = await enroll(page, away.link);
    await control.stop();
    const login = await signIn(away.url, 'alice', 'alice-demo');
    assert.equal((await login.push()).status, 200);
    // Any event starts the worker again: here a message that fetches nothing.
    assert.equal((await ask({ type: 'vault.status' })).ok, true);
    const s = await waitForSession(page, (x) => kept(x, mine).length === 1);
    const [{ request, via }] = kept(s, mine);
    assert.equal(via, 'poll');
    assert.ok(proxy.refused() > 0, 'the worker tried its socket');
    const denied = await ask({ type: 'request.answer', requestId: request.id, decision: 'deny' });
    assert.equal(denied.outcome?.status, 'denied');
    await ask({ type: 'token.remove', tokenId: mine.tokenId });
  } finally {
    await away.stop();
    await proxy.close();
  }
});

test('no console errors apart from the connections refused while the network was cut', () => {
  const unexpected = browser.errors.filter(
    (e) => !(e.startsWith('service worker:') && (cutPorts.some((p) => e.includes(`127.0.0.1:${p}/`)) || /ERR_CONNECTION_(REFUSED|RESET)|ERR_EMPTY_RESPONSE/.test(e))),
  );
  assert.deepEqual(unexpected, []);
});
