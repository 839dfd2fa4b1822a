// What docs/threat-model.md promises of the password vault and its export files, in real
// Chromium with the real server: every export is sealed under a salt of its own; the additional
// data keeps a vault blob from passing as an export file and an export from passing as the
// vault; a push token removed while the vault is locked leaves its sealed keys behind only until
// the next import.
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { launchWithExtension, openExtensionPage } from '../support/browser.mjs';
import { enroll } from '../support/extension.mjs';
import { startServer } from '../support/server.mjs';

const PASSWORD = 'correct horse battery';

let browser;
let server;
let options;
let token; // a push token without PIN: its K_otp and K_ans live in the vault
before(async () => {
  [browser, server] = await Promise.all([launchWithExtension(), startServer(['--no-number-matching', '--deny-cooldown', '0'])]);
  options = await openExtensionPage(browser, 'options.html');
  token = await enroll(options, server.link);
  await options.getByLabel('New password (at least 8 characters)').fill(PASSWORD);
  await options.getByLabel('Type the password again').fill(PASSWORD);
  await options.getByRole('button', { name: 'Set password' }).click();
  await options.getByText('Password saved. The secrets are encrypted with it.').waitFor();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

const local = () => options.evaluate(() => chrome.storage.local.get());
const ask = (message) => options.evaluate((m) => chrome.runtime.sendMessage(m), message);

/** The key for `password` under `kdf`, derived in the page as the extension does. */
function keyFor(password, kdf) {
  return options.evaluate(
    async ({ password, kdf }) => {
      const tools = await import('./tools.js');
      await tools.ready;
      const { salt, memoryKib, iterations, parallelism } = kdf;
      return tools.deriveKey(password, salt, { memoryKib, iterations, parallelism });
    },
    { password, kdf },
  );
}

const b64 = (text) => Buffer.from(text, 'base64url');

/** The JSON `sealed` holds, opened here (Node's WebCrypto) with `key` and additional data `aad`. */
async function opened(sealed, key, aad) {
  const aes = await webcrypto.subtle.importKey('raw', b64(key), 'AES-GCM', false, ['decrypt']);
  const plain = await webcrypto.subtle.decrypt({ name: 'AES-GCM', iv: b64(sealed.iv), additionalData: Buffer.from(aad) }, aes, b64(sealed.data));
  return JSON.parse(Buffer.from(plain).toString());
}

/** Exports through the options page's form, as a person does; the file as downloaded. */
async function exportThroughTheForm(password) {
  const download = options.waitForEvent('download');
  await options.getByLabel('Export password (at least 8 characters)').fill(password);
  await options.getByLabel('Type the export password again').fill(password);
  await options.getByRole('button', { name: 'Export', exact: true }).click();
  return JSON.parse(await readFile(await (await download).path(), 'utf8'));
}

/** Imports `file` through the options page's form with `password`; what the page then says. */
async function importThroughTheForm(file, password) {
  const status = options.locator('#import-status');
  await options.evaluate(() => {
    document.getElementById('import-status').textContent = '';
  });
  await options.getByLabel('Export file').setInputFiles({ name: 'backup.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(file)) });
  await options.getByLabel("The file's password").fill(password);
  await options.getByRole('button', { name: 'Import', exact: true }).click();
  await status.filter({ hasNotText: 'Checking…' }).filter({ hasText: /\S/ }).waitFor();
  return status.textContent();
}

test('each export is sealed under a fresh salt, neither the vault\'s nor an earlier export\'s', async () => {
  const vaultSalt = (await local()).secrets.sealed.kdf.salt;
  const first = await exportThroughTheForm('export secret');
  const second = await exportThroughTheForm('export secret');
  for (const file of [first, second]) {
    assert.equal(b64(file.kdf.salt).length, 16, 'a 16-byte salt');
    assert.deepEqual({ ...file.kdf, salt: undefined }, { salt: undefined, memoryKib: 65536, iterations: 3, parallelism: 1 }, 'RFC 9106 costs');
  }
  assert.notEqual(first.kdf.salt, second.kdf.salt);
  assert.notEqual(first.kdf.salt, vaultSalt);
  assert.notEqual(second.kdf.salt, vaultSalt);
  // The same password under another salt is another key: the two files differ throughout.
  assert.notEqual(await keyFor('export secret', first.kdf), await keyFor('export secret', second.kdf));
});

test('a vault blob passed off as an export file is refused by import, and nothing changes', async () => {
  const before = await local();
  const { sealed } = before.secrets;
  // The vault's own blob under its own password and salt: the key is the right one, only the
  // additional data (pushotp-vault-v1, not pushotp-export-v1) tells the two apart.
  const file = { format: 'pushotp-export', ...sealed };
  assert.equal(await importThroughTheForm(file, PASSWORD), 'Wrong password for this file.');
  const reply = await ask({ type: 'vault.import', file, key: await keyFor(PASSWORD, sealed.kdf) });
  assert.equal(reply.error?.code, 'wrong_password', JSON.stringify(reply));
  assert.deepEqual(await local(), before);
});

test('an export in place of the vault\'s sealed secrets does not unlock, and nothing changes', async () => {
  const { secrets } = await local();
  const key = await keyFor(PASSWORD, secrets.sealed.kdf);
  // An export under the vault's own key (same password, same salt): only the additional data
  // differs. Its content is what the vault would be asked to believe.
  const { file } = await ask({ type: 'vault.export', key, kdf: secrets.sealed.kdf });
  assert.equal((await opened(file, key, 'pushotp-export-v1')).pushTokens[0].keys.otp, token.keys.otp);
  assert.deepEqual(await ask({ type: 'vault.lock' }), { ok: true });
  const swapped = { v: 1, kdf: file.kdf, iv: file.iv, data: file.data };
  await options.evaluate((sealed) => chrome.storage.local.set({ secrets: { sealed } }), swapped);
  try {
    const before = await local();
    const unlock = options.locator('#vault-unlock');
    await unlock.getByLabel('Password').fill(PASSWORD);
    await unlock.getByRole('button', { name: 'Unlock' }).click();
    await unlock.getByText('Wrong password.').waitFor();
    const reply = await ask({ type: 'vault.unlock', key });
    assert.equal(reply.error?.code, 'wrong_password', JSON.stringify(reply));
    assert.equal((await ask({ type: 'vault.status' })).locked, true);
    assert.equal((await options.evaluate(() => chrome.storage.session.get('vaultKey'))).vaultKey, undefined);
    assert.deepEqual(await local(), before);
  } finally {
    await options.evaluate((s) => chrome.storage.local.set({ secrets: s }), secrets);
  }
  assert.deepEqual(await ask({ type: 'vault.unlock', key }), { ok: true });
  await options.getByText('Unlocked: the secrets of your tokens are encrypted').waitFor();
});

test('a push token removed while locked leaves its sealed keys until the next import, which drops them', async () => {
  const other = await startServer(['--no-number-matching']);
  try {
    const removed = await enroll(options, other.link);
    const { kdf } = (await local()).secrets.sealed;
    const key = await keyFor(PASSWORD, kdf);
    const vault = async () => opened((await local()).secrets.sealed, key, 'pushotp-vault-v1');
    // Its approval keys went into the sealed vault.
    const keys = (await vault()).push[removed.tokenId];
    assert.match(keys?.answer ?? '', /^[A-Za-z0-9_-]{43}$/);

    assert.deepEqual(await ask({ type: 'vault.lock' }), { ok: true });
    const before = await local();
    const reply = await ask({ type: 'token.remove', tokenId: removed.tokenId });
    assert.equal(reply.ok, true, JSON.stringify(reply));
    const after = await local();
    assert.equal(after.pushTokens[removed.tokenId], undefined);
    assert.ok(after.pushTokens[token.tokenId]);
    // The sealed secrets are exactly as they were: without the key nothing could rewrite them.
    assert.deepEqual(after.secrets, before.secrets);

    // Unlocked, the keys are still in the vault, as the threat model says…
    assert.deepEqual(await ask({ type: 'vault.unlock', key }), { ok: true });
    assert.deepEqual((await vault()).push[removed.tokenId], keys);

    // …until the next import, which drops the secrets of every token that is gone.
    const exportKdf = { salt: 'AAECAwQFBgcICQoLDA0ODw', memoryKib: 64, iterations: 1, parallelism: 1 };
    const exportKey = await keyFor('export password', exportKdf);
    const { file } = await ask({ type: 'vault.export', key: exportKey, kdf: exportKdf });
    const imported = await ask({ type: 'vault.import', file, key: exportKey });
    assert.equal(imported.ok, true, JSON.stringify(imported));
    assert.equal(imported.added, 0);
    const now = await vault();
    assert.equal(now.push[removed.tokenId], undefined);
    assert.deepEqual(Object.keys(now.push), [token.tokenId]);
    assert.deepEqual(now.push[token.tokenId], { otp: token.keys.otp, answer: token.keys.answer });
    assert.ok(!JSON.stringify(now).includes(keys.answer));
  } finally {
    await other.stop();
  }
});

test('no console errors', () => {
  assert.deepEqual(browser.errors, []);
});
