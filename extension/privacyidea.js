// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// privacyIDEA push tokens in the service worker (docs/privacyidea.md): enrollment, removal,
// the signed polls of `GET /ttype/push` (at start, with the watchdog, often while the popup is
// open or a sign-in page waits), and filling a code-to-phone code into a tab later. Each poll's
// challenges go to the inbox (inbox.js), which checks them with privacyidea-requests.js and keeps
// them beside the other requests, marked `kind: 'privacyidea'`.
import { mustReach } from './access.js';
import { notePiWaiting } from './binding.js';
import { admit, fillTrusted, tabOrigin } from './fill.js';
import { forget, receive, updateOutcome } from './inbox.js';
import { coded } from './messages.js';
import { RSA, base64, call, deviceSecret, dropSeed, forgetKeys, keepSeed, sessionSeed, sign, signOnce, trustedOrigins, unbase64 } from './privacyidea-keys.js';
import { DISPLAY_CODE } from './privacyidea-requests.js';
import { serial as queued } from './queue.js';
import { originOf } from './sites.js';
import { outcomes, piTokens, savePiTokens } from './store.js';
import { secrets, updateSecrets } from './vault.js';
import { piDeviceSeed, piNewDevice, piParseEnrollLink, piPollMessage, piServerKeySpki, toolsReady } from './worker-tools.js';

/** The IndexedDB database where an earlier version kept device keys. */
const EARLIER_KEY_STORE = 'pushotp-privacyidea';

/** Polls this often for a while after the popup opened, or while a sign-in page waits. */
const FAST_POLL_MS = 3_000;
const FAST_POLL_FOR_MS = 2 * 60_000;
/**
 * How long one hint of a waiting sign-in page keeps the fast polling on. The page repeats it
 * every 10 s while it waits (pi-page.js), so the polling stops soon after the waiting does.
 */
const PAGE_HINT_MS = 20_000;

/** @typedef {import('./store.js').PiToken} PiToken */

// Enrollment ---------------------------------------------------------------------------------

/**
 * Serials whose enrollment is under way, so that a second link for one is refused while
 * privacyIDEA is being asked for the first.
 * @type {Set<string>}
 */
const enrolling = new Set();

/**
 * The refusal of a link naming a serial this browser already holds or is enrolling.
 * @param {{serial: string, label: string, issuer: string}} kept
 */
function alreadyEnrolled({ serial, label, issuer }) {
  return coded('already_enrolled', `The privacyIDEA token ${serial} is already here.`, { serial, label, issuer });
}

/**
 * Enrolls from a privacyIDEA link (`otpauth://pipush/…` or `pia://pipush/…`): a new device
 * seed and the RSA key it derives (the core's, docs/privacyidea.md), enrollment step 2 with the
 * link's credential and the public key, and the server's key. The seed goes into the vault,
 * masked with `pin` when the server asks for one; the public key is not kept. Returns the
 * stored token. Fails with `locked` while the vault is locked, and with `already_enrolled` when
 * the link names a serial already held or being enrolled, both before privacyIDEA is asked.
 * @param {unknown} link
 * @param {unknown} [pin]
 * @returns {Promise<PiToken>}
 */
export async function enroll(link, pin = null) {
  await toolsReady();
  const parsed = piParseEnrollLink(String(link ?? ''));
  await mustReach(/** @type {string} */ (originOf(parsed.url)));
  // The seed must be storable before privacyIDEA enrolls the key.
  await secrets();
  // A second link for a serial held here, from any server that knows the serial (the popup
  // shows serials), would replace that token and its device key: refused, and checked in the
  // storage queue so that two enrollments of one serial cannot both pass.
  await queued(async () => {
    const kept = (await piTokens())[parsed.serial];
    if (kept) throw alreadyEnrolled(kept);
    if (enrolling.has(parsed.serial)) throw alreadyEnrolled(parsed);
    enrolling.add(parsed.serial);
  });
  try {
    return await enrollHeld(parsed, pin);
  } finally {
    enrolling.delete(parsed.serial);
  }
}

/**
 * Enrollment step 2 and the token's storage, for a serial `enroll` holds for it.
 * @param {ReturnType<typeof piParseEnrollLink>} parsed
 * @param {unknown} pin
 * @returns {Promise<PiToken>}
 */
async function enrollHeld(parsed, pin) {
  // The server asks for an unlock (`pin=True` or `app_force_unlock`): a PIN before each approval.
  // The core refuses anything but 4 to 64 digits with `pin_required`, whatever the page sent.
  const needsPin = Boolean(parsed.pin || parsed.appForceUnlock);
  const device = piNewDevice(needsPin ? String(pin ?? '') : null);
  const json = await call(parsed.url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      enrollment_credential: parsed.enrollmentCredential,
      serial: parsed.serial,
      fbtoken: 'no_firebase_token',
      pubkey: device.publicKey,
      capabilities: JSON.stringify(['decline_reason']),
    }),
  });
  if (json.result.value !== true || json.detail?.rollout_state !== 'enrolled' || json.detail?.serial !== parsed.serial) {
    throw coded('refused', 'privacyIDEA did not finish the enrollment.');
  }
  const serverKey = base64(piServerKeySpki(String(json.detail.public_key ?? '')));
  // Importing it now refuses a key WebCrypto cannot use before anything is stored.
  await crypto.subtle.importKey('spki', unbase64(serverKey), RSA, false, ['verify']);
  /** @type {PiToken} */
  const token = {
    serial: parsed.serial,
    label: parsed.label,
    issuer: parsed.issuer,
    url: parsed.url,
    sslverify: parsed.sslverify,
    ttlMinutes: parsed.ttlMinutes,
    serverKey,
    pin: parsed.pin,
    appForceUnlock: parsed.appForceUnlock ?? null,
    enabled: true,
    addedAt: Date.now(),
  };
  await queued(async () => {
    // The serial was held while privacyIDEA was asked; a token under it is refused all the same.
    const kept = (await piTokens())[token.serial];
    if (kept) throw alreadyEnrolled(kept);
    // Secrets first: a token is never stored without its seed.
    await updateSecrets((all) => ({ ...all, pi: { ...all.pi, [token.serial]: device.secret } }));
    await savePiTokens({ ...(await piTokens()), [token.serial]: token });
  });
  // The PIN was just chosen: this session may poll with its seed.
  if (needsPin) await keepSeed(token.serial, device.seed);
  poll().catch(() => {});
  return token;
}

/**
 * Forgets a token, its seed and its pending challenges (privacyIDEA has no removal call).
 * While the vault is locked the seed stays sealed, unusable without its token, and goes at
 * the vault's next write.
 * @param {string} serial
 */
export async function remove(serial) {
  await queued(async () => {
    const tokens = await piTokens();
    delete tokens[serial];
    await savePiTokens(tokens);
    await updateSecrets((all) => {
      // A PIN token's key goes with its seed from session memory (dropSeed).
      if (typeof all.pi[serial]?.seed === 'string') forgetKeys([all.pi[serial].seed]);
      delete all.pi[serial];
      return all;
    }).catch((err) => {
      if (err?.code !== 'locked') throw err;
    });
  });
  await dropSeed(serial);
  // After the token: a poll under way finds no token and keeps nothing.
  await forget('privacyidea', serial);
}

/**
 * Removes what an earlier version stored for privacyIDEA tokens, at each worker start: the
 * IndexedDB database of device keys (RSA private keys under neither the PIN nor the vault
 * password) and each token's `pinCheck` (which confirmed PINs offline). The tokens stay; with no
 * seed in the vault they say `enroll_again`.
 */
export async function forgetEarlierForms() {
  await new Promise((resolve, reject) => {
    const request = indexedDB.deleteDatabase(EARLIER_KEY_STORE);
    request.onsuccess = resolve;
    request.onerror = () => reject(request.error);
  });
  await queued(async () => {
    const tokens = await piTokens();
    const earlier = Object.values(tokens).filter((t) => 'pinCheck' in t);
    if (earlier.length === 0) return;
    for (const { pinCheck, ...token } of earlier) tokens[token.serial] = token;
    await savePiTokens(tokens);
  });
}

// Polling ------------------------------------------------------------------------------------

/**
 * One signed poll of a token; the inbox checks and keeps what it lists. Nothing while the
 * vault is locked (`locked`): the device seeds are sealed.
 * @param {PiToken} token
 */
async function pollToken(token) {
  const seed = await sessionSeed(token);
  // A PIN token whose PIN was not used in this session has no key to poll with.
  if (seed) await pollWith(token, seed, sign);
}

/**
 * A poll of `token` signed by `signer` with the key of `seed`.
 * @param {PiToken} token
 * @param {string} seed
 * @param {(seed: string, message: string) => string} signer
 */
async function pollWith(token, seed, signer) {
  const timestamp = new Date().toISOString();
  const signature = signer(seed, piPollMessage(token.serial, timestamp));
  const query = new URLSearchParams({ serial: token.serial, timestamp, signature, capabilities: JSON.stringify(['decline_reason']) });
  const json = await call(`${token.url}?${query}`, { method: 'GET' });
  const list = Array.isArray(json.result.value) ? json.result.value : [];
  await receive('privacyidea', list, { via: 'poll', from: token.serial });
}

/**
 * Lets a PIN token poll again in this session (after a browser restart, or a lock): a poll signed
 * with the key its seed gives under `pin`, whose seed is kept for polling when privacyIDEA
 * accepts it. privacyIDEA's refusal is the only sign of a wrong PIN (`pin_refused`).
 * @param {string} serial
 * @param {unknown} pin
 */
export async function resume(serial, pin) {
  await toolsReady();
  const token = (await piTokens())[serial];
  if (!token?.enabled) throw coded('unknown_token', 'There is no such privacyIDEA token here.');
  const secret = await deviceSecret(token);
  // `pin_required` from the core unless the PIN is digits.
  const seed = secret.masked ? piDeviceSeed(secret, typeof pin === 'string' ? pin : null) : null;
  if (!seed) return void poll().catch(() => {});
  try {
    await pollWith(token, seed, signOnce);
  } catch (err) {
    if (err?.code === 'refused') throw coded('pin_refused', 'privacyIDEA did not accept the key of this PIN: the PIN may be wrong.');
    throw err;
  }
  await keepSeed(serial, seed);
}

/** @type {Promise<void>|null} */
let polling = null;
/** When the last poll started (ms), so that fast polling does not come on top of it. */
let lastPollAt = 0;
/** Polls every enabled privacyIDEA token once (calls while one runs share it). */
export function poll() {
  if (!polling) lastPollAt = Date.now();
  polling ??= (async () => {
    try {
      const tokens = Object.values(await piTokens()).filter((t) => t.enabled);
      if (tokens.length === 0) return;
      await toolsReady();
      const results = await Promise.allSettled(tokens.map(pollToken));
      for (const r of results) {
        if (r.status === 'rejected' && r.reason?.code !== 'locked') console.warn(`PushOTP: privacyIDEA poll: ${r.reason?.message}`);
      }
    } finally {
      polling = null;
    }
  })();
  return polling;
}

let fastUntil = 0;
/** @type {ReturnType<typeof setTimeout>|null} */
let fastTimer = null;

/**
 * Polls every few seconds until `forMs` from now (or later, when an earlier call asked for
 * longer). However often it is called, polls come at most every FAST_POLL_MS: a call while the
 * fast polling runs only extends it, and a new run starts at once only when the last poll is
 * that long ago.
 * @param {number} forMs
 */
function pollFast(forMs) {
  fastUntil = Math.max(fastUntil, Date.now() + forMs);
  if (fastTimer) return;
  const tick = async () => {
    await poll().catch(() => {});
    fastTimer = Date.now() < fastUntil ? setTimeout(tick, FAST_POLL_MS) : null;
  };
  fastTimer = setTimeout(tick, Math.max(0, lastPollAt + FAST_POLL_MS - Date.now()));
}

/** Polls every few seconds for a while (the popup is open, a sign-in is likely under way). */
export function pollOften() {
  pollFast(FAST_POLL_FOR_MS);
}

/**
 * A frame of `origin` says its sign-in page waits for a privacyIDEA push (pi-page.js; the
 * origin is the one the browser reports for the sender). Only a privacyIDEA server of an
 * enabled token, or a site the person confirmed for one, is heeded; it makes the worker poll
 * every few seconds for PAGE_HINT_MS. A page can cause nothing but these polls of tokens
 * already enrolled: never an answer, never a new token. `tabId`: the tab of a top frame that
 * says so, noted as where the sign-in waits.
 * @param {string} origin
 * @param {number|null} [tabId]
 * @returns {Promise<boolean>} whether the hint was heeded
 */
export async function pageWaiting(origin, tabId = null) {
  const tokens = Object.values(await piTokens()).filter((t) => t.enabled && trustedOrigins(t).includes(origin));
  if (tokens.length === 0) return false;
  // The tab whose page waits: its challenges show as started in this browser (binding.js).
  if (tabId !== null) notePiWaiting(origin, tabId);
  pollFast(PAGE_HINT_MS);
  return true;
}

// Filling the code-to-phone code -------------------------------------------------------------

/**
 * Fills the display code of an approved code-to-phone challenge (its outcome, still kept and
 * marked `fillableUntil`) into the tab `tabId`. A tab whose origin is neither the token's
 * privacyIDEA server nor one of its confirmed sites is refused with `unconfirmed_site`, unless
 * `confirmSite` (the person confirmed it in the popup) adds it first (fill.js). `origin` is the
 * site the popup named to the person: a tab that is no longer there (it navigated while the
 * person was asked) is refused with `tab_changed`, and a confirmation needs it, so that only the
 * site the person saw is ever added. The origin filled is always the tab's own, read here;
 * `origin` can only refuse. The outcome's `fill` records the result, and its `trusted` a site
 * confirmed now.
 * @param {import('./messages.js').PiFill} message
 * @returns {Promise<import('./store.js').PiFill>}
 */
export async function fill({ requestId, tabId, origin: expected = null, confirmSite = false }) {
  const outcome = (await outcomes())[requestId];
  if (outcome?.kind !== 'privacyidea' || !DISPLAY_CODE.test(outcome.displayCode ?? '')) {
    throw coded('unknown_request', 'There is no code of this sign-in to fill.');
  }
  // A code outlives its sign-in only briefly: an old one, or one a newer code replaced, is not
  // typed anywhere any more.
  if (!(Number(outcome.fillableUntil) > Date.now())) throw coded('expired', 'This code is too old to fill.');
  const code = /** @type {string} */ (outcome.displayCode);
  const origin = await tabOrigin(tabId, expected, confirmSite);
  const token = await queued(async () => {
    const tokens = await piTokens();
    const token = tokens[outcome.tokenId];
    if (!token) throw coded('unknown_token', 'The token of this sign-in was removed.');
    const sites = admit(origin, trustedOrigins(token), token.sites ?? [], confirmSite);
    if (!sites) return token;
    tokens[token.serial] = { ...token, sites };
    await savePiTokens(tokens);
    return tokens[token.serial];
  });
  const result = await fillTrusted(/** @type {number} */ (tabId), trustedOrigins(token), code, origin);
  await updateOutcome(requestId, (o) => ({ ...o, fill: result, trusted: trustedOrigins(token) }));
  return result;
}
