// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// The secrets of every token, for the service worker only: the secret of each ordinary
// (otpauth) token, the approval keys (`K_otp`, `K_ans`) of each push token that has no PIN, and
// the device seed of each privacyIDEA token (masked with its PIN when it has one).
// Everything else about a token (names, issuer, counters, sites) lives beside it in clear, so
// that the popup can list tokens and the worker can receive and check push requests (with
// `K_req` and `K_chan`) while the secrets are locked away.
//
// Stored in local storage as `secrets` (store.js), either plain (no password set):
//   { otp: { [id]: base32 secret }, push: { [tokenId]: { otp, answer } },
//     pi: { [serial]: { seed } | { masked: { salt, params, masked } } } }
// or sealed with the person's password:
//   { sealed: { v: 1, kdf: { salt, memoryKib, iterations, parallelism }, iv, data } }
// where `data` is AES-256-GCM (12-byte `iv`, additional data "pushotp-vault-v1") of the plain
// JSON under the 32-byte key Argon2id derives from the password and `kdf` (`deriveKey` in the
// tools module; the pages derive it, since the worker loads only the small core). Binary fields
// are unpadded base64url. A fresh IV is drawn at every write.
//
// While unlocked, the key is in session storage as `vaultKey` (memory only: a browser
// restart locks), and the `vault-lock` alarm removes it after `settings.autoLockMinutes`.

import { granted } from './access.js';
import { coded } from './messages.js';
import { serial } from './queue.js';
import { fromB64url, openJson, sealJson } from './sealing.js';
import { originOf } from './sites.js';
import { forgetRestores, restoreToken } from './restore.js';
import { otpTokens, piTokens, pushTokens, readLocal, readSession, removeSession, settings, writeLocal, writeSession } from './store.js';
import { checkOtpToken, checkPushToken, toolsReady } from './worker-tools.js';

/** @typedef {import('./store.js').PushToken} PushToken */

export const LOCK_ALARM = 'vault-lock';
const VAULT_AAD = 'pushotp-vault-v1';
const EXPORT_AAD = 'pushotp-export-v1';
const KEY = /^[A-Za-z0-9_-]{43}$/;

const locked = () => coded('locked', 'PushOTP is locked. Unlock it with your password.');

// ---------------------------------------------------------------------------------------------
// AES-256-GCM (sealing.js)

/** The bytes of a 32-byte key in base64url, as the pages derive it. */
function keyBytes(keyB64) {
  const raw = KEY.test(keyB64 ?? '') ? fromB64url(keyB64) : null;
  if (!raw) throw coded('invalid_parameter', 'The key must be 32 bytes, base64url.');
  return raw;
}

/**
 * `{ v: 1, kdf, iv, data }`: `value` as JSON, encrypted under `keyB64`.
 * @returns {Promise<import('./store.js').Sealed>}
 */
async function seal(value, keyB64, kdf, aad = VAULT_AAD) {
  return { v: 1, kdf, ...(await sealJson(value, keyBytes(keyB64), aad)) };
}

/** The value `seal` encrypted; `wrong_password` when the key (or the data) is not the right one. */
async function open(sealed, keyB64, aad = VAULT_AAD) {
  if (sealed?.v !== 1) throw coded('unsupported_version', 'This was encrypted by a newer version of PushOTP.');
  const raw = keyBytes(keyB64);
  try {
    return await openJson(sealed, raw, aad);
  } catch {
    throw coded('wrong_password', 'Wrong password.');
  }
}

// ---------------------------------------------------------------------------------------------
// The secrets

async function stored() {
  return (await readLocal(['secrets'])).secrets;
}

async function sessionKey() {
  return (await readSession(['vaultKey'])).vaultKey ?? null;
}

const shaped = (value) => ({ otp: { ...value?.otp }, push: { ...value?.push }, pi: { ...value?.pi } });

/**
 * All secrets. Throws `locked` when the person protected them with a password and has not
 * unlocked them.
 * @returns {Promise<import('./store.js').PlainSecrets>}
 */
export async function secrets() {
  const value = await stored();
  if (!value?.sealed) return shaped(value);
  const key = await sessionKey();
  if (!key) throw locked();
  return shaped(await open(value.sealed, key));
}

/** Writes the secrets, sealed under the session key when a password protects them. */
async function write(value, { key = null, kdf = null } = {}) {
  const plain = shaped(value);
  const current = await stored();
  const sealKey = key ?? (current?.sealed ? await sessionKey() : null);
  const sealKdf = kdf ?? current?.sealed?.kdf;
  if (current?.sealed && !sealKey) throw locked();
  const next = sealKey ? { sealed: await seal(plain, sealKey, sealKdf) } : plain;
  await writeLocal({ secrets: next });
}

/**
 * Changes the secrets: `change` gets a copy and returns the new secrets. Callers run inside
 * the worker's storage queue, so that two changes never interleave. Throws `locked`.
 */
export async function updateSecrets(change) {
  await write(await change(await secrets()));
}

// ---------------------------------------------------------------------------------------------
// Locking

/** `{ protected, locked, autoLockMinutes, kdf }`; `kdf` (salt and costs) when protected. */
export async function status() {
  const value = await stored();
  const { autoLockMinutes } = await settings();
  const isProtected = Boolean(value?.sealed);
  return {
    protected: isProtected,
    locked: isProtected && !(await sessionKey()),
    autoLockMinutes,
    kdf: value?.sealed?.kdf ?? null,
  };
}

/** (Re)starts the auto-lock countdown of an unlocked, protected vault. */
async function arm() {
  const { autoLockMinutes } = await settings();
  await chrome.alarms.clear(LOCK_ALARM);
  if (autoLockMinutes > 0) {
    const lockAt = Date.now() + autoLockMinutes * 60_000;
    await writeSession({ lockAt });
    await chrome.alarms.create(LOCK_ALARM, { when: lockAt });
  } else {
    await removeSession(['lockAt']);
  }
}

/** Activity (an approval, a code shown) starts the auto-lock countdown again. */
export async function touch() {
  if ((await stored())?.sealed && (await sessionKey())) await arm();
}

/** Tries `key` (from `deriveKey`); keeps it for the session when it opens the secrets. */
export function unlock(key) {
  return serial(async () => {
    const value = await stored();
    if (!value?.sealed) return;
    await open(value.sealed, key);
    await writeSession({ vaultKey: key });
    await arm();
  });
}

/**
 * Forgets the key, and the seeds of privacyIDEA PIN tokens kept for polling: the secrets stay
 * sealed until the next unlock.
 */
export function lock() {
  return serial(async () => {
    await removeSession(['vaultKey', 'lockAt', 'piSeeds']);
    await chrome.alarms.clear(LOCK_ALARM);
  });
}

/** Locks when the auto-lock time has passed (the alarm, or a worker that slept through it). */
export async function lockIfDue() {
  const { lockAt } = await readSession(['lockAt']);
  if (lockAt != null && lockAt <= Date.now()) await lock();
}

/**
 * Seals the secrets under a new password's `key` and `kdf` (`{ salt, memoryKib, iterations,
 * parallelism }`), or re-seals them when changing it. Needs the secrets readable: unprotected,
 * or unlocked.
 */
export function setPassword(key, kdf) {
  return serial(async () => {
    if (!KEY.test(key ?? '') || typeof kdf?.salt !== 'string') {
      throw coded('invalid_parameter', 'A password key and its salt are needed.');
    }
    const { salt, memoryKib, iterations, parallelism } = kdf;
    const current = await secrets();
    await write(current, { key, kdf: { salt, memoryKib, iterations, parallelism } });
    await writeSession({ vaultKey: key });
    await arm();
  });
}

/** Stores the secrets plain again. Needs them unlocked. */
export function removePassword() {
  return serial(async () => {
    const current = await secrets();
    await writeLocal({ secrets: current });
    await removeSession(['vaultKey', 'lockAt']);
    await chrome.alarms.clear(LOCK_ALARM);
  });
}

// ---------------------------------------------------------------------------------------------
// Export and import

/**
 * The export file: `{ format: 'pushotp-export', v: 1, kdf, iv, data }`, `data` being AES-GCM
 * (additional data "pushotp-export-v1") under `key` of `{ otpTokens, pushTokens }`: every
 * ordinary token with its `secret`, every push token with all its keys (or `masked`).
 */
export function exportFile(key, kdf) {
  return serial(async () => {
    const all = await secrets();
    const otp = Object.values(await otpTokens()).map((t) => ({ ...t, secret: all.otp[t.id] }));
    const push = Object.values(await pushTokens()).map((t) =>
      t.pin?.required ? t : { ...t, keys: { ...t.keys, ...all.push[t.tokenId] } },
    );
    const sealed = await seal({ otpTokens: otp, pushTokens: push }, key, kdf, EXPORT_AAD);
    return { format: 'pushotp-export', ...sealed };
  });
}

const isObject = (v) => v != null && typeof v === 'object' && !Array.isArray(v);
const text = (v) => (typeof v === 'string' ? v : '');

/**
 * A token of the file that breaks a rule every new token meets (the core's checks of a token
 * before it is stored: `checkOtpToken`, `checkPushToken`), with the first rule it breaks: an
 * everyday code named by its issuer and account, a push token by its name, as the file has them.
 * @typedef {{kind: 'otp', issuer: string, account: string, code: string, reason: string}
 *   | {kind: 'push', tokenName: string, code: string, reason: string}} ImportRefusal
 */

/**
 * How an import went: tokens added, tokens already here, entries that could not be read (no
 * token id), tokens refused by the checks a new token passes (`invalid`, each named), and push
 * tokens not added because their restore failed (restore.js): server unreachable, restored in
 * another browser after the file was made, or refused by their server.
 * @typedef {{added: number, present: number, unreadable: number, invalid: ImportRefusal[], unreachable: number, restoredElsewhere: number, refused: number}} ImportCounts
 */

/**
 * Runs `check` on a token of the file: `{ ok }` with what it returns when the token passes,
 * else `{ refused }`, the refusal `refusal` makes of the core's error.
 * @template T
 * @param {() => T} check
 * @param {(code: string, reason: string) => ImportRefusal} refusal
 * @returns {{ok: T}|{refused: ImportRefusal}}
 */
function checking(check, refusal) {
  try {
    return { ok: check() };
  } catch (err) {
    return { refused: refusal(text(err?.code) || 'invalid_token', text(err?.message) || String(err)) };
  }
}

/**
 * The fields of an exported push token that a token has (store.js `PushToken`), and no
 * others: what the file adds beside them (a mark of this browser's past, a field a later
 * version reads) is not kept. The core checked each of them (`checkPushToken`).
 * @param {any} t
 * @returns {PushToken}
 */
function kept(t) {
  const { tokenId, server, tokenName, user, issuer, deviceName, otp, pin, keys, masked, loginOrigins, sites, enabled, addedAt } = t;
  const when = typeof addedAt === 'number' && Number.isFinite(addedAt) ? addedAt : Date.now();
  return /** @type {PushToken} */ (
    Object.fromEntries(
      Object.entries({ tokenId, server, tokenName, user, issuer, deviceName, otp, pin, keys, masked, loginOrigins, sites, enabled: enabled !== false, addedAt: when }).filter(
        ([, value]) => value !== undefined,
      ),
    )
  );
}

/**
 * Adds the tokens of an export file opened with `key`: those whose id (or tokenId) is already
 * here are skipped. A wrong key throws `wrong_password` and changes nothing; so does a locked
 * vault (`locked`), checked before any push token is restored.
 *
 * Every token of the file goes through the checks that adding it would make (the core's, as
 * for a scanned code or an enrollment): one that breaks a rule is not added and is named in
 * `invalid` with the rule, and its server is never asked; the others are added, each on its
 * own, as the file is a list of tokens rather than one whole.
 *
 * Each new push token is restored at its server first (restore.js, docs/protocol.md §8), one
 * after another and outside the storage queue, and kept with the keys and counter the restore
 * gave it; one that could not be restored is not added. Everything is written at the end, in
 * one step of the queue.
 * @param {any} file  the file as parsed from JSON; checked here
 * @param {string} key
 * @returns {Promise<ImportCounts>}
 */
export async function importFile(file, key) {
  if (file?.format !== 'pushotp-export') throw coded('invalid_file', 'This is not a PushOTP export file.');
  const content = await open(file, key, EXPORT_AAD);
  await secrets();
  await toolsReady();
  // Every push token is restored at its server, which PushOTP must be allowed to reach: the
  // person is asked first (the options page does it, then imports again), and nothing of the
  // file is added before.
  const here = await pushTokens();
  const servers = (Array.isArray(content?.pushTokens) ? content.pushTokens : [])
    .filter((t) => isObject(t) && typeof t.tokenId === 'string' && !here[t.tokenId] && 'ok' in checking(() => checkPushToken(t), () => null))
    .map((t) => originOf(t.server))
    .filter((o) => o !== null);
  const unreachable = [];
  for (const server of new Set(servers)) if (!(await granted(server))) unreachable.push(server);
  if (unreachable.length) {
    const hosts = unreachable.map((o) => new URL(o).host).join(', ');
    throw coded('no_access', `PushOTP may not reach ${hosts} yet, where this file's push tokens are restored: nothing was imported.`, { servers: unreachable });
  }
  /** @type {ImportCounts} */
  const counts = { added: 0, present: 0, unreadable: 0, invalid: [], unreachable: 0, restoredElsewhere: 0, refused: 0 };
  /** @type {{id: string, addedAt: unknown, meta: Omit<import('./store.js').OtpToken, 'id'|'order'|'addedAt'>, secret: string}[]} */
  const codes = [];
  const codesHere = await otpTokens();
  for (const t of Array.isArray(content?.otpTokens) ? content.otpTokens : []) {
    if (!isObject(t) || typeof t.id !== 'string') {
      counts.unreadable++;
      continue;
    }
    if (codesHere[t.id]) {
      counts.present++;
      continue;
    }
    // The file's token as an everyday code to add: normalised, and only what a code has kept.
    const checked = checking(
      () => checkOtpToken(t),
      (code, reason) => ({ kind: 'otp', issuer: text(t.issuer), account: text(t.account), code, reason }),
    );
    if ('refused' in checked) {
      counts.invalid.push(checked.refused);
      continue;
    }
    const { secret, ...meta } = checked.ok;
    codes.push({ id: t.id, addedAt: t.addedAt, meta, secret });
  }
  /** @type {PushToken[]} */
  const restored = [];
  /** @type {string[]} */
  const over = [];
  for (const t of Array.isArray(content?.pushTokens) ? content.pushTokens : []) {
    if (!isObject(t) || typeof t.tokenId !== 'string') {
      counts.unreadable++;
      continue;
    }
    if (here[t.tokenId]) {
      counts.present++;
      continue;
    }
    // Checked before its server is asked: a token that could not be enrolled is not restored.
    const checked = checking(
      () => checkPushToken(t),
      (code, reason) => ({ kind: 'push', tokenName: text(t.tokenName), code, reason }),
    );
    if ('refused' in checked) {
      counts.invalid.push(checked.refused);
      continue;
    }
    const result = await restoreToken(kept(t));
    if ('token' in result) {
      restored.push(result.token);
    } else if (result.refused === 'unreachable') {
      counts.unreachable++;
    } else {
      counts[result.refused === 'restored_elsewhere' ? 'restoredElsewhere' : 'refused']++;
      over.push(t.tokenId);
    }
  }
  return serial(async () => {
    const all = await secrets();
    const otp = await otpTokens();
    const push = await pushTokens();
    let order = Math.max(0, ...Object.values(otp).map((t) => (t.order ?? 0) + 1));
    for (const { id, addedAt, meta, secret } of codes) {
      // Added meanwhile (another import): that copy stays.
      if (otp[id]) {
        counts.present++;
        continue;
      }
      const when = typeof addedAt === 'number' && Number.isFinite(addedAt) ? addedAt : Date.now();
      otp[id] = /** @type {import('./store.js').OtpToken} */ ({ id, ...meta, order: order++, addedAt: when });
      all.otp[id] = secret;
      counts.added++;
    }
    const { webPush = {} } = await readLocal(['webPush']);
    for (const t of restored) {
      // Added meanwhile (another import): that copy stays.
      if (push[t.tokenId]) {
        counts.present++;
        continue;
      }
      const { otp: kOtp, answer: kAns, ...clear } = t.keys;
      if (!t.pin?.required) all.push[t.tokenId] = { otp: /** @type {string} */ (kOtp), answer: /** @type {string} */ (kAns) };
      push[t.tokenId] = { ...t, keys: clear };
      // The server forgot the old browser's Web Push subscription: this one registers anew.
      delete webPush[t.tokenId];
      over.push(t.tokenId);
      counts.added++;
    }
    // Secrets of tokens removed while locked go now.
    for (const id of Object.keys(all.otp)) if (!otp[id]) delete all.otp[id];
    for (const id of Object.keys(all.push)) if (!push[id]) delete all.push[id];
    const pi = await piTokens();
    for (const serial of Object.keys(all.pi)) if (!pi[serial]) delete all.pi[serial];
    // Secrets first: a token is never stored without its secret.
    await write(all);
    await writeLocal({ otpTokens: otp, pushTokens: push, webPush });
    await forgetRestores(over);
    return counts;
  });
}
