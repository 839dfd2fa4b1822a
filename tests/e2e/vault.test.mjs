// The password that seals the tokens' secrets, in real Chromium with the real server: sealed
// storage holds no key in clear, a locked vault refuses approvals but still receives requests,
// wrong passwords change nothing, auto-lock and a cleared session lock, and an encrypted export
// imports back to the same tokens and keys.
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';
import { launchWithExtension, openExtensionPage } from '../support/browser.mjs';
import { enroll, serviceWorkerControl, session, waitForSession } from '../support/extension.mjs';
import { signIn, startServer } from '../support/server.mjs';

const PASSWORD = 'correct horse battery';
const OTP_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const OTP_ID = 'otp-token-1';

let browser;
let server;
let options;
let token; // the enrolled push token, with K_otp and K_ans
before(async () => {
  [browser, server] = await Promise.all([
    launchWithExtension(),
    startServer(['--no-number-matching', '--deny-cooldown', '0']),
  ]);
  options = await openExtensionPage(browser, 'options.html');
  token = await enroll(options, server.link);
  // An ordinary token, stored as the worker stores them.
  await options.evaluate(
    async ({ id, secret }) => {
      const { secrets } = await chrome.storage.local.get('secrets');
      await chrome.storage.local.set({
        otpTokens: { [id]: { id, issuer: 'Example', account: 'bob', type: 'totp', algorithm: 'SHA1', digits: 6, period: 30, sites: [], order: 0, addedAt: 1 } },
        secrets: { ...secrets, otp: { [id]: secret } },
      });
    },
    { id: OTP_ID, secret: OTP_SECRET },
  );
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

const local = () => options.evaluate(() => chrome.storage.local.get());
const ask = (message) => options.evaluate((m) => chrome.runtime.sendMessage(m), message);
const status = () => ask({ type: 'vault.status' });

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

/** The content of an export made with a fresh key, decrypted here (Node's WebCrypto). */
async function exportedContent() {
  const kdf = { salt: 'AAECAwQFBgcICQoLDA0ODw', memoryKib: 64, iterations: 1, parallelism: 1 };
  const key = await keyFor('export password', kdf);
  const reply = await ask({ type: 'vault.export', key, kdf });
  assert.ok(reply.ok, JSON.stringify(reply));
  const aes = await webcrypto.subtle.importKey('raw', b64(key), 'AES-GCM', false, ['decrypt']);
  const plain = await webcrypto.subtle.decrypt(
    { name: 'AES-GCM', iv: b64(reply.file.iv), additionalData: Buffer.from('pushotp-export-v1') },
    aes,
    b64(reply.file.data),
  );
  return JSON.parse(Buffer.from(plain).toString());
}

/** Pushes a sign-in request and returns its id once the extension shows it. */
async function pushRequest() {
  const login = await signIn(server.url, 'alice', 'alice-demo');
  assert.equal((await login.push()).status, 200);
  const s = await waitForSession(options, (x) => Object.values(x.pending ?? {}).length === 1);
  return Object.values(s.pending)[0].request.id;
}

test('without a password the secrets are plain, and the page says so', async () => {
  assert.deepEqual(await status(), { ok: true, protected: false, locked: false, autoLockMinutes: 15, kdf: null });
  await options.getByText('No password: the secrets of your tokens are stored unencrypted').waitFor();
  // Secrets written plain can outlive the sealing on disk (docs/threat-model.md, Known limits).
  await options.getByText('Tokens added before you set a password may stay readable').waitFor();
  const stored = await local();
  assert.deepEqual(Object.keys(stored.pushTokens[token.tokenId].keys).sort(), ['channel', 'request']);
  assert.deepEqual(stored.secrets.push[token.tokenId], { otp: token.keys.otp, answer: token.keys.answer });
});

test('a password seals the secrets: storage holds no key or secret in clear', async () => {
  await options.getByLabel('New password (at least 8 characters)').fill('short');
  await options.getByLabel('Type the password again').fill('short');
  await options.getByRole('button', { name: 'Set password' }).click();
  await options.getByText('The password must have at least 8 characters.').waitFor();
  await options.getByLabel('New password (at least 8 characters)').fill(PASSWORD);
  await options.getByLabel('Type the password again').fill(PASSWORD);
  await options.getByRole('button', { name: 'Set password' }).click();
  await options.getByText('Password saved. The secrets are encrypted with it.').waitFor();
  await options.locator('#password-first').waitFor({ state: 'hidden' });
  const stored = await local();
  assert.deepEqual(Object.keys(stored.secrets), ['sealed']);
  const { sealed } = stored.secrets;
  assert.equal(sealed.v, 1);
  assert.deepEqual(Object.keys(sealed.kdf).sort(), ['iterations', 'memoryKib', 'parallelism', 'salt']);
  // RFC 9106 §4's second recommended costs (64 MiB, t = 3), derived once per unlock.
  assert.deepEqual({ ...sealed.kdf, salt: undefined }, { salt: undefined, memoryKib: 65536, iterations: 3, parallelism: 1 });
  assert.match(sealed.iv, /^[A-Za-z0-9_-]{16}$/);
  const json = JSON.stringify(stored);
  for (const secret of [token.keys.otp, token.keys.answer, OTP_SECRET]) assert.ok(!json.includes(secret), secret);
  assert.deepEqual((await status()).locked, false);
  await options.getByText('Unlocked: the secrets of your tokens are encrypted').waitFor();
  // Still unlocked: the secrets export as before.
  const content = await exportedContent();
  assert.equal(content.otpTokens[0].secret, OTP_SECRET);
  assert.equal(content.pushTokens[0].keys.otp, token.keys.otp);
});

test('locked: approvals are refused, requests still arrive and denials still work', async () => {
  await options.getByRole('button', { name: 'Lock now' }).click();
  await options.getByText('Locked: the secrets of your tokens are encrypted').waitFor();
  assert.equal((await status()).locked, true);
  assert.equal((await options.evaluate(() => chrome.storage.session.get('vaultKey'))).vaultKey, undefined);
  const requestId = await pushRequest();
  const refused = await ask({ type: 'request.answer', requestId, decision: 'approve' });
  assert.equal(refused.error.code, 'locked');
  assert.ok((await options.evaluate(() => chrome.storage.session.get('pending'))).pending[requestId]);
  assert.equal((await ask({ type: 'vault.export', key: 'A'.repeat(43), kdf: {} })).error.code, 'locked');
  const denied = await ask({ type: 'request.answer', requestId, decision: 'deny' });
  assert.equal(denied.outcome.status, 'denied');
});

test('the popup asks for the password, refuses a wrong one, and approves after the right one', async () => {
  const requestId = await pushRequest();
  const popup = await openExtensionPage(browser, 'popup.html');
  await popup.getByRole('button', { name: 'Approve' }).click();
  await popup.getByText('PushOTP is locked. Type your password to unlock it.').waitFor();
  await popup.getByLabel('Password').fill('not the password');
  await popup.getByRole('button', { name: 'Unlock' }).click();
  await popup.getByText('Wrong password.').waitFor();
  assert.equal((await status()).locked, true);
  assert.ok((await options.evaluate(() => chrome.storage.session.get('pending'))).pending[requestId]);
  // A wrong key straight to the worker changes nothing either.
  const before = await local();
  assert.equal((await ask({ type: 'vault.unlock', key: 'A'.repeat(43) })).error.code, 'wrong_password');
  assert.deepEqual(await local(), before);
  assert.equal((await status()).locked, true);

  await popup.getByLabel('Password').fill(PASSWORD);
  await popup.getByRole('button', { name: 'Unlock' }).click();
  const s = await waitForSession(options, (x) => x.outcomes?.[requestId]);
  assert.equal(s.outcomes[requestId].status, 'approved');
  assert.equal((await status()).locked, false);
  await popup.close();
});

test('auto-lock removes the key when its time has passed', async () => {
  const { lockAt } = await options.evaluate(() => chrome.storage.session.get('lockAt'));
  assert.ok(lockAt > Date.now() + 14 * 60_000, 'default: 15 minutes from the last approval');
  // A second: shorter than the select offers, for the test only. The worker re-arms the
  // browser's alarm for the new time; nothing here locks: the alarm, when the browser fires
  // it, must.
  await options.evaluate(async () => {
    const { settings } = await chrome.storage.local.get('settings');
    await chrome.storage.local.set({ settings: { ...settings, autoLockMinutes: 0.02 } });
  });
  let alarm = null;
  for (let i = 0; i < 50 && !(alarm?.scheduledTime < lockAt); i++) {
    if (i) await new Promise((resolve) => setTimeout(resolve, 20));
    alarm = await options.evaluate(() => chrome.alarms.get('vault-lock'));
  }
  assert.ok(alarm?.scheduledTime < lockAt, `the alarm is set for the new time: ${JSON.stringify(alarm)}`);
  assert.equal((await status()).locked, false, 'not locked before the alarm');
  let locked = false;
  for (let i = 0; i < 100 && !locked; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    locked = (await status()).locked;
  }
  assert.equal(locked, true, 'locked by the alarm');
  assert.equal(await options.evaluate(() => chrome.alarms.get('vault-lock')), undefined, 'the alarm is spent');
  await options.evaluate(async () => {
    const { settings } = await chrome.storage.local.get('settings');
    await chrome.storage.local.set({ settings: { ...settings, autoLockMinutes: 15 } });
  });
});

test('a browser restart (session storage cleared) locks', async () => {
  const { kdf } = await status();
  assert.deepEqual(await ask({ type: 'vault.unlock', key: await keyFor(PASSWORD, kdf) }), { ok: true });
  assert.equal((await status()).locked, false);
  await options.evaluate(() => chrome.storage.session.clear());
  assert.equal((await status()).locked, true);
  assert.deepEqual(await ask({ type: 'vault.unlock', key: await keyFor(PASSWORD, kdf) }), { ok: true });
});

test('the options page says what the lock state is now: "Locked." goes once unlocked', async () => {
  const status = options.locator('#password-status');
  await options.getByRole('button', { name: 'Lock now' }).click();
  await options.getByText('Locked: the secrets of your tokens are encrypted').waitFor();
  assert.equal(await status.textContent(), 'Locked.');
  // Unlocked in the options page itself.
  await options.locator('#vault-unlock').getByLabel('Password').fill(PASSWORD);
  await options.locator('#vault-unlock').getByRole('button', { name: 'Unlock' }).click();
  await options.getByText('Unlocked: the secrets of your tokens are encrypted').waitFor();
  assert.equal(await status.textContent(), 'Unlocked.');
  // Locked and unlocked elsewhere (the popup, auto-lock): the page follows.
  assert.deepEqual(await ask({ type: 'vault.lock' }), { ok: true });
  await options.getByText('Locked: the secrets of your tokens are encrypted').waitFor();
  assert.equal(await status.textContent(), 'Locked.');
  const { kdf } = await ask({ type: 'vault.status' });
  assert.deepEqual(await ask({ type: 'vault.unlock', key: await keyFor(PASSWORD, kdf) }), { ok: true });
  await options.getByText('Unlocked: the secrets of your tokens are encrypted').waitFor();
  assert.equal(await status.textContent(), 'Unlocked.');
});

test('export, then import into the emptied profile, gives back the same tokens, the push token restored at its server', async () => {
  const original = await exportedContent();
  const before = await local();

  const download = options.waitForEvent('download');
  await options.getByLabel('Export password (at least 8 characters)').fill('export secret');
  await options.getByLabel('Type the export password again').fill('export secret');
  await options.getByRole('button', { name: 'Export', exact: true }).click();
  const file = await download;
  assert.match(file.suggestedFilename(), /^pushotp-export-\d{4}-\d{2}-\d{2}\.json$/);
  const text = await (await import('node:fs/promises')).readFile(await file.path(), 'utf8');
  const exported = JSON.parse(text);
  assert.deepEqual(Object.keys(exported).sort(), ['data', 'format', 'iv', 'kdf', 'v']);
  assert.equal(exported.format, 'pushotp-export');
  for (const secret of [token.keys.otp, token.keys.answer, OTP_SECRET]) assert.ok(!text.includes(secret));

  // The tokens go (locally only: the server keeps the push token).
  await options.evaluate(() => chrome.storage.local.set({ pushTokens: {}, otpTokens: {} }));
  const emptied = await local();

  const choose = () => options.getByLabel('Export file').setInputFiles({ name: file.suggestedFilename(), mimeType: 'application/json', buffer: Buffer.from(text) });
  await choose();
  await options.getByLabel("The file's password").fill('not the export password');
  await options.getByRole('button', { name: 'Import', exact: true }).click();
  await options.getByText('Wrong password for this file.').waitFor();
  assert.deepEqual(await local(), emptied);

  // The push token's server was given back with the last token that used it: the file is
  // imported only once the person allows PushOTP to reach it again.
  assert.deepEqual((await options.evaluate(() => chrome.permissions.getAll())).origins, []);
  await options.getByLabel("The file's password").fill('export secret');
  await options.getByRole('button', { name: 'Import', exact: true }).click();
  const host = new URL(server.url).host;
  await options
    .getByText(`PushOTP may not reach ${host} yet, where this file's push tokens are restored: nothing was imported. Press Allow access, and your browser asks you.`)
    .waitFor();
  assert.deepEqual(await local(), emptied);
  await options.getByRole('button', { name: 'Allow access' }).click();
  await options.getByText('Added 2 tokens.').waitFor();
  assert.equal(await options.getByRole('button', { name: 'Allow access' }).isVisible(), false);
  const after = await local();
  // The push token was restored at its server (docs/protocol.md §8): new request and channel
  // keys, everything else as it was.
  const [was, now] = [before.pushTokens[token.tokenId], after.pushTokens[token.tokenId]];
  assert.notEqual(now.keys.request, was.keys.request);
  assert.notEqual(now.keys.channel, was.keys.channel);
  const withoutKeys = (t) => ({ ...t, keys: undefined });
  assert.deepEqual(withoutKeys(now), withoutKeys(was));
  assert.deepEqual(Object.keys(after.pushTokens), Object.keys(before.pushTokens));
  assert.deepEqual(after.otpTokens, before.otpTokens);
  token = { ...token, keys: { ...token.keys, request: now.keys.request, channel: now.keys.channel } };
  const again = await exportedContent();
  assert.deepEqual(again.otpTokens, original.otpTokens);
  assert.deepEqual(again.pushTokens.map(withoutKeys), original.pushTokens.map(withoutKeys));
  assert.deepEqual(again.pushTokens[0].keys, { ...original.pushTokens[0].keys, request: now.keys.request, channel: now.keys.channel });

  // A second import adds nothing: every token is already here.
  await options.getByLabel("The file's password").fill('export secret');
  await options.getByRole('button', { name: 'Import', exact: true }).click();
  await options.getByText('Added 0 tokens: both are already here.').waitFor();

  // The imported push token approves.
  const requestId = await pushRequest();
  const reply = await ask({ type: 'request.answer', requestId, decision: 'approve' });
  assert.equal(reply.outcome.status, 'approved');
});

test('removing the password stores the secrets plain again', async () => {
  await options.getByRole('button', { name: 'Remove password' }).click();
  await options.getByText('Password removed. The secrets are stored unencrypted.').waitFor();
  const stored = await local();
  assert.deepEqual(stored.secrets.push[token.tokenId], { otp: token.keys.otp, answer: token.keys.answer });
  assert.equal(stored.secrets.otp[OTP_ID], OTP_SECRET);
  assert.equal((await status()).protected, false);
});

test('secrets sealed at the earlier, lower costs still open with their password', async () => {
  // As a vault of an earlier version was sealed: PIN masking's costs (19 MiB, t = 2), stored
  // with the secrets, so that unlocking derives the key at the costs it was sealed with.
  const kdf = { salt: 'AAECAwQFBgcICQoLDA0ODw', memoryKib: 19456, iterations: 2, parallelism: 1 };
  assert.ok((await ask({ type: 'vault.setPassword', key: await keyFor(PASSWORD, kdf), kdf })).ok);
  assert.deepEqual((await local()).secrets.sealed.kdf, kdf);
  assert.ok((await ask({ type: 'vault.lock' })).ok);
  assert.equal((await status()).locked, true);
  await options.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await options.getByRole('button', { name: 'Unlock' }).click();
  await options.getByText('Unlocked: the secrets of your tokens are encrypted').waitFor();
  assert.equal((await status()).locked, false);
  await options.getByRole('button', { name: 'Remove password' }).click();
  await options.getByText('Password removed. The secrets are stored unencrypted.').waitFor();
  assert.equal((await local()).secrets.push[token.tokenId].answer, token.keys.answer);
});

test('approval keys that earlier versions kept in the token move into the vault at start', async () => {
  await options.evaluate(async ({ tokenId, keys }) => {
    const { pushTokens, secrets } = await chrome.storage.local.get(['pushTokens', 'secrets']);
    pushTokens[tokenId] = { ...pushTokens[tokenId], keys };
    delete secrets.push[tokenId];
    await chrome.storage.local.set({ pushTokens, secrets });
  }, { tokenId: token.tokenId, keys: token.keys });
  const control = await serviceWorkerControl(browser, options);
  await control.stop();
  assert.equal((await status()).ok, true); // the message wakes the worker
  for (let i = 0; i < 50; i++) {
    const stored = await local();
    if (stored.secrets.push[token.tokenId] && !stored.pushTokens[token.tokenId].keys.otp) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const stored = await local();
  assert.deepEqual(stored.secrets.push[token.tokenId], { otp: token.keys.otp, answer: token.keys.answer });
  assert.deepEqual(stored.pushTokens[token.tokenId].keys, { request: token.keys.request, channel: token.keys.channel });
});

/**
 * Approves request `requestId` of PIN token `tokenId` in `page`'s extension as the popup does
 * after the person typed `pin`: the tools module unmasks the keys, the worker answers.
 */
function approveWithPin(page, requestId, tokenId, pin) {
  return page.evaluate(
    async ({ requestId, tokenId, pin }) => {
      const tools = await import('./tools.js');
      await tools.ready;
      const { pushTokens } = await chrome.storage.local.get('pushTokens');
      const keys = tools.unmaskKeys(pushTokens[tokenId].masked, pin);
      return chrome.runtime.sendMessage({ type: 'request.answer', requestId, decision: 'approve', keys });
    },
    { requestId, tokenId, pin },
  );
}

/** Starts a sign-in at `url` and returns it and the id of its request once `page`'s extension holds it. */
async function pushedTo(page, url) {
  const login = await signIn(url, 'alice', 'alice-demo');
  assert.equal((await login.push()).status, 200);
  const s = await waitForSession(page, (x) => Object.values(x.pending ?? {}).length === 1);
  return { login, requestId: Object.values(s.pending)[0].request.id };
}

test('a PIN push token imported into a fresh browser takes over: the right PIN approves there, the old copy says why it stopped', async () => {
  const pinServer = await startServer(['--no-number-matching', '--require-pin', '--max-tries', '3', '--deny-cooldown', '0']);
  const fresh = await launchWithExtension();
  try {
    const pinToken = await enroll(options, pinServer.link, { pin: '2468' });
    const kdf = { salt: 'AAECAwQFBgcICQoLDA0ODw', memoryKib: 64, iterations: 1, parallelism: 1 };
    const { file } = await ask({ type: 'vault.export', key: await keyFor('export password', kdf), kdf });
    // Two sign-ins after the export.
    for (let i = 0; i < 2; i++) {
      const { login, requestId } = await pushedTo(options, pinServer.url);
      const reply = await approveWithPin(options, requestId, pinToken.tokenId, '2468');
      assert.equal(reply.outcome?.status, 'approved', JSON.stringify(reply));
      assert.equal((await login.state()).state, 'approved');
    }

    // The export form says what becomes of push tokens on import, and of privacyIDEA tokens.
    await options.getByText('Importing a push token moves it to the browser it is imported into').waitFor();
    await options.getByText('privacyIDEA tokens are not in the file').waitFor();

    // Import into a fresh browser, through its options page.
    const freshOptions = await openExtensionPage(fresh, 'options.html');
    await freshOptions.getByLabel('Export file').setInputFiles({ name: 'backup.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(file)) });
    await freshOptions.getByLabel("The file's password").fill('export password');
    await freshOptions.getByRole('button', { name: 'Import', exact: true }).click();
    // The fresh browser has never been allowed to reach the servers: it asks first.
    await freshOptions.getByRole('button', { name: 'Allow access' }).click();
    const status = freshOptions.locator('#import-status');
    await status.filter({ hasNotText: /Checking…|Importing…|Press Allow access/ }).filter({ hasText: /\S/ }).waitFor();
    assert.equal(await status.textContent(), 'Added 3 tokens.');
    const restored = (await freshOptions.evaluate(() => chrome.storage.local.get('pushTokens'))).pushTokens[pinToken.tokenId];
    assert.deepEqual(restored.otp, pinToken.otp, 'nothing to catch up with: passcodes are bound to each request');
    assert.notEqual(restored.keys.channel, pinToken.keys.channel, 'new channel key');
    assert.notEqual(restored.keys.request, pinToken.keys.request, 'new request key');
    assert.deepEqual(restored.masked, pinToken.masked, 'the PIN-masked keys as they were');

    // The old copy is told at once, and says so.
    const moved = options.locator(`li[data-token-id="${pinToken.tokenId}"] .token-moved`);
    await moved.waitFor();
    assert.match(await moved.textContent(), /^Restored in another browser \(noticed .+\): Demo Org now sends this token's sign-in requests there, and this browser can no longer answer them\. Remove it here\.$/);
    assert.ok((await local()).pushTokens[pinToken.tokenId].restoredElsewhereAt > 0);

    // The fresh browser signs in with the right PIN at the first try; the old one gets nothing.
    const { login, requestId } = await pushedTo(freshOptions, pinServer.url);
    const reply = await approveWithPin(freshOptions, requestId, pinToken.tokenId, '2468');
    assert.equal(reply.outcome?.status, 'approved', JSON.stringify(reply));
    assert.equal((await login.state()).state, 'approved');
    assert.deepEqual(Object.values((await session(options)).pending ?? {}), []);

    // Removing the old copy forgets it here only: the server keeps the token for the new one.
    assert.deepEqual(await ask({ type: 'token.remove', tokenId: pinToken.tokenId }), { ok: true, serverNotified: false, restoredElsewhere: true });
    const again = await pushedTo(freshOptions, pinServer.url);
    const second = await approveWithPin(freshOptions, again.requestId, pinToken.tokenId, '2468');
    assert.equal(second.outcome?.status, 'approved', JSON.stringify(second));

    // The same file again into the old browser, now older than the restore: refused, with the
    // reason.
    await options.getByLabel('Export file').setInputFiles({ name: 'backup.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(file)) });
    await options.getByLabel("The file's password").fill('export password');
    await options.getByRole('button', { name: 'Import', exact: true }).click();
    const oldStatus = options.locator('#import-status');
    await oldStatus.filter({ hasText: 'another browser restored it' }).waitFor();
    assert.equal(await oldStatus.textContent(), 'Added 0 tokens: 2 were already here; 1 push token was not added because another browser restored it after this file was made; use that browser, or export from it.');
    await freshOptions.close();
    assert.deepEqual(fresh.errors, []);
  } finally {
    await fresh.close();
    await pinServer.stop();
  }
});

/**
 * An export file of `content`, sealed in the options page with the extension's own sealing
 * (sealing.js) under the key of `password`, as `vault.export` writes one.
 */
async function craftedExport(content, password) {
  const kdf = { salt: 'DwAODQwLCgkIBwYFBAMCAQ', memoryKib: 64, iterations: 1, parallelism: 1 };
  const key = await keyFor(password, kdf);
  const sealed = await options.evaluate(
    async ({ content, key }) => {
      const { fromB64url, sealJson } = await import('./sealing.js');
      return sealJson(content, fromB64url(key), 'pushotp-export-v1');
    },
    { content, key },
  );
  return { format: 'pushotp-export', v: 1, kdf, ...sealed };
}

test('an import checks every token as adding one does: those that break a rule are not added, and the page names them and why', async () => {
  // A server that no token may have: were its restore sent, it would be heard here.
  const heard = [];
  const trap = createServer((req, res) => {
    heard.push(req.url);
    res.writeHead(500).end();
  });
  await new Promise((resolve) => trap.listen(0, '127.0.0.1', resolve));
  try {
    const key32 = (byte) => Buffer.alloc(32, byte).toString('base64url');
    const keys = { otp: key32(1), request: key32(2), answer: key32(3), channel: key32(4) };
    const push = (tokenId, tokenName, server) => ({
      tokenId,
      tokenName,
      user: 'alice',
      issuer: 'Demo Org',
      deviceName: 'Test browser',
      server,
      otp: { type: 'hotp', algorithm: 'SHA1', digits: 6, counter: 0 },
      pin: { required: false, maxTries: 5 },
      keys,
      enabled: true,
      addedAt: 1,
    });
    const code = (id, fields) => ({ id, issuer: 'Import', account: id, type: 'totp', algorithm: 'SHA1', digits: 6, period: 30, sites: [], order: 0, addedAt: 1, secret: 'JBSWY3DPEHPK3PXP', ...fields });
    const file = await craftedExport(
      {
        otpTokens: [
          code('import-good', { sites: ['https://good.example'] }),
          code('import-path', { issuer: 'Bank', account: 'path', sites: ['https://bank.example/login'] }),
          code('import-script', { issuer: 'Bank', account: 'script', sites: ['javascript:alert(1)'] }),
          code('import-bell', { issuer: 'Bank\u0007\u001b[2K', account: 'bell' }),
        ],
        pushTokens: [
          push('import-javascript', 'Script server', 'javascript:alert(document.domain)'),
          push('import-query', 'Query server', `http://127.0.0.1:${trap.address().port}/x?evil`),
          push('import-plain', 'Plain server', 'http://push.example'),
        ],
      },
      'crafted file',
    );
    const before = await local();

    const status = options.locator('#import-status');
    // What an earlier import said goes first, so that only this import's summary is read.
    await status.evaluate((element) => {
      element.textContent = '';
    });
    await options.getByLabel('Export file').setInputFiles({ name: 'crafted.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(file)) });
    await options.getByLabel("The file's password").fill('crafted file');
    await options.getByRole('button', { name: 'Import', exact: true }).click();
    await status.filter({ hasNotText: 'Checking…' }).filter({ hasText: /\S/ }).waitFor();
    assert.equal(
      await status.textContent(),
      'Added 1 token: 6 were not added because they break the rules every new token meets: ' +
        'Bank · path (the parameter sites is invalid); ' +
        'Bank · script (the parameter sites is invalid); ' +
        'Bank\uFFFD\uFFFD[2K · bell (the parameter issuer is invalid); ' +
        'Script server (the token is incomplete: server must be an http(s) address); ' +
        'Query server (the token is incomplete: server must be an http(s) address); ' +
        'Plain server (the token is incomplete: server must use https (http only to this computer)).',
    );

    // Only the good token was added; nothing else changed, and no refused server was asked.
    const after = await local();
    assert.deepEqual(Object.keys(after.otpTokens).sort(), [...Object.keys(before.otpTokens), 'import-good'].sort());
    assert.deepEqual(after.otpTokens['import-good'].sites, ['https://good.example']);
    const { 'import-good': added, ...rest } = after.otpTokens;
    assert.ok(added);
    assert.deepEqual(rest, before.otpTokens);
    assert.deepEqual(after.pushTokens, before.pushTokens);
    assert.deepEqual(after.restores ?? {}, before.restores ?? {});
    assert.deepEqual(heard, []);

    // The worker's reply names each refused token and the core's reason.
    const reply = await ask({ type: 'vault.import', file, key: await keyFor('crafted file', file.kdf) });
    assert.equal(reply.ok, true, JSON.stringify(reply));
    assert.equal(reply.added, 0);
    assert.equal(reply.present, 1);
    assert.deepEqual(
      reply.invalid.map((t) => [t.kind, t.kind === 'otp' ? t.account : t.tokenName, t.code]),
      [
        ['otp', 'path', 'invalid_parameter'],
        ['otp', 'script', 'invalid_parameter'],
        ['otp', 'bell', 'invalid_parameter'],
        ['push', 'Script server', 'invalid_token'],
        ['push', 'Query server', 'invalid_token'],
        ['push', 'Plain server', 'invalid_token'],
      ],
    );
    assert.deepEqual(heard, []);
    assert.deepEqual(await ask({ type: 'otp.delete', id: 'import-good' }), { ok: true });
  } finally {
    await new Promise((resolve) => trap.close(resolve));
  }
});

test('no console errors', () => {
  assert.deepEqual(browser.errors, []);
});
