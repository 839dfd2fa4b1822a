// What an earlier version stored for privacyIDEA tokens is removed when the worker starts: the
// IndexedDB database `pushotp-privacyidea`, which held each token's RSA private key under neither
// the PIN nor the vault password, and the `pinCheck` of a stored token, which confirmed PINs
// offline. The token itself stays, to be enrolled again (`enroll_again`). A profile is given that
// data from an extension page, as the earlier version left it; then the worker stops and starts.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchWithExtension, openExtensionPage } from '../support/browser.mjs';
import { serviceWorkerControl } from '../support/extension.mjs';

const SERIAL = 'PIPU0000EA1F';

let browser;
let page;

before(async () => {
  browser = await launchWithExtension();
  page = await openExtensionPage(browser, 'options.html');
  await page.locator('body[data-ready]').waitFor();
});

after(async () => {
  await browser?.close();
});

/** Writes the earlier version's data: a device key in IndexedDB and a token with a PIN check. */
async function plantEarlierForms() {
  await page.evaluate(async (serial) => {
    const db = await new Promise((resolve, reject) => {
      const open = indexedDB.open('pushotp-privacyidea', 1);
      open.onupgradeneeded = () => open.result.createObjectStore('keys');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const key = await crypto.subtle.generateKey(
      { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
      false,
      ['sign', 'verify'],
    );
    await new Promise((resolve, reject) => {
      const tx = db.transaction('keys', 'readwrite');
      tx.objectStore('keys').put(key.privateKey, serial);
      tx.oncomplete = resolve;
      tx.onerror = () => reject(tx.error);
    });
    db.close();
    const token = {
      serial,
      label: 'Earlier',
      issuer: 'privacyIDEA',
      url: 'https://pi.example/ttype/push',
      sslverify: true,
      ttlMinutes: 10,
      serverKey: 'AAAA',
      pin: true,
      appForceUnlock: 'pin',
      pinCheck: { masked: { salt: 'AAAA', params: {}, masked: 'AAAA' }, digest: 'AAAA' },
      enabled: true,
      addedAt: Date.now(),
    };
    await chrome.storage.local.set({ piTokens: { [serial]: token } });
  }, SERIAL);
}

const databases = () => page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name));
const stored = () => page.evaluate(async () => (await chrome.storage.local.get('piTokens')).piTokens ?? {});

test('the worker removes an earlier version\'s device keys and PIN checks when it starts', async () => {
  const control = await serviceWorkerControl(browser, page);
  await plantEarlierForms();
  assert.ok((await databases()).includes('pushotp-privacyidea'), 'the earlier key store was not written');
  assert.ok('pinCheck' in (await stored())[SERIAL], 'the earlier token was not written');

  await control.stop();
  // Any message starts the worker again.
  await page.evaluate(() => chrome.runtime.sendMessage({ type: 'vault.status' }));
  const deadline = Date.now() + 10_000;
  while ((await databases()).includes('pushotp-privacyidea') || 'pinCheck' in ((await stored())[SERIAL] ?? {})) {
    assert.ok(Date.now() < deadline, `still there: ${await databases()} ${JSON.stringify(await stored())}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // The token stays, to be enrolled again.
  const token = (await stored())[SERIAL];
  assert.equal(token?.label, 'Earlier');
});

test('no console errors', () => {
  assert.deepEqual(browser.errors, []);
});
