// SPDX-License-Identifier: MIT OR Apache-2.0
// privacyIDEA push tokens in the service worker (docs/privacyidea.md): enrollment, signed polls
// of `GET /ttype/push`, the check of every challenge's server signatures before it is shown,
// and the signed answers. Challenges join the other requests in session storage `pending`
// (marked `kind: 'privacyidea'`), so the popup shows them in the same carousel.
//
// WebCrypto holds the keys: the device's RSA-4096 pair is made with a non-extractable private
// key and kept in IndexedDB by serial; the server's public key is stored as SPKI. The core
// (tools module) builds every signed string and encodes and decodes privacyIDEA's base32
// signatures.
import initTools, {
  piAnswerMessage,
  piCapabilitiesMessage,
  piChallengeMessage,
  piParseEnrollLink,
  piPollMessage,
  piServerKeySpki,
  piSignatureFromBase32,
  piSignatureToBase32,
  maskKeys,
  unmaskKeys,
} from './pkg/pushotp_tools.js';
import { admit, fillTrusted, tabOrigin } from './fill.js';
import { coded } from './messages.js';
import { originOf } from './sites.js';
import { queued, settleRequest, showBadge, scheduleExpiry, outcomeOf, NOTIFICATION_PREFIX } from './requests.js';
import { piTokens, readSession, savePiTokens, settings, writeSession } from './store.js';

const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
const TIMEOUT_MS = 15_000;
/** How long a challenge is offered after it arrived (privacyIDEA's own app: 2 minutes). */
const SHOW_SECONDS = 120;
/** Polls this often for a while after the popup opened, or while a sign-in page waits. */
const FAST_POLL_MS = 3_000;
const FAST_POLL_FOR_MS = 2 * 60_000;
/**
 * How long one hint of a waiting sign-in page keeps the fast polling on. The page repeats it
 * every 10 s while it waits (pi-page.js), so the polling stops soon after the waiting does.
 */
const PAGE_HINT_MS = 20_000;
/** privacyIDEA's code-to-phone display codes: 2 digits in 3.14 (CODE_TO_PHONE_DISPLAY_CODE_LENGTH). */
const DISPLAY_CODE = /^\d{2,10}$/;
const ID_PREFIX = 'pi:';

let tools = null;
/** The tools module, instantiated the first time a privacyIDEA token needs it. */
function ready() {
  tools ??= initTools({ module_or_path: chrome.runtime.getURL('extension/pkg/pushotp_tools_bg.wasm') });
  return tools;
}

// Storage ------------------------------------------------------------------------------------

async function savePiToken(token) {
  const tokens = await piTokens();
  tokens[token.serial] = token;
  await savePiTokens(tokens);
}

/** Whether a pending request is a privacyIDEA challenge. */
export const isPiRequest = (id) => typeof id === 'string' && id.startsWith(ID_PREFIX);

// Device keys in IndexedDB (CryptoKey objects are stored by structured clone) ----------------

function database() {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open('pushotp-privacyidea', 1);
    open.onupgradeneeded = () => open.result.createObjectStore('keys');
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
}

async function keyStore(mode, step) {
  const db = await database();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction('keys', mode);
      const request = step(tx.objectStore('keys'));
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

const loadKey = (serial) => keyStore('readonly', (store) => store.get(serial));
const saveKey = (serial, keys) => keyStore('readwrite', (store) => store.put(keys, serial));
const deleteKey = (serial) => keyStore('readwrite', (store) => store.delete(serial));

// Helpers ------------------------------------------------------------------------------------

const base64 = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)));
const unbase64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

async function sign(privateKey, message) {
  const signature = await crypto.subtle.sign(RSA, privateKey, new TextEncoder().encode(message));
  return piSignatureToBase32(new Uint8Array(signature));
}

async function verify(serverKey, signatureB32, message) {
  let signature;
  try {
    signature = piSignatureFromBase32(signatureB32 ?? '');
  } catch {
    return false;
  }
  return crypto.subtle.verify(RSA, serverKey, signature, new TextEncoder().encode(message));
}

const base64url = (bytes) => base64(bytes).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
const sha256 = async (text) => base64(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));

/** A PIN check for a token whose server asks for an unlock before each answer. */
async function pinCheck(pin) {
  if (!/^\d{4,64}$/.test(pin ?? '')) throw coded('pin_required', 'This token needs a PIN of at least 4 digits.');
  const random = () => base64url(crypto.getRandomValues(new Uint8Array(32)));
  const first = random();
  return { masked: maskKeys(first, random(), pin), digest: await sha256(first) };
}

/** Whether `pin` is the one the token's PIN check was made with (Argon2id, so it takes a moment). */
async function pinMatches(check, pin) {
  if (!/^\d{1,64}$/.test(pin ?? '')) return false;
  const { otp } = unmaskKeys(check.masked, pin);
  return (await sha256(otp)) === check.digest;
}

/**
 * The origins a token's codes may be filled into and whose sign-in pages may speed up its
 * polling: its privacyIDEA server's own (its web UI) and the sites the person confirmed for it.
 * privacyIDEA's challenges name no sign-in page, so nothing else can be trusted.
 * @param {import('./store.js').PiToken} token
 * @returns {string[]}
 */
export function trustedOrigins(token) {
  return [originOf(token.url), ...(token.sites ?? [])].filter(Boolean);
}

const importServerKey = (token) => crypto.subtle.importKey('spki', unbase64(token.serverKey), RSA, false, ['verify']);

/** privacyIDEA's replies: HTTP 200 with `result.value` false is a refusal too. */
async function call(url, init) {
  let reply;
  try {
    reply = await fetch(url, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) });
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

// Enrollment ---------------------------------------------------------------------------------

/**
 * Enrolls from a privacyIDEA link (`otpauth://pipush/…` or `pia://pipush/…`): a new RSA-4096
 * key pair (private key not extractable), enrollment step 2 with the link's credential, and the
 * server's key. Returns the stored token.
 */
export async function enroll(link, pin = null) {
  await ready();
  const parsed = piParseEnrollLink(String(link ?? ''));
  // The server asks for an unlock (`pin=True` or `app_force_unlock`): a PIN before each approval.
  const check = parsed.pin || parsed.appForceUnlock ? await pinCheck(pin) : null;
  const keys = await crypto.subtle.generateKey(
    { ...RSA, modulusLength: 4096, publicExponent: new Uint8Array([1, 0, 1]) },
    false,
    ['sign', 'verify'],
  );
  const pubkey = base64(await crypto.subtle.exportKey('spki', keys.publicKey));
  const json = await call(parsed.url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      enrollment_credential: parsed.enrollmentCredential,
      serial: parsed.serial,
      fbtoken: 'no_firebase_token',
      pubkey,
      capabilities: JSON.stringify(['decline_reason']),
    }),
  });
  if (json.result.value !== true || json.detail?.rollout_state !== 'enrolled' || json.detail?.serial !== parsed.serial) {
    throw coded('refused', 'privacyIDEA did not finish the enrollment.');
  }
  const serverKey = base64(piServerKeySpki(String(json.detail.public_key ?? '')));
  // Importing it now refuses a key WebCrypto cannot use before anything is stored.
  await crypto.subtle.importKey('spki', unbase64(serverKey), RSA, false, ['verify']);
  await saveKey(parsed.serial, { privateKey: keys.privateKey, publicKey: keys.publicKey });
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
    ...(check && { pinCheck: check }),
    enabled: true,
    addedAt: Date.now(),
  };
  await queued(() => savePiToken(token));
  poll().catch(() => {});
  return token;
}

/** Forgets a token, its key and its pending challenges (privacyIDEA has no removal call). */
export function remove(serial) {
  return queued(async () => {
    const tokens = await piTokens();
    delete tokens[serial];
    await savePiTokens(tokens);
    const { pending = {} } = await readSession(['pending']);
    for (const [id, p] of Object.entries(pending)) if (p.kind === 'privacyidea' && p.request.tokenId === serial) delete pending[id];
    await writeSession({ pending });
    await showBadge(pending);
    await deleteKey(serial);
  });
}

// Polling ------------------------------------------------------------------------------------

/** Checks one challenge's signatures; returns the request to keep, or null. */
async function check(challenge, token, serverKey) {
  const c = challenge ?? {};
  const fields = ['nonce', 'url', 'serial', 'question', 'title', 'sslverify'];
  if (!fields.every((f) => typeof c[f] === 'string') || c.serial !== token.serial) return null;
  const presence = typeof c.require_presence === 'string' ? c.require_presence : undefined;
  const message = piChallengeMessage(c.nonce, c.url, c.serial, c.question, c.title, c.sslverify, presence);
  if (!(await verify(serverKey, c.signature, message))) return null;
  let declineReason = false;
  if (c.capabilities != null || c.capabilities_signature != null) {
    let signed;
    try {
      signed = piCapabilitiesMessage(String(c.capabilities), c.nonce);
    } catch {
      return null;
    }
    if (!(await verify(serverKey, c.capabilities_signature, signed))) return null;
    declineReason = JSON.parse(c.capabilities)?.decline_reason === true;
  }
  return {
    id: `${ID_PREFIX}${c.serial}:${c.nonce}`,
    tokenId: c.serial,
    app: c.title,
    question: c.question,
    nonce: c.nonce,
    url: c.url,
    serial: c.serial,
    issuer: token.issuer,
    choices: presence ? presence.split(',').filter(Boolean) : undefined,
    declineReason,
  };
}

async function pollToken(token) {
  const keys = await loadKey(token.serial);
  if (!keys?.privateKey) throw coded('unknown_token', `no device key for ${token.serial}`);
  const timestamp = new Date().toISOString();
  const signature = await sign(keys.privateKey, piPollMessage(token.serial, timestamp));
  const query = new URLSearchParams({ serial: token.serial, timestamp, signature, capabilities: JSON.stringify(['decline_reason']) });
  const json = await call(`${token.url}?${query}`, { method: 'GET' });
  const list = Array.isArray(json.result.value) ? json.result.value : [];
  const serverKey = await importServerKey(token);
  const checked = [];
  for (const challenge of list) {
    const request = await check(challenge, token, serverKey);
    if (request) checked.push(request);
    else console.warn(`PushOTP: dropped a privacyIDEA challenge that failed its signature check (${token.serial})`);
  }
  await keep(token, checked);
}

/** Keeps new checked challenges and drops pending ones the server no longer lists. */
function keep(token, requests) {
  return queued(async () => {
    const { seen = {}, pending = {} } = await readSession(['seen', 'pending']);
    const now = Date.now();
    const listed = new Set(requests.map((r) => r.id));
    let changed = false;
    for (const [id, p] of Object.entries(pending)) {
      if (p.kind === 'privacyidea' && p.request.tokenId === token.serial && !listed.has(id)) {
        delete pending[id];
        await chrome.notifications.clear(`${NOTIFICATION_PREFIX}${id}`);
        changed = true;
      }
    }
    const prefs = await settings();
    const fresh = [];
    for (const request of requests) {
      if (seen[request.id] || pending[request.id]) continue;
      const expiresAt = Math.floor(now / 1000) + SHOW_SECONDS;
      seen[request.id] = expiresAt;
      if (!prefs.pushEnabled || !token.enabled) continue;
      pending[request.id] = { kind: 'privacyidea', request: { ...request, expiresAt }, receivedAt: now, via: 'poll' };
      fresh.push(request);
      changed = true;
    }
    for (const [id, expiresAt] of Object.entries(seen)) if (expiresAt * 1000 < now) delete seen[id];
    await writeSession(changed ? { seen, pending } : { seen });
    if (!changed) return;
    await showBadge(pending);
    scheduleExpiry(pending);
    if (prefs.notifications) {
      for (const request of fresh) {
        await chrome.notifications.create(`${NOTIFICATION_PREFIX}${request.id}`, {
          type: 'basic',
          iconUrl: chrome.runtime.getURL('extension/icons/icon-128.png'),
          title: request.app,
          message: request.question,
          contextMessage: `${request.issuer} · ${request.serial}`,
          priority: 2,
          requireInteraction: true,
        });
      }
    }
  });
}

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
      await ready();
      const results = await Promise.allSettled(tokens.map(pollToken));
      for (const r of results) if (r.status === 'rejected') console.warn(`PushOTP: privacyIDEA poll: ${r.reason?.message}`);
    } finally {
      polling = null;
    }
  })();
  return polling;
}

let fastUntil = 0;
let fastTimer = null;

/**
 * Polls every few seconds until `forMs` from now (or later, when an earlier call asked for
 * longer). However often it is called, polls come at most every FAST_POLL_MS: a call while the
 * fast polling runs only extends it, and a new run starts at once only when the last poll is
 * that long ago.
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
 * already enrolled: never an answer, never a new token.
 * @param {string} origin
 * @returns {Promise<boolean>} whether the hint was heeded
 */
export async function pageWaiting(origin) {
  const tokens = Object.values(await piTokens()).filter((t) => t.enabled && trustedOrigins(t).includes(origin));
  if (tokens.length === 0) return false;
  pollFast(PAGE_HINT_MS);
  return true;
}

// Answers ------------------------------------------------------------------------------------

const answering = new Set();

/**
 * Answers a pending challenge: `decision` 'approve' (with `number`, the presence option, when
 * the challenge asks for one), 'deny' (decline) or 'report' (decline with `unknown_trigger`
 * when the challenge's signed capabilities offer reasons). Returns the `Outcome`.
 */
export async function answer({ requestId, decision, number = null, pin = null, tabId = null }) {
  if (!['approve', 'deny', 'report'].includes(decision)) throw coded('invalid_parameter', 'unknown decision');
  if (answering.has(requestId)) throw coded('already_answering', 'This request is already being answered.');
  answering.add(requestId);
  try {
    const waiting = (await readSession(['pending'])).pending?.[requestId];
    if (!waiting || waiting.kind !== 'privacyidea') throw coded('unknown_request', 'This request is no longer waiting.');
    const { request } = waiting;
    const token = (await piTokens())[request.tokenId];
    const keys = token && (await loadKey(token.serial));
    if (!keys?.privateKey) throw coded('unknown_token', 'The token of this request was removed.');
    if (decision === 'approve' && request.choices?.length && !request.choices.includes(String(number))) {
      throw coded('invalid_parameter', 'Pick one of the options shown.');
    }
    await ready();
    if (token.pinCheck && decision === 'approve') {
      if (!pin) throw coded('pin_required', 'This token needs its PIN to approve.');
      if (!(await pinMatches(token.pinCheck, pin))) {
        return outcomeOf({ status: 'failed', reason: 'wrong_pin' }, request, Date.now());
      }
    }
    const decline = decision !== 'approve';
    const reason = decision === 'report' && request.declineReason ? 'unknown_trigger' : undefined;
    const presence = !decline && request.choices?.length ? String(number) : undefined;
    const signature = await sign(keys.privateKey, piAnswerMessage(request.nonce, request.serial, presence, decline, reason));
    const form = { serial: request.serial, nonce: request.nonce, signature };
    if (decline) form.decline = '1';
    if (reason) form.decline_reason = reason;
    if (presence) form.presence_answer = presence;
    let json;
    try {
      json = await call(request.url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form),
      });
    } catch (err) {
      return outcomeOf({ status: 'failed', reason: err.code === 'unreachable' ? 'unreachable' : err.code }, request, Date.now());
    }
    if (json.result.value !== true) {
      // A wrong presence option leaves the challenge open on the server: the person may retry.
      return outcomeOf({ status: 'failed', reason: presence ? 'wrong_choice' : 'refused' }, request, Date.now());
    }
    const status = decision === 'approve' ? 'approved' : decision === 'report' ? 'reported' : 'denied';
    const outcome = outcomeOf({ status }, request, Date.now());
    // code_to_phone: the server hands a code to type at the sign-in page. It is filled into the
    // tab the person approved from when that tab is one this token's codes may go to; the
    // outcome says how that went, so the popup can offer the rest.
    if (typeof json.detail?.display_code === 'string') {
      outcome.displayCode = json.detail.display_code;
      outcome.displayMessage = json.detail.message ?? null;
      if (Number.isInteger(tabId) && DISPLAY_CODE.test(outcome.displayCode)) outcome.fill = await fillTrusted(tabId, trustedOrigins(token), outcome.displayCode);
    }
    await queued(() => settleRequest(requestId, outcome));
    return outcome;
  } finally {
    answering.delete(requestId);
  }
}

// Filling the code-to-phone code -------------------------------------------------------------

/**
 * Fills the display code of an approved code-to-phone challenge (its outcome, still kept) into
 * the tab `tabId`. A tab whose origin is neither the token's privacyIDEA server nor one of its
 * confirmed sites is refused with `unconfirmed_site`, unless `confirmSite` (the person confirmed
 * it in the popup) adds it first. `origin` is the site the popup named to the person: a tab that
 * is no longer there (it navigated while the person was asked) is refused with `tab_changed`,
 * and a confirmation needs it, so that only the site the person saw is ever added. The origin
 * filled is always the tab's own, read here; `origin` can only refuse. The outcome's `fill`
 * records the result.
 * @returns {Promise<import('./store.js').PiFill>}
 */
export async function fill({ requestId, tabId, origin: expected = null, confirmSite = false }) {
  const outcome = (await readSession(['outcomes'])).outcomes?.[requestId];
  if (!isPiRequest(requestId) || !DISPLAY_CODE.test(outcome?.displayCode ?? '')) throw coded('unknown_request', 'There is no code of this sign-in to fill.');
  // A code outlives its sign-in only briefly: an old one is not typed anywhere any more.
  if (Date.now() - outcome.at > SHOW_SECONDS * 1000) throw coded('expired', 'This code is too old to fill.');
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
  const result = await fillTrusted(tabId, trustedOrigins(token), outcome.displayCode, origin);
  await queued(async () => {
    const { outcomes = {} } = await readSession(['outcomes']);
    if (outcomes[requestId]) {
      outcomes[requestId] = { ...outcomes[requestId], fill: result };
      await writeSession({ outcomes });
    }
  });
  return result;
}
