// The extension's storage is the extension's own: a content script (and so a page that took
// over its renderer) can neither read nor change chrome.storage, local or session. Everything a
// content script needs comes in the service worker's answers (page.js).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchWithExtension, openExtensionPage } from '../support/browser.mjs';
import { allowListed, contentScriptOf, serviceWorkerControl } from '../support/extension.mjs';
import { servePages } from '../support/pages.mjs';

let browser;
let pages;
let helper;
before(async () => {
  [browser, pages] = await Promise.all([launchWithExtension(), servePages()]);
  helper = await openExtensionPage(browser, 'options.html');
  await helper.locator('body[data-ready]').waitFor();
  // Something worth taking: an everyday token confirmed for the test pages.
  const reply = await helper.evaluate(
    (token) => chrome.runtime.sendMessage({ type: 'otp.add', tokens: [token] }),
    { issuer: 'Example', account: 'alice', type: 'totp', algorithm: 'SHA1', digits: 6, period: 30, secret: 'JBSWY3DPEHPK3PXP', sites: [pages.url] },
  );
  assert.equal(reply.ok, true, JSON.stringify(reply));
  await allowListed(browser, [pages.url]);
});
after(async () => {
  await browser?.close();
  await pages?.stop();
});

/** Every way a content script could reach storage, each tried on its own: what each gave. */
const TRIES = `(async () => {
  const tries = {
    readLocal: () => chrome.storage.local.get(null),
    writeLocal: () => chrome.storage.local.set({ otpTokens: {} }),
    removeLocal: () => chrome.storage.local.remove('otpTokens'),
    readSession: () => chrome.storage.session.get(null),
    writeSession: () => chrome.storage.session.set({ vaultKey: 'x' }),
  };
  const out = {};
  for (const [name, run] of Object.entries(tries)) {
    try {
      out[name] = { ok: JSON.stringify((await run()) ?? null) };
    } catch (err) {
      out[name] = { refused: String(err.message) };
    }
  }
  return out;
})()`;

/** Checks that each try was refused by the browser, and storage is as it was. */
async function refusedAll(world) {
  const tries = await world.evaluate(TRIES);
  for (const [name, outcome] of Object.entries(tries)) assert.ok(outcome.refused, `${name}: ${JSON.stringify(outcome)}`);
  const { otpTokens = {} } = await helper.evaluate(() => chrome.storage.local.get('otpTokens'));
  assert.equal(Object.values(otpTokens).length, 1, 'the token is still stored');
  const { vaultKey } = await helper.evaluate(() => chrome.storage.session.get('vaultKey'));
  assert.equal(vaultKey, undefined);
}

test('a content script can neither read nor change the extension\'s storage', async () => {
  const page = await browser.context.newPage();
  await page.goto(`${pages.url}/pages/plain.html`);
  // The content scripts ran and work: the fill button of the token shows.
  const world = await contentScriptOf(browser, page.mainFrame());
  await world.ready();
  await page.locator('pushotp-fill').waitFor();
  await refusedAll(world);
  await world.detach();
  await page.close();
});

test('storage stays closed to content scripts after the service worker restarts', async () => {
  const control = await serviceWorkerControl(browser, helper);
  await control.stop();
  const page = await browser.context.newPage();
  await page.goto(`${pages.url}/pages/plain.html`);
  const world = await contentScriptOf(browser, page.mainFrame());
  await world.ready();
  // The button needs the worker: it started again.
  await page.locator('pushotp-fill').waitFor();
  await refusedAll(world);
  await world.detach();
  await page.close();
});

test('no console errors', () => {
  assert.deepEqual(browser.errors, []);
});
