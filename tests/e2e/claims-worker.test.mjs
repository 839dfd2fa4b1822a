// What docs/threat-model.md promises of the service worker, in real Chromium with the real
// server: a "restored in another browser" that its tag does not prove gives no token up; with
// "Approve from the notification" off the notification approves nothing; an approval leaves
// neither its passcode nor its answer tag in storage or in the worker's console; and the worker
// answers content scripts only their page questions, web pages nothing.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { launchWithExtension, openExtensionPage } from '../support/browser.mjs';
import { contentScriptOf, enroll, recordNotifications, session, waitForSession } from '../support/extension.mjs';
import { servePages } from '../support/pages.mjs';
import { signIn, startServer } from '../support/server.mjs';

let browser;
let server;
let pages; // web pages on another origin, where the content scripts run
let otherDir; // another extension, loaded beside PushOTP
let options;
let token;
/** Everything the service worker writes to its console, whatever the level. */
const workerConsole = [];

before(async () => {
  otherDir = await mkdtemp(path.join(tmpdir(), 'pushotp-other-extension-'));
  await writeFile(
    path.join(otherDir, 'manifest.json'),
    JSON.stringify({ manifest_version: 3, name: 'Another extension', version: '1.0', background: { service_worker: 'worker.js' } }),
  );
  await writeFile(path.join(otherDir, 'worker.js'), '// Sends what a test has it send.\n');
  [browser, server, pages] = await Promise.all([
    launchWithExtension({ others: [otherDir] }),
    // Pushes are not limited: every test signs in again.
    startServer(['--no-number-matching', '--deny-cooldown', '0', '--max-pending', '100']),
    servePages(),
  ]);
  browser.worker.on('console', (msg) => workerConsole.push(`${msg.type()}: ${msg.text()}`));
  options = await openExtensionPage(browser, 'options.html');
  await options.locator('body[data-ready]').waitFor();
  token = await enroll(options, server.link);
  // The worker's network, seen from inside: what it sends to /api/v1/answers is recorded, and
  // a test may have the next reply to a path answered here instead of by the server, as a
  // network attacker would answer it.
  await browser.worker.evaluate(() => {
    const real = globalThis.fetch;
    globalThis.__sent = [];
    globalThis.__forged = {};
    globalThis.fetch = async (input, init) => {
      const { pathname } = new URL(String(input));
      if (pathname === '/api/v1/answers') globalThis.__sent.push(JSON.parse(init.body));
      const forged = globalThis.__forged[pathname];
      if (forged) {
        delete globalThis.__forged[pathname];
        return new Response(JSON.stringify(forged.body), { status: forged.status, headers: { 'content-type': 'application/json' } });
      }
      return real(input, init);
    };
  });
});
after(async () => {
  await browser?.close();
  await server?.stop();
  // After the browser: it keeps its connections to the pages open until it closes.
  await pages?.stop();
  if (otherDir) await rm(otherDir, { recursive: true, force: true });
});

const ask = (message) => options.evaluate((m) => chrome.runtime.sendMessage(m), message);
const storedToken = async () => (await options.evaluate(() => chrome.storage.local.get('pushTokens'))).pushTokens[token.tokenId];
/** A tag of the right shape that nothing made under the token's keys. */
const forgedTag = () => randomBytes(32).toString('base64url');

/** Signs in with the password and pushes; the login and its request once the worker keeps it. */
async function pushed(to = server) {
  const known = new Set(Object.keys((await session(options)).seen ?? {}));
  const login = await signIn(to.url, 'alice', 'alice-demo');
  assert.equal((await login.push()).status, 200);
  const fresh = (x) => Object.values(x.pending ?? {}).filter((p) => !known.has(p.request.id));
  const s = await waitForSession(options, (x) => fresh(x).length === 1);
  return { login, request: fresh(s)[0].request };
}

/**
 * Waits until the worker has dealt with the `count`th unproven "restored elsewhere": it said so
 * in its console, or it gave the token up. Then checks that it kept the token.
 */
async function keptDespite(count) {
  const said = () => workerConsole.filter((line) => line.includes(`ignored an unproven "restored elsewhere" for token ${token.tokenId}`)).length;
  for (let i = 0; i < 100 && said() < count && !(await storedToken()).restoredElsewhereAt; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal((await storedToken()).restoredElsewhereAt, undefined, 'the token was given up');
  assert.equal(said(), count, workerConsole.join('\n'));
}

test('a "restored elsewhere" whose tag does not verify leaves the token here, and it still approves', async () => {
  // The socket: the worker's own WebSocket, opened anew once the token is switched off and on,
  // gets the messages a server sends when another browser restored the token (protocol §8).
  await browser.worker.evaluate(() => {
    globalThis.__sockets = [];
    const Real = globalThis.WebSocket;
    globalThis.WebSocket = class extends Real {
      constructor(...args) {
        super(...args);
        globalThis.__sockets.push(this);
      }
    };
  });
  assert.deepEqual(await ask({ type: 'token.enable', tokenId: token.tokenId, enabled: false }), { ok: true });
  assert.deepEqual(await ask({ type: 'token.enable', tokenId: token.tokenId, enabled: true }), { ok: true });
  for (let i = 0; i < 100; i++) {
    if (await browser.worker.evaluate(() => globalThis.__sockets.at(-1)?.readyState === WebSocket.OPEN)) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const fromServer = (message) =>
    browser.worker.evaluate((data) => globalThis.__sockets.at(-1).dispatchEvent(new MessageEvent('message', { data })), JSON.stringify(message));
  await fromServer({ type: 'restored', tokenId: token.tokenId, tag: forgedTag() });
  await fromServer({ type: 'error', error: 'restored_elsewhere', tokenId: token.tokenId, tag: forgedTag() });
  await keptDespite(2);

  // A poll's 410 restored_elsewhere with a tag that does not verify.
  await browser.worker.evaluate((body) => {
    globalThis.__forged['/api/v1/devices/pending'] = { status: 410, body };
  }, { error: 'restored_elsewhere', tokenId: token.tokenId, tag: forgedTag() });
  assert.deepEqual(await ask({ type: 'requests.refresh' }), { ok: true });
  await keptDespite(3);

  // An answer's 410 restored_elsewhere with a tag that does not verify: that one answer is
  // lost, the token is not.
  const first = await pushed();
  await browser.worker.evaluate((body) => {
    globalThis.__forged['/api/v1/answers'] = { status: 410, body };
  }, { error: 'restored_elsewhere', tokenId: token.tokenId, tag: forgedTag() });
  const lost = await ask({ type: 'request.answer', requestId: first.request.id, decision: 'approve' });
  assert.equal(lost.outcome?.reason, 'restored_elsewhere', JSON.stringify(lost));
  await keptDespite(4);

  // The token still receives and approves.
  const { login, request } = await pushed();
  const reply = await ask({ type: 'request.answer', requestId: request.id, decision: 'approve' });
  assert.equal(reply.outcome?.status, 'approved', JSON.stringify(reply));
  assert.equal((await login.state()).state, 'approved');
  assert.equal((await storedToken()).restoredElsewhereAt, undefined);
  await options.reload();
  await options.locator('body[data-ready]').waitFor();
  const item = options.locator(`li[data-token-id="${token.tokenId}"]`);
  await item.waitFor();
  assert.equal(await item.locator('.token-moved').isHidden(), true);
  assert.equal(await item.getByRole('switch').isChecked(), true);
});

test('with "Approve from the notification" off, the notification has no Approve button and its button approves nothing', async () => {
  // What the worker asks of the notifications API, as it asks it.
  const notice = await recordNotifications(browser);
  const popups = () => browser.context.pages().filter((p) => p.url().endsWith('/extension/popup.html'));
  const setting = options.getByRole('switch', { name: 'Approve from the notification' });
  const stored = () => options.evaluate(async () => (await chrome.storage.local.get('settings')).settings?.approveFromNotification);

  await setting.uncheck();
  for (let i = 0; i < 50 && (await stored()) !== false; i++) await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(await stored(), false);
  try {
    const { login, request } = await pushed();
    const id = `request:${request.id}`;
    assert.equal((await notice(id)).buttons, undefined);
    // The button's event, had a notification shown one anyway: nothing is approved, and the
    // popup opens for the person to decide there.
    const before = popups().length;
    const outcome = await browser.worker.evaluate((id) => globalThis.pushotp.onNotificationButton(id, 0), id);
    assert.equal(outcome, null);
    assert.ok((await session(options)).pending[request.id]);
    assert.equal((await login.state()).state, 'waiting');
    for (let i = 0; i < 50 && popups().length === before; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    for (const popup of popups()) await popup.close();
    const denied = await ask({ type: 'request.answer', requestId: request.id, decision: 'deny' });
    assert.equal(denied.outcome?.status, 'denied');
  } finally {
    await setting.check();
  }
  // Switched on again, the same request approves from the notification: the setting alone made
  // the difference.
  for (let i = 0; i < 50 && (await stored()) !== true; i++) await new Promise((resolve) => setTimeout(resolve, 100));
  const { login, request } = await pushed();
  const id = `request:${request.id}`;
  assert.deepEqual((await notice(id)).buttons.map((b) => b.title), ['Approve', 'Deny']);
  const outcome = await browser.worker.evaluate((id) => globalThis.pushotp.onNotificationButton(id, 0), id);
  assert.equal(outcome?.status, 'approved');
  assert.equal((await login.state()).state, 'approved');
});

test('an approval leaves neither its passcode nor its answer tag in storage or the worker\'s console', async () => {
  // A PIN token's approval is what would let its PIN be guessed offline; one without PIN too.
  const pinServer = await startServer(['--no-number-matching', '--require-pin']);
  try {
    const pinToken = await enroll(options, pinServer.link, { pin: '2468' });
    await browser.worker.evaluate(() => {
      globalThis.__sent = [];
    });
    const plain = await pushed();
    const reply = await ask({ type: 'request.answer', requestId: plain.request.id, decision: 'approve' });
    assert.equal(reply.outcome?.status, 'approved', JSON.stringify(reply));
    assert.equal((await plain.login.state()).state, 'approved');
    // As the popup approves after the person typed the PIN: the page unmasks the keys, the
    // worker answers with them.
    const pinned = await pushed(pinServer);
    const { reply: pinReply, keys } = await options.evaluate(
      async ({ requestId, masked }) => {
        const tools = await import('./tools.js');
        await tools.ready;
        const keys = tools.unmaskKeys(masked, '2468');
        return { keys, reply: await chrome.runtime.sendMessage({ type: 'request.answer', requestId, decision: 'approve', keys }) };
      },
      { requestId: pinned.request.id, masked: pinToken.masked },
    );
    assert.equal(pinReply.outcome?.status, 'approved', JSON.stringify(pinReply));
    assert.equal((await pinned.login.state()).state, 'approved');

    const sent = await browser.worker.evaluate(() => globalThis.__sent);
    assert.deepEqual(sent.map((a) => a.requestId), [plain.request.id, pinned.request.id]);
    for (const { passcode, answerTag } of sent) {
      assert.match(passcode, /^\d{6}$/);
      assert.match(answerTag, /^[A-Za-z0-9_-]{20,}$/);
    }
    // A passcode is six digits: it counts only where no other digit touches it (a timestamp may
    // hold the same six digits by chance).
    const secrets = sent.flatMap(({ passcode, answerTag }) => [
      { what: 'passcode', found: (text) => new RegExp(`(?<![0-9])${passcode}(?![0-9])`).test(text) },
      { what: 'answer tag', found: (text) => text.includes(answerTag) },
    ]);
    // Nor the PIN token's unmasked keys, which the page handed the worker for this answer.
    secrets.push({ what: "PIN token's K_otp", found: (text) => text.includes(keys.otp) }, { what: "PIN token's K_ans", found: (text) => text.includes(keys.answer) });

    // Once the answers are settled and every step after them (the fill, the auto-lock) has run.
    await waitForSession(options, (x) => x.outcomes?.[plain.request.id]?.status === 'approved' && x.outcomes?.[pinned.request.id]?.status === 'approved');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const stores = await options.evaluate(async () => ({ local: await chrome.storage.local.get(), session: await chrome.storage.session.get() }));
    // The worker's console is heard here, whatever the level.
    await browser.worker.evaluate(() => console.debug('the console is heard'));
    for (let i = 0; i < 50 && !workerConsole.includes('debug: the console is heard'); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.ok(workerConsole.includes('debug: the console is heard'));
    for (const { what, found } of secrets) {
      for (const [area, value] of Object.entries(stores)) assert.ok(!found(JSON.stringify(value)), `the ${what} is in storage.${area}`);
      for (const line of workerConsole) assert.ok(!found(line), `the ${what} is in the worker's console: ${line}`);
    }
  } finally {
    await pinServer.stop();
  }
});

test('the worker answers content scripts only their page questions, and web pages nothing', async () => {
  const tab = await browser.context.newPage();
  try {
    await tab.goto(`${pages.url}/pages/plain.html`);
    // The content scripts' isolated world in the page's main frame: the worker sees these
    // messages as from a content script, with the page's tab and origin.
    const content = await contentScriptOf(browser, tab.mainFrame());
    const { send } = content;
    // The content script is heard: its page question is answered (no token is confirmed here).
    assert.deepEqual(await send({ type: 'page.tokens' }), { ok: true, tokens: [] });

    // Anything an extension page may ask is refused, even for a request that is waiting.
    const { login, request } = await pushed();
    for (const message of [
      { type: 'request.answer', requestId: request.id, decision: 'approve' },
      { type: 'vault.export', key: randomBytes(32).toString('base64url'), kdf: { salt: 'AAECAwQFBgcICQoLDA0ODw', memoryKib: 64, iterations: 1, parallelism: 1 } },
      { type: 'token.remove', tokenId: token.tokenId },
      { type: 'otp.codes' },
    ]) {
      const reply = await send(message);
      assert.deepEqual(reply, { ok: false, error: { code: 'forbidden', message: 'not an extension page' } }, message.type);
    }
    assert.ok((await session(options)).pending[request.id], 'still waiting');
    assert.equal((await login.state()).state, 'waiting');
    assert.ok(await storedToken(), 'still here');

    // The page itself cannot even address the extension: no externally_connectable.
    assert.equal(await tab.evaluate(() => typeof globalThis.chrome?.runtime?.sendMessage), 'undefined');

    const denied = await ask({ type: 'request.answer', requestId: request.id, decision: 'deny' });
    assert.equal(denied.outcome?.status, 'denied');
    await content.detach();
  } finally {
    await tab.close();
  }
});

test('another extension gets no answer from the worker', async () => {
  const ours = `chrome-extension://${browser.extensionId}/`;
  const other =
    browser.context.serviceWorkers().find((w) => !w.url().startsWith(ours)) ??
    (await browser.context.waitForEvent('serviceworker', { predicate: (w) => !w.url().startsWith(ours), timeout: 15_000 }));
  const { request } = await pushed();
  for (const message of [
    { type: 'request.answer', requestId: request.id, decision: 'approve' },
    { type: 'vault.export', key: randomBytes(32).toString('base64url'), kdf: { salt: 'AAECAwQFBgcICQoLDA0ODw', memoryKib: 64, iterations: 1, parallelism: 1 } },
    { type: 'page.tokens' },
  ]) {
    const result = await other.evaluate(
      async ({ id, message }) => {
        try {
          return { reply: (await chrome.runtime.sendMessage(id, message)) ?? null };
        } catch (err) {
          return { refused: err.message };
        }
      },
      { id: browser.extensionId, message },
    );
    // Nobody listens for other extensions' messages (no onMessageExternal, no
    // externally_connectable): the browser refuses to deliver it. Were it delivered, the worker
    // would refuse it as from another extension.
    const refusedByBrowser = result.refused === 'Could not establish connection. Receiving end does not exist.';
    const refusedByWorker = result.reply?.ok === false && result.reply.error?.code === 'forbidden';
    assert.ok(refusedByBrowser || refusedByWorker, `${message.type}: ${JSON.stringify(result)}`);
  }
  assert.ok((await session(options)).pending[request.id], 'still waiting');
  assert.equal((await ask({ type: 'request.answer', requestId: request.id, decision: 'deny' })).outcome?.status, 'denied');
});

test('no console errors', () => {
  assert.deepEqual(browser.errors, []);
});
