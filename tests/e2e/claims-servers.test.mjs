// What docs/threat-model.md promises of a server the person enrolled a token on, in real
// Chromium with the real extension: whatever it says acts only on its own tokens, so that it
// cannot silence the person's other servers; and an approval's passcode is typed only at the
// login pages its token serves, whatever origin a request names.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { launchWithExtension, openExtensionPage } from '../support/browser.mjs';
import { poll } from '../support/device.mjs';
import { enroll, session, waitForSession, workerConsole } from '../support/extension.mjs';
import { startHostile } from '../support/hostile.mjs';
import { servePages } from '../support/pages.mjs';
import { ROOT } from '../support/root.mjs';
import { signIn, startServer } from '../support/server.mjs';
import * as core from '../../extension/pkg/pushotp.js';

core.initSync({ module: await readFile(path.join(ROOT, 'extension/pkg/pushotp_bg.wasm')) });

let browser;
let page; // an extension page, for messages and storage reads
let honest; // the real server of the person's other token
let honestToken;

before(async () => {
  [browser, honest] = await Promise.all([launchWithExtension(), startServer(['--no-number-matching', '--deny-cooldown', '0'])]);
  page = await openExtensionPage(browser, 'popup.html');
  honestToken = await enroll(page, honest.link);
});
after(async () => {
  await browser?.close();
  await honest?.stop();
});

/** Waits until `check()` holds, polling. */
async function until(check, what, timeout = 10_000) {
  const end = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test('a server that refuses another server\'s token on its own socket does not stop that token\'s requests', async () => {
  // On its first socket the hostile server says that the honest server's token is refused, as
  // a server says of a token it revoked, and hangs up; the device comes back to it.
  const hostile = await startHostile({
    script: (n) => (n === 1 ? [{ type: 'error', error: 'bad_auth', tokenId: honestToken.tokenId }] : []),
    close: (n) => n === 1,
  });
  try {
    await enroll(page, hostile.link);
    // The worker opened a second socket to it: it has handled what the first one said.
    await until(() => hostile.sockets() >= 2, 'the worker to come back to the hostile server');
    const login = await signIn(honest.url, 'alice', 'alice-demo');
    const { status } = await login.push();
    assert.equal(status, 200);
    const s = await waitForSession(page, (x) => Object.values(x.pending ?? {}).some((p) => p.request.tokenId === honestToken.tokenId));
    const [request] = Object.values(s.pending).filter((p) => p.request.tokenId === honestToken.tokenId);
    assert.equal(request.via, 'socket');
    const reply = await page.evaluate((requestId) => chrome.runtime.sendMessage({ type: 'request.answer', requestId, decision: 'approve' }), request.request.id);
    assert.equal(reply.outcome?.status, 'approved', JSON.stringify(reply));
    assert.equal((await login.state()).state, 'approved');
    // The honest server's token is refused nowhere.
    assert.equal(JSON.stringify((await session(page)).refused ?? {}).includes(honestToken.tokenId), false);
  } finally {
    await page.evaluate((tokenId) => chrome.runtime.sendMessage({ type: 'token.remove', tokenId }), hostile.tokenId);
    await hostile.stop();
  }
});

test('a server that relays another server\'s genuine request on its own socket has it dropped', async () => {
  const login = await signIn(honest.url, 'alice', 'alice-demo');
  assert.equal((await login.push()).status, 200);
  const s = await waitForSession(page, (x) => Object.values(x.pending ?? {}).some((p) => p.request.tokenId === honestToken.tokenId));
  const [held] = Object.values(s.pending).filter((p) => p.request.tokenId === honestToken.tokenId);
  // The request exactly as its server sends it, tag and all: as if the hostile server had
  // learnt it.
  const [genuine] = (await poll(honestToken, honest.url)).requests;
  assert.equal(genuine.id, held.request.id);
  const heard = workerConsole(browser);
  const hostile = await startHostile({ script: (n) => (n === 1 ? [{ type: 'push', request: genuine }] : []) });
  try {
    await enroll(page, hostile.link);
    await heard.until(/^warning: PushOTP: dropped a request for a token of another server \(socket\)$/);
    const after = await session(page);
    assert.equal(after.pending[genuine.id].via, 'socket');
    assert.equal(after.pending[genuine.id].receivedAt, held.receivedAt);
  } finally {
    heard.stop();
    await page.evaluate((requestId) => chrome.runtime.sendMessage({ type: 'request.answer', requestId, decision: 'deny' }), genuine.id);
    await page.evaluate((tokenId) => chrome.runtime.sendMessage({ type: 'token.remove', tokenId }), hostile.tokenId);
    await hostile.stop();
  }
});

test('a request naming a site its token does not serve is shown and can be approved, but its passcode is typed nowhere until the person confirms the site', async () => {
  const pages = await servePages();
  const dir = await mkdtemp(path.join(tmpdir(), 'pushotp-origins-'));
  const database = path.join(dir, 'server.db');
  const flags = ['--no-number-matching', '--deny-cooldown', '0', '--max-pending', '100'];
  let server = await startServer(flags, { database });
  const port = Number(new URL(server.url).port);
  const ask = (message) => page.evaluate((m) => chrome.runtime.sendMessage(m), message);
  let older = null;
  let newer = null;
  try {
    // Enrolled while the server names no login page but its own.
    older = await enroll(page, server.link);
    assert.equal(older.loginOrigins, undefined);
    // The server now pushes the sign-ins of a login page elsewhere, and declares it to the
    // tokens enrolled from now on (protocol §3 `loginOrigins`), not to the one before.
    await server.stop();
    server = await startServer([...flags, '--login-origin', pages.url], { database, port });
    newer = await enroll(page, await server.enrollLink('alice'));
    assert.deepEqual(newer.loginOrigins, [pages.url]);

    const tab = await browser.context.newPage();
    await tab.goto(`${pages.url}/pages/plain.html`);
    const code = tab.locator('#code');
    const enable = (token, enabled) => ask({ type: 'token.enable', tokenId: token.tokenId, enabled });
    /** One sign-in pushed to `token` alone (the other is off), approved from the popup's message. */
    const approve = async (token) => {
      const login = await signIn(server.url, 'alice', 'alice-demo');
      assert.equal((await login.push()).status, 200);
      const s = await waitForSession(page, (x) => Object.values(x.pending ?? {}).some((p) => p.request.tokenId === token.tokenId));
      const item = Object.values(s.pending).find((p) => p.request.tokenId === token.tokenId);
      assert.equal(item.request.origin, pages.url);
      // The popup shows it, and says whether approving types the code there.
      await page.locator('#request').waitFor();
      const warning = page.locator('#site-warning');
      if (item.foreign) await warning.waitFor();
      const shown = item.foreign ? await page.locator('#site-warning-text').textContent() : null;
      if (!item.foreign) assert.equal(await warning.isHidden(), true);
      const reply = await ask({ type: 'request.answer', requestId: item.request.id, decision: 'approve' });
      assert.equal(reply.outcome?.status, 'approved', JSON.stringify(reply));
      assert.equal((await login.state()).state, 'approved');
      return { item, shown };
    };

    // The token the server declared the page to: the code is typed there. This also shows that
    // the page's content script is listening.
    await enable(older, false);
    const declared = await approve(newer);
    assert.equal(declared.item.foreign, undefined);
    // The sign-in code the server issued with the approval, not the approval's passcode.
    const filled = await code.inputValue();
    assert.match(filled, /^\d{6}$/);
    assert.notEqual(filled, core.pushPasscode(newer.keys.otp, 'SHA1', 6, declared.item.request.id));
    await code.fill('');
    await tab.evaluate(() => {
      window.seen = {};
    });

    // The token enrolled before: shown with a warning, approved at the server, typed nowhere.
    // The answer's reply comes after its fill would have been sent.
    await enable(older, true);
    await enable(newer, false);
    const foreign = await approve(older);
    assert.equal(foreign.item.foreign, true);
    assert.equal(
      foreign.shown,
      `Approving will not type the code at ${new URL(pages.url).host}: ${new URL(server.url).host} never named that site as one of its sign-in pages. If you did not start this sign-in there, deny it.`,
    );
    assert.equal(await code.inputValue(), '');
    assert.equal(await tab.evaluate(() => window.seen.code ?? null), null, 'nothing was typed into the field');

    // The person vouches for the site from the popup's warning: the token's codes go there now.
    const next = await signIn(server.url, 'alice', 'alice-demo');
    assert.equal((await next.push()).status, 200);
    const s = await waitForSession(page, (x) => Object.values(x.pending ?? {}).some((p) => p.request.tokenId === older.tokenId && p.foreign));
    const waiting = Object.values(s.pending).find((p) => p.request.tokenId === older.tokenId);
    await page.locator('#site-warning').waitFor();
    await page.getByRole('button', { name: `Type this token's codes at ${new URL(pages.url).host} from now on` }).click();
    await waitForSession(page, (x) => x.pending?.[waiting.request.id]?.foreign === false);
    await page.locator('#site-warning').waitFor({ state: 'hidden' });
    const sites = (await page.evaluate(() => chrome.storage.local.get('pushTokens'))).pushTokens[older.tokenId].sites;
    assert.deepEqual(sites, [pages.url]);
    const confirmed = await ask({ type: 'request.answer', requestId: waiting.request.id, decision: 'approve' });
    assert.equal(confirmed.outcome?.status, 'approved', JSON.stringify(confirmed));
    assert.match(await code.inputValue(), /^\d{6}$/);
    // A site no waiting request of the token names is refused.
    const refused = await ask({ type: 'token.confirmSite', tokenId: older.tokenId, origin: 'https://bank.example' });
    assert.equal(refused.error?.code, 'invalid_parameter');
    await tab.close();
  } finally {
    for (const token of [older, newer]) if (token) await ask({ type: 'token.remove', tokenId: token.tokenId });
    await server.stop();
    await pages.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
