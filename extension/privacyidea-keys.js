// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// What privacyIDEA tokens share in the service worker (docs/privacyidea.md): the device keys,
// signatures, the trusted origins of a token and calls to the server.
//
// A token's device key is an RSA key the core derives from the token's random 32-byte seed
// (tools package, `PiDeviceKey`), and signs with; it is never stored. The seed lives in the
// vault's secrets (vault.js, `pi`): plain, or masked with the token's PIN when its server asks
// for one, so that a copied profile yields no key without the vault password and, for a PIN
// token, the PIN, and nothing stored tells a right PIN from a wrong one. A PIN token's seed,
// once its PIN was used, is kept in session memory (`piSeeds`) for polling only; approving
// always asks for the PIN again. The server's public key is stored as SPKI and verified with
// WebCrypto.
import { coded } from './messages.js';
import { originOf } from './sites.js';
import { onChanged, readSession, removeSession, writeSession } from './store.js';
import { secrets } from './vault.js';
import { PiDeviceKey, piDeviceSeed, piSignatureFromBase32 } from './worker-tools.js';

export const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
const TIMEOUT_MS = 15_000;

// Device keys --------------------------------------------------------------------------------

/** @typedef {{seed?: string, masked?: object}} DeviceSecret  a token's seed as the vault keeps it */

const enrollAgain = () =>
  coded('enroll_again', 'This privacyIDEA token was added by an earlier version of PushOTP. Remove it and enroll it again.');

/**
 * The stored seed of `token`. Throws `locked` while the vault is locked, and `enroll_again`
 * for a token stored in an earlier form (a PIN check, a key in IndexedDB).
 * @param {import('./store.js').PiToken} token
 * @returns {Promise<DeviceSecret>}
 */
export async function deviceSecret(token) {
  const secret = (await secrets()).pi[token.serial];
  if ('pinCheck' in token || secret == null || typeof secret !== 'object') throw enrollAgain();
  return secret;
}

/**
 * Keys derived in this worker's life, by seed: deriving one takes about half a second. Only the
 * seed, which the vault (or, for a PIN token, this session's memory) gives, finds one. A key
 * stays only while what gave it does (`forgetKeys`).
 * @type {Map<string, PiDeviceKey>}
 */
const derived = new Map();

/**
 * Frees the keys of `seeds` (all keys when none are named) in the WebAssembly memory, so that
 * nothing of them outlives a lock, a removal or a PIN token's seed leaving session memory.
 * @param {string[]|null} [seeds]
 */
export function forgetKeys(seeds = null) {
  for (const seed of seeds ?? [...derived.keys()]) {
    derived.get(seed)?.free();
    derived.delete(seed);
  }
}

// A lock takes the vault key out of session memory (vault.js, on every path: the person, the
// auto-lock alarm, a late worker) and with it every key; a PIN token's seed leaving session
// memory (a lock, a removal) takes its key.
onChanged((changes, area) => {
  if (area !== 'session') return;
  if (changes.vaultKey && changes.vaultKey.newValue == null) {
    forgetKeys();
    return;
  }
  const seeds = changes.piSeeds;
  if (seeds) {
    const kept = new Set(Object.values(seeds.newValue ?? {}));
    forgetKeys(Object.values(seeds.oldValue ?? {}).filter((seed) => !kept.has(seed)));
  }
});

/**
 * The device key of a seed (base64url), derived once per worker life.
 * @param {string} seed
 * @returns {PiDeviceKey}
 */
export function keyOf(seed) {
  let key = derived.get(seed);
  if (!key) {
    key = new PiDeviceKey(seed);
    derived.set(seed, key);
  }
  return key;
}

/**
 * The seed that signs `token`'s polls and declines, or null when there is none now: a token
 * without a PIN has it in the vault (`locked` while locked); a PIN token only once its PIN was
 * used in this browser session.
 * @param {import('./store.js').PiToken} token
 * @returns {Promise<string|null>}
 */
export async function sessionSeed(token) {
  const secret = await deviceSecret(token);
  if (secret.masked) return (await readSession(['piSeeds'])).piSeeds?.[token.serial] ?? null;
  return piDeviceSeed(secret, null);
}

/**
 * Keeps a PIN token's seed for this session's polls (memory only; `vault.lock` drops it).
 * @param {string} serial
 * @param {string} seed
 */
export async function keepSeed(serial, seed) {
  const { piSeeds = {} } = await readSession(['piSeeds']);
  await writeSession({ piSeeds: { ...piSeeds, [serial]: seed } });
}

/** @param {string} serial */
export async function dropSeed(serial) {
  const { piSeeds } = await readSession(['piSeeds']);
  if (!piSeeds?.[serial]) return;
  delete piSeeds[serial];
  await (Object.keys(piSeeds).length ? writeSession({ piSeeds }) : removeSession(['piSeeds']));
}

/**
 * privacyIDEA's base32 RSA signature of `message` under the key of `seed`.
 * @param {string} seed
 * @param {string} message
 */
export const sign = (seed, message) => keyOf(seed).sign(message);

/**
 * The same, under a key derived for this signature only and not kept: a PIN's, which may be
 * wrong.
 * @param {string} seed
 * @param {string} message
 */
export function signOnce(seed, message) {
  const key = new PiDeviceKey(seed);
  try {
    return key.sign(message);
  } finally {
    key.free();
  }
}

// Server keys --------------------------------------------------------------------------------

/** @param {ArrayBuffer|Uint8Array} bytes */
export const base64 = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)));
/** @param {string} text */
export const unbase64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

/**
 * Whether `signatureB32` is the server's signature of `message`.
 * @param {CryptoKey} serverKey
 * @param {unknown} signatureB32
 * @param {string} message
 */
export async function verify(serverKey, signatureB32, message) {
  let signature;
  try {
    signature = piSignatureFromBase32(/** @type {string} */ (signatureB32 ?? ''));
  } catch {
    return false;
  }
  return crypto.subtle.verify(RSA, serverKey, signature, new TextEncoder().encode(message));
}

/** @param {import('./store.js').PiToken} token */
export const importServerKey = (token) => crypto.subtle.importKey('spki', unbase64(token.serverKey), RSA, false, ['verify']);

// Origins and calls --------------------------------------------------------------------------

/**
 * The origins a token's codes may be filled into and whose sign-in pages may speed up its
 * polling: its privacyIDEA server's own (its web UI) and the sites the person confirmed for it.
 * privacyIDEA's challenges name no sign-in page, so nothing else can be trusted.
 * @param {import('./store.js').PiToken} token
 * @returns {string[]}
 */
export function trustedOrigins(token) {
  return /** @type {string[]} */ ([originOf(token.url), ...(token.sites ?? [])].filter(Boolean));
}

/**
 * A call to privacyIDEA; its replies of HTTP 200 with `result.status` false are refusals too.
 * @param {string} url
 * @param {RequestInit} init
 * @returns {Promise<any>} the reply's JSON
 */
export async function call(url, init) {
  let reply;
  try {
    // `no-store`: a poll's URL holds a signature that, on disk, would confirm PIN guesses.
    reply = await fetch(url, { ...init, cache: 'no-store', signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch {
    throw coded('unreachable', 'The privacyIDEA server could not be reached.');
  }
  const json = await reply.json().catch(() => ({}));
  if (!reply.ok || json?.result?.status !== true) {
    const message = json?.result?.error?.message ?? `HTTP ${reply.status}`;
    throw coded(reply.status >= 500 ? `http_${reply.status}` : 'refused', message);
  }
  return json;
}
