// What docs/threat-model.md promises of a hostile server the person enrolled a token on, in real
// Chromium with the real extension: whatever it says acts only on its own tokens, so that it
// cannot silence the person's other servers.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchWithExtension, openExtensionPage } from '../support/browser.mjs';
import { enroll, session, waitForSession } from '../support/extension.mjs';
import { startHostile } from '../support/hostile.mjs';
import { signIn, startServer } from '../support/server.mjs';

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
