// A copied profile gives a thief nothing (docs/threat-model.md): a browser profile with every
// kind of token — a PushOTP push token with a PIN and one without, an everyday (otpauth) code
// and a privacyIDEA token with a PIN, against the real reference server and a real privacyIDEA
// 3.14 — protected with a vault password and locked, then read from the profile folder on disk
// after the browser closed, as someone who copied it would: the extension's storage through
// LevelDB, every file of the profile scanned raw (IndexedDB, session storage, the HTTP cache,
// logs), LevelDB table files also with their compressed blocks opened (tests/support/leveldb.mjs;
// Chromium's IndexedDB uses its own key order, which LevelDB libraries cannot open).
// Nothing there is a code's secret, an approval key, a device key or seed, or a PIN; the sealed
// secrets do not open without the password; and before the browser closed, a privacyIDEA
// approval while locked failed with `locked`.
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { cp, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ClassicLevel } from 'classic-level';
import { launchWithExtension, openExtensionPage } from '../support/browser.mjs';
import { allowServerOf, enroll, waitForSession } from '../support/extension.mjs';
import { levelDbTexts } from '../support/leveldb.mjs';
import { startPrivacyIdea } from '../support/privacyidea.mjs';
import { ROOT } from '../support/root.mjs';
import { startServer } from '../support/server.mjs';
import * as tools from '../../extension/pkg/pushotp_tools.js';

tools.initSync({ module: await readFile(path.join(ROOT, 'extension/pkg/pushotp_tools_bg.wasm')) });

const PASSWORD = 'profile thief test';
// Long PINs (a push token's at most 8 digits), so that finding one among a profile's many
// digits is not chance.
const PUSH_PIN = '48261937';
const PI_PIN = '915372640183';
// What a privacyIDEA poll's URL holds (`GET /ttype/push?serial=…&timestamp=…&signature=…`).
const POLL_URL = ['ttype/push?serial=', 'signature='];

let pi;
let plainServer;
let pinServer;
let browser;
let options;
let copy;
let skip = false;

before(async () => {
  pi = await startPrivacyIdea();
  if (pi.skipped) {
    skip = `privacyIDEA tests skipped: ${pi.skipped}`;
    pi = null;
    return;
  }
  [browser, plainServer, pinServer] = await Promise.all([
    launchWithExtension(),
    startServer(['--no-number-matching']),
    startServer(['--no-number-matching', '--require-pin']),
  ]);
  options = await openExtensionPage(browser, 'options.html');
  await options.locator('body[data-ready]').waitFor();
});

after(async () => {
  await browser?.close();
  if (browser?.profile) await rm(browser.profile, { recursive: true, force: true });
  if (copy) await rm(copy, { recursive: true, force: true });
  await plainServer?.stop();
  await pinServer?.stop();
  await pi?.stop();
});

const ask = (message) => options.evaluate((m) => chrome.runtime.sendMessage(m), message);

/** RFC 4648 §6 base32 without padding. */
function base32(bytes) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

/** Every file under `dir`. */
async function files(dir) {
  const out = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(path.join(entry.parentPath, entry.name));
  }
  return out;
}

/** The forms a secret of `bytes` could be found in: raw, base64url, base64, base32, hex. */
function forms(bytes) {
  const raw = Buffer.from(bytes);
  return [raw, raw.toString('base64url'), raw.toString('base64').replace(/=+$/, ''), base32(raw), raw.toString('hex')].map((f) =>
    Buffer.isBuffer(f) ? f : Buffer.from(f),
  );
}

/**
 * The files of `profile` that hold each needle, read raw (as bytes, so the HTTP cache, logs and
 * preferences too) and, for LevelDB (IndexedDB, session and extension storage), also through
 * LevelDB: see `levelDbTexts`.
 * @returns {Promise<{hits: Map<string, string[]>, files: number, serialSeen: number}>}
 */
async function scan(profile, needles, serial) {
  const all = await files(profile);
  const hits = new Map(needles.map(({ what }) => [what, []]));
  let serialSeen = 0;
  for (const file of all) {
    const raw = await readFile(file).catch(() => Buffer.alloc(0));
    const bytes = Buffer.concat([raw, ...(await levelDbTexts(file))]);
    if (serial && bytes.includes(Buffer.from(serial))) serialSeen++;
    for (const { what, bytes: needle } of needles) {
      const where = path.relative(profile, file);
      if (bytes.includes(needle) && !hits.get(what).includes(where)) hits.get(what).push(where);
    }
  }
  return { hits, files: all.length, serialSeen };
}

/** Fails naming each needle found and where. */
function assertNoneFound({ hits }, except = []) {
  const found = [...hits].filter(([what, where]) => where.length && !except.includes(what));
  assert.deepEqual(
    found.map(([what, where]) => `${what} in ${where.join(', ')}`),
    [],
  );
}

/** Every entry of the LevelDB at `dir` (a copy: opening may write), key → value text. */
async function readLevelDb(dir) {
  const db = new ClassicLevel(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8', createIfMissing: false });
  const entries = {};
  try {
    for await (const [key, value] of db.iterator()) entries[key] = value;
  } finally {
    await db.close();
  }
  return entries;
}

/** The vault's plain secrets, opened with `password` as PushOTP opens them; throws if wrong. */
async function openVault(sealed, password) {
  const { salt, memoryKib, iterations, parallelism } = sealed.kdf;
  const key = tools.deriveKey(password, salt, { memoryKib, iterations, parallelism });
  const aes = await webcrypto.subtle.importKey('raw', Buffer.from(key, 'base64url'), 'AES-GCM', false, ['decrypt']);
  const plain = await webcrypto.subtle.decrypt(
    { name: 'AES-GCM', iv: Buffer.from(sealed.iv, 'base64url'), additionalData: Buffer.from('pushotp-vault-v1') },
    aes,
    Buffer.from(sealed.data, 'base64url'),
  );
  return JSON.parse(Buffer.from(plain).toString());
}

/** Sets the vault password in the options page, as a person does. */
async function setPassword(page) {
  await page.getByLabel('New password (at least 8 characters)').fill(PASSWORD);
  await page.getByLabel('Type the password again').fill(PASSWORD);
  await page.getByRole('button', { name: 'Set password' }).click();
  await page.getByText('Password saved. The secrets are encrypted with it.').waitFor({ timeout: 30_000 });
}

/** The content of an export file the worker makes under a key chosen here. */
async function exportedContent() {
  const kdf = { salt: 'AAECAwQFBgcICQoLDA0ODw', memoryKib: 64, iterations: 1, parallelism: 1 };
  const key = tools.deriveKey('export password', kdf.salt, { memoryKib: 64, iterations: 1, parallelism: 1 });
  const reply = await ask({ type: 'vault.export', key, kdf });
  assert.ok(reply.ok, JSON.stringify(reply));
  const aes = await webcrypto.subtle.importKey('raw', Buffer.from(key, 'base64url'), 'AES-GCM', false, ['decrypt']);
  const plain = await webcrypto.subtle.decrypt(
    { name: 'AES-GCM', iv: Buffer.from(reply.file.iv, 'base64url'), additionalData: Buffer.from('pushotp-export-v1') },
    aes,
    Buffer.from(reply.file.data, 'base64url'),
  );
  return JSON.parse(Buffer.from(plain).toString());
}

test('a copied profile yields no code, no signature and no PIN', { timeout: 300_000 }, async (t) => {
  if (skip) return t.skip(skip);
  const needles = [];
  const need = (what, values) => {
    for (const value of values) needles.push({ what, bytes: Buffer.isBuffer(value) ? value : Buffer.from(value) });
  };

  // A vault password first: a secret written plain before it can outlive the sealing in the
  // storage's LevelDB files (the next test).
  await setPassword(options);

  // An everyday code.
  const otpSecret = webcrypto.getRandomValues(new Uint8Array(20));
  const added = await ask({ type: 'otp.add', tokens: [{ issuer: 'Thief test', account: 'ann', type: 'totp', secret: base32(otpSecret) }] });
  assert.equal(added.ok, true, JSON.stringify(added));
  need('the everyday code secret', forms(otpSecret));

  // A PushOTP token without a PIN, whose approval keys the vault holds, and one with a PIN.
  const plain = await enroll(options, plainServer.link);
  const exported = await exportedContent();
  const plainKeys = exported.pushTokens.find((p) => p.tokenId === plain.tokenId).keys;
  for (const key of [plainKeys.otp, plainKeys.answer]) need('a push token approval key', forms(Buffer.from(key, 'base64url')));
  assert.equal(exported.otpTokens[0].secret, base32(otpSecret));
  const pinned = await enroll(options, pinServer.link, { pin: PUSH_PIN });
  assert.ok(pinned.pin?.required, JSON.stringify(pinned.pin));
  need('the push token PIN', [PUSH_PIN]);

  // A privacyIDEA token whose server forces a PIN; its seed is in session memory for polling.
  await pi.enrollPolicy({ push_force_app_pin: true });
  let serial;
  try {
    let link;
    ({ serial, link } = await pi.initPushToken('carol'));
    await allowServerOf(options, link);
    const reply = await ask({ type: 'pi.enroll', link, pin: PI_PIN });
    assert.equal(reply.ok, true, JSON.stringify(reply));
  } finally {
    await pi.enrollPolicy();
  }
  const { piSeeds } = await options.evaluate(() => chrome.storage.session.get('piSeeds'));
  assert.match(piSeeds?.[serial] ?? '', /^[A-Za-z0-9_-]{43}$/, 'no device seed in session memory');
  need('the privacyIDEA device seed', forms(Buffer.from(piSeeds[serial], 'base64url')));
  need('the privacyIDEA PIN', [PI_PIN]);
  // A device key in any DER form: PKCS#8's version and rsaEncryption algorithm, PKCS#1's version
  // and a 2048- or 4096-bit modulus.
  need('a PKCS#8 RSA private key', [Buffer.from('020100300d06092a864886f70d0101010500', 'hex')]);
  need('a PKCS#1 RSA private key', [Buffer.from('0201000282010100', 'hex'), Buffer.from('0201000282020100', 'hex')]);
  // The secrets as plain JSON.
  need('plain secrets', ['"push":{', '"pi":{', '"seed":"']);
  // A privacyIDEA poll's URL: its PKCS#1 v1.5 signature of `serial|timestamp` is deterministic,
  // so with the masked seed it would confirm PIN guesses offline.
  need('a privacyIDEA poll URL', POLL_URL);

  // A privacyIDEA challenge arrives (the PIN was used in this session); locked, it cannot be
  // approved, with or without the PIN.
  const { transaction_id: tx } = (await pi.check('carol', '1234')).detail;
  await options.evaluate(() => chrome.runtime.sendMessage({ type: 'requests.refresh' }));
  const s = await waitForSession(options, (x) => Object.values(x.pending ?? {}).some((p) => p.kind === 'privacyidea'), 15_000);
  const challenge = Object.values(s.pending).find((p) => p.kind === 'privacyidea');
  assert.equal((await ask({ type: 'vault.lock' })).ok, true);
  for (const answer of [{ decision: 'approve', pin: PI_PIN }, { decision: 'approve' }]) {
    const reply = await ask({ type: 'request.answer', requestId: challenge.request.id, ...answer });
    assert.equal(reply.error?.code, 'locked', JSON.stringify(reply));
  }
  assert.deepEqual(await pi.pollTransaction(tx), { status: 'pending', value: false });

  // No device key store in IndexedDB (its files are scanned below with the rest).
  const databases = await options.evaluate(async () => (await indexedDB.databases()).map((d) => d.name));
  assert.ok(!databases.includes('pushotp-privacyidea'), `IndexedDB: ${databases}`);

  // The browser closes; the profile stays on disk.
  const { extensionId, profile } = browser;
  await browser.close({ keepProfile: true });

  // The extension's storage, read as LevelDB from a copy.
  copy = await mkdtemp(path.join(tmpdir(), 'pushotp-thief-'));
  const settings = path.join(profile, 'Default', 'Local Extension Settings', extensionId);
  await cp(settings, path.join(copy, 'settings'), { recursive: true });
  const entries = await readLevelDb(path.join(copy, 'settings'));
  assert.ok(entries.piTokens?.includes(serial), `the copy holds the tokens: ${Object.keys(entries)}`);
  const local = Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, JSON.parse(v)]));
  assert.deepEqual(Object.keys(local.secrets), ['sealed']);
  const text = Buffer.from(JSON.stringify(local));
  for (const { what, bytes } of needles) assert.ok(!text.includes(bytes), `extension storage holds ${what}`);

  // The sealed secrets do not open without the password.
  for (const guess of ['', 'wrong password', PASSWORD.toUpperCase()]) {
    await assert.rejects(openVault(local.secrets.sealed, guess), `opened with ${JSON.stringify(guess)}`);
  }
  // With it, they hold the privacyIDEA seed only masked with the PIN (nothing that confirms a
  // PIN: no digest, no key, no public key) and no keys of the PIN push token.
  const vault = await openVault(local.secrets.sealed, PASSWORD);
  assert.deepEqual(Object.keys(vault.pi[serial]), ['masked']);
  assert.deepEqual(Object.keys(vault.pi[serial].masked).sort(), ['masked', 'params', 'salt']);
  assert.equal(vault.push[pinned.tokenId], undefined);
  assert.deepEqual(Object.keys(local.piTokens[serial]).filter((k) => /key|pin/i.test(k)).sort(), ['pin', 'serverKey']);

  // Every file of the profile: IndexedDB, session storage, the HTTP cache, logs, preferences.
  const found = await scan(profile, needles, serial);
  assert.ok(found.files > 20, `only ${found.files} files in the profile`);
  // The scan finds what is there: the privacyIDEA serial is stored in clear.
  assert.ok(found.serialSeen > 0, 'the scan found not even the serial stored in clear');
  assertNoneFound(found);
});

test('a secret stored before the password was set can outlive the sealing on disk', { timeout: 120_000 }, async (t) => {
  if (skip) return t.skip(skip);
  // docs/threat-model.md, Known limits: LevelDB appends; the plain record stays in its files
  // until LevelDB compacts them, which the extension cannot ask for.
  const second = await launchWithExtension();
  try {
    const page = await openExtensionPage(second, 'options.html');
    await page.locator('body[data-ready]').waitFor();
    const secret = webcrypto.getRandomValues(new Uint8Array(20));
    const reply = await page.evaluate((m) => chrome.runtime.sendMessage(m), {
      type: 'otp.add',
      tokens: [{ issuer: 'Before', account: 'ann', type: 'totp', secret: base32(secret) }],
    });
    assert.equal(reply.ok, true, JSON.stringify(reply));
    await setPassword(page);
    assert.equal((await page.evaluate(() => chrome.runtime.sendMessage({ type: 'vault.lock' }))).ok, true);
    const { extensionId, profile } = second;
    await second.close({ keepProfile: true });
    const settings = path.join(profile, 'Default', 'Local Extension Settings', extensionId);
    let found = false;
    for (const file of await files(settings)) if ((await readFile(file)).includes(Buffer.from(base32(secret)))) found = true;
    assert.ok(found, 'the earlier plain record is gone: update docs/threat-model.md, Known limits');
  } finally {
    await second.close();
    await rm(second.profile, { recursive: true, force: true });
  }
});

test('without a vault password, a copied profile holds the seed of a token without a PIN, and no more', { timeout: 180_000 }, async (t) => {
  if (skip) return t.skip(skip);
  // docs/threat-model.md: without a password, the secrets are stored plain; a PIN token's seed
  // is masked with its PIN all the same, and nothing else gives a signature or confirms a PIN.
  const third = await launchWithExtension();
  let profile;
  try {
    const page = await openExtensionPage(third, 'options.html');
    await page.locator('body[data-ready]').waitFor();
    const send = (m) => page.evaluate((x) => chrome.runtime.sendMessage(x), m);
    const plain = await pi.initPushToken('alice');
    await allowServerOf(page, plain.link);
    assert.equal((await send({ type: 'pi.enroll', link: plain.link })).ok, true);
    await pi.enrollPolicy({ push_force_app_pin: true });
    let pinned;
    try {
      pinned = await pi.initPushToken('bob');
      const reply = await send({ type: 'pi.enroll', link: pinned.link, pin: PI_PIN });
      assert.equal(reply.ok, true, JSON.stringify(reply));
    } finally {
      await pi.enrollPolicy();
    }
    const { secrets } = await page.evaluate(() => chrome.storage.local.get('secrets'));
    const plainSeed = secrets.pi[plain.serial].seed;
    assert.match(plainSeed ?? '', /^[A-Za-z0-9_-]{43}$/, JSON.stringify(Object.keys(secrets.pi[plain.serial])));
    assert.deepEqual(Object.keys(secrets.pi[pinned.serial]), ['masked']);
    const { piSeeds } = await page.evaluate(() => chrome.storage.session.get('piSeeds'));
    const pinSeed = piSeeds?.[pinned.serial];
    assert.match(pinSeed ?? '', /^[A-Za-z0-9_-]{43}$/, 'no device seed in session memory');
    // Both tokens poll (signed GETs) before the browser closes.
    const before = [await pi.polls(plain.serial), await pi.polls(pinned.serial)];
    await send({ type: 'requests.refresh' });
    const deadline = Date.now() + 15_000;
    while ((await pi.polls(plain.serial)) <= before[0] || (await pi.polls(pinned.serial)) <= before[1]) {
      assert.ok(Date.now() < deadline, 'the tokens did not poll');
      await new Promise((r) => setTimeout(r, 250));
    }
    profile = third.profile;
    await third.close({ keepProfile: true });

    const found = await scan(
      profile,
      [
        ...forms(Buffer.from(plainSeed, 'base64url')).map((bytes) => ({ what: 'the seed of the token without a PIN', bytes })),
        ...forms(Buffer.from(pinSeed, 'base64url')).map((bytes) => ({ what: 'the seed of the PIN token', bytes })),
        { what: 'the privacyIDEA PIN', bytes: Buffer.from(PI_PIN) },
        { what: 'a PKCS#8 RSA private key', bytes: Buffer.from('020100300d06092a864886f70d0101010500', 'hex') },
        ...POLL_URL.map((p) => ({ what: 'a privacyIDEA poll URL', bytes: Buffer.from(p) })),
      ],
      pinned.serial,
    );
    assert.ok(found.serialSeen > 0, 'the scan found not even the serial stored in clear');
    // What is there: the seed of the token without a PIN, in the extension's storage (a thief
    // derives its key and approves; a vault password is what protects it).
    const where = found.hits.get('the seed of the token without a PIN');
    assert.ok(
      where.some((f) => f.startsWith(path.join('Default', 'Local Extension Settings'))),
      `the plain seed was not found in extension storage: ${where}`,
    );
    // What is not: the PIN token's seed, its PIN, a device key, a signed poll.
    assertNoneFound(found, ['the seed of the token without a PIN']);
  } finally {
    await third.close();
    if (profile ?? third.profile) await rm(profile ?? third.profile, { recursive: true, force: true });
  }
});
