// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// Enrolling a push token in the service worker (docs/protocol.md §3, §6): the activation link is
// redeemed with its server and the enrollment completed with the core (tools package), whose
// checks refuse an answer that does not verify. Once the server accepted the link it is used up,
// so the accepted token waits in session storage (`enrollments`, store.js) until it is saved:
// for the person's PIN, which masks its approval keys, or for another try at saving. It waits
// sealed (AES-256-GCM) under a fresh key that exists only in the handle the options page holds,
// so that until the PIN masks them its approval keys are readable by nothing but that page's
// next message: another page of the extension reads only the sealed bytes, and once the page
// is gone nobody can open them. A waiting enrollment is dropped when the person gives up (its
// token then removed at the server, `cancel`), and after KEEP_MS (`sweep`, at every worker
// start and with the watchdog).
import { mustReach } from './access.js';
import { coded } from './messages.js';
import { serial } from './queue.js';
import { pushTokens, readSession, writeSession } from './store.js';
import { fromB64url, openJson, randomB64url, sealJson } from './sealing.js';
import { completeEnrollment, enrollRequest, maskKeys, toolsReady } from './worker-tools.js';

const SERVER_TIMEOUT_MS = 20_000;
/** How long an accepted token waits for its PIN or another try at saving. */
const KEEP_MS = 30 * 60_000;
/** The PIN a person chooses for a PIN-protected token (the options page asks for the same). */
const PIN = /^\d{4,8}$/;

/**
 * This worker's recent enrollments (ms, server URL, token), each with its redemption: true
 * once the server accepted the link. A try the server refused is dropped: someone else
 * redeemed the link first, perhaps, and the notice of their authenticator must show.
 */
const sent = /** @type {{at: number, server: string, tokenId: string, redeemed: Promise<boolean>, accepted: boolean}[]} */ ([]);

/**
 * Resolves once every redemption this worker has under way is answered, so that an
 * "authenticator added" notice that came meanwhile is judged by whether this browser's try
 * succeeded (at most SERVER_TIMEOUT_MS). Called outside the storage queue, which a redemption
 * never waits for.
 */
export async function redemptionsSettled() {
  await Promise.all(sent.map((e) => e.redeemed));
}

/**
 * Whether this browser enrolled, with the server's acceptance, another token than `tokenId`
 * at `server` within `windowMs` of `atMs`: its server then tells the person's other tokens
 * (`tokenId`) that an authenticator was added, and that one is this browser's own
 * (notices.js). Kept in memory, since the notice comes at once, before the new token is saved
 * (a PIN token waits for its PIN).
 * @param {string} server
 * @param {string} tokenId
 * @param {number} atMs
 * @param {number} windowMs
 */
export function sentEnrollmentNear(server, tokenId, atMs, windowMs) {
  return sent.some((e) => e.accepted && e.server === server && e.tokenId !== tokenId && Math.abs(e.at - atMs) <= windowMs);
}

/**
 * @typedef {import('./store.js').PushToken} PushToken
 * @typedef {import('./messages.js').EnrolledToken} EnrolledToken
 * @typedef {Omit<PushToken, 'enabled'|'addedAt'>} Kept  a token as it is saved
 * @typedef {Kept & {confirmCode: string}} Accepted  a token the server accepted, with the
 *   comparison code of its enrollment (§3), shown to the person and never saved
 * @typedef {(token: Kept) => Promise<void>} Keep  checks and saves a token (background.js)
 */

/**
 * @param {Accepted} token
 * @returns {EnrolledToken}
 */
function shown({ tokenId, tokenName, user, issuer, server, pin, loginOrigins, confirmCode }) {
  const token = { tokenId, tokenName, user, issuer, server, pin: { required: pin.required, maxTries: pin.maxTries }, confirmCode };
  // The page names the login pages where its codes will be typed (§3).
  return loginOrigins?.length ? { ...token, loginOrigins: [...loginOrigins] } : token;
}

/**
 * Redeems the link with its server (§3): the server's JSON answer, or a coded refusal naming
 * the server's host.
 * @param {{server: string, request: object}} started
 */
async function redeem(started) {
  const host = new URL(started.server).host;
  await mustReach(started.server);
  let reply;
  try {
    reply = await fetch(`${started.server}/api/v1/enroll`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(started.request),
      credentials: 'omit',
      cache: 'no-store',
      signal: AbortSignal.timeout(SERVER_TIMEOUT_MS),
    });
  } catch (err) {
    if (err?.name === 'TimeoutError') throw coded('timeout', `${host} did not answer in time.`, { host });
    throw coded('unreachable', `${host} could not be reached.`, { host });
  }
  if (reply.status === 401) throw coded('link_used', 'The link was already used or has expired.', { host });
  if (reply.status === 429) throw coded('busy', `${host} is getting too many requests.`, { host });
  if (reply.status >= 500) throw coded('server_error', `${host} had a problem.`, { host, status: reply.status });
  let body = null;
  try {
    body = await reply.json();
  } catch {
    // Not JSON: refused below.
  }
  if (!reply.ok) {
    const message = typeof body?.message === 'string' ? body.message : null;
    throw coded('refused', `${host} refused to add the token.`, { host, status: reply.status, message });
  }
  if (body === null || typeof body !== 'object') throw coded('not_a_server', `${host} did not answer as a PushOTP server does.`, { host });
  return body;
}

/** Additional data of a sealed enrollment: the purpose and its id, so no other blob fits. */
const AAD_PREFIX = 'pushotp-enrollment-v1:';

/**
 * A handle is `<id>.<key>`: the id names the stored entry, the key (32 bytes, base64url)
 * opens it. Anything else names no enrollment.
 * @param {unknown} handle
 * @returns {{id: string, key: Uint8Array<ArrayBuffer>}|null}
 */
function parse(handle) {
  const match = typeof handle === 'string' ? /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/.exec(handle) : null;
  return match ? { id: match[1], key: fromB64url(match[2]) } : null;
}

function newHandle() {
  return `${randomB64url(16)}.${randomB64url(32)}`;
}

/** The stored entries, without those older than KEEP_MS or not sealed. */
async function waiting() {
  const { enrollments = {} } = await readSession(['enrollments']);
  const now = Date.now();
  for (const [id, e] of Object.entries(enrollments)) {
    if (!(e?.at >= now - KEEP_MS) || typeof e.sealed?.data !== 'string') delete enrollments[id];
  }
  return enrollments;
}

/**
 * Keeps an accepted token, sealed under the handle's key, until it is saved; returns the
 * handle.
 * @param {Accepted} token
 * @param {string} [handle]
 */
function hold(token, handle = newHandle()) {
  return serial(async () => {
    const { id, key } = /** @type {{id: string, key: Uint8Array<ArrayBuffer>}} */ (parse(handle));
    const sealed = await sealJson(token, key, AAD_PREFIX + id);
    const enrollments = await waiting();
    enrollments[id] = { sealed, at: enrollments[id]?.at ?? Date.now() };
    await writeSession({ enrollments });
    return handle;
  });
}

/**
 * The waiting token of `handle`, or null when none waits under it (unknown, dropped, too old,
 * or a key that does not open it).
 * @param {unknown} handle
 * @returns {Promise<Accepted|null>}
 */
async function open(handle) {
  const parsed = parse(handle);
  const entry = parsed && (await waiting())[parsed.id];
  if (!entry) return null;
  try {
    return await openJson(entry.sealed, parsed.key, AAD_PREFIX + parsed.id);
  } catch {
    return null;
  }
}

/** @param {unknown} handle */
function release(handle) {
  const parsed = parse(handle);
  return serial(async () => {
    const enrollments = await waiting();
    if (parsed) delete enrollments[parsed.id];
    await writeSession({ enrollments });
  });
}

/** Drops the enrollments that waited longer than KEEP_MS, or whose page gave up unheard. */
export function sweep() {
  return release(null);
}

/**
 * Saves an accepted token with `keep`; on failure it keeps waiting, for another try.
 * @param {string} handle
 * @param {Accepted} token
 * @param {Keep} keep
 * @returns {Promise<{token: EnrolledToken}>}
 */
async function save(handle, token, keep) {
  // The comparison code is for the person's eyes now, not for storage.
  const { confirmCode, ...kept } = token;
  try {
    await keep(kept);
  } catch (err) {
    throw coded('save_failed', err?.message ?? String(err), { enrollment: handle, token: shown(token), reason: err?.code ?? null });
  }
  await release(handle);
  return { token: shown(token) };
}

/**
 * Redeems an activation link and completes the enrollment; saves the token with `keep` unless
 * it waits for its PIN (see messages.js `token.enroll`).
 * @param {unknown} link
 * @param {unknown} deviceName
 * @param {Keep} keep
 * @returns {Promise<import('./messages.js').Replies['token.enroll']>}
 */
export async function start(link, deviceName, keep) {
  if (typeof link !== 'string' || typeof deviceName !== 'string') throw coded('invalid_parameter', 'A link and a device name are needed.');
  await toolsReady();
  let started;
  try {
    started = enrollRequest(link, deviceName, Date.now());
  } catch (err) {
    throw coded('invalid_link', err?.message ?? String(err), { reason: err?.code ?? null });
  }
  const known = (await pushTokens())[started.tokenId];
  if (known) {
    throw coded('already_enrolled', 'The token of this link is already here.', { tokenName: known.tokenName, user: known.user, issuer: known.issuer });
  }
  const host = new URL(started.server).host;
  // Recorded before the link is sent: the server tells the person's other tokens at the
  // redemption, so the notice may come before the answer does.
  let settle = /** @type {(accepted: boolean) => void} */ (() => {});
  const entry = { at: Date.now(), server: started.server, tokenId: started.tokenId, accepted: false, redeemed: new Promise((resolve) => { settle = resolve; }) };
  sent.push(entry);
  sent.splice(0, Math.max(0, sent.length - 16));
  let reply;
  try {
    reply = await redeem(started);
  } catch (err) {
    sent.splice(sent.indexOf(entry), 1);
    settle(false);
    throw err;
  }
  entry.accepted = true;
  settle(true);
  let done;
  try {
    done = completeEnrollment(link, started.request, reply);
  } catch (err) {
    // The server may have spent the link, but its answer cannot be trusted.
    throw coded('untrusted_answer', err?.message ?? String(err), { host, reason: err?.code ?? null });
  }
  /** @type {Accepted} */
  const token = { ...done, server: started.server, deviceName };
  const handle = await hold(token);
  if (token.pin.required) return { added: false, enrollment: handle, token: shown(token) };
  return { added: true, ...(await save(handle, token, keep)) };
}

/**
 * Finishes a waiting enrollment: masks a PIN-protected token's approval keys with `pin` (§6),
 * then saves it with `keep`.
 * @param {unknown} handle
 * @param {unknown} pin
 * @param {Keep} keep
 */
export async function finish(handle, pin, keep) {
  let token = await open(handle);
  if (!token) throw coded('unknown_enrollment', 'This enrollment is no longer waiting: the link is used up.');
  if (token.pin.required && !token.masked) {
    if (typeof pin !== 'string' || !PIN.test(pin)) throw coded('invalid_parameter', 'The PIN must be 4 to 8 digits.');
    await toolsReady();
    const { otp, answer, ...keys } = token.keys;
    token = { ...token, keys, masked: maskKeys(otp, answer, pin) };
    // From here on only the masked keys wait: another try at saving needs no PIN.
    await hold(token, /** @type {string} */ (handle));
  }
  return save(/** @type {string} */ (handle), token, keep);
}

/**
 * Drops a waiting enrollment, and removes its token at the server with `remove` (a signed
 * removal, §7): this browser will never hold it, and a token nobody holds must not be left for
 * the page that showed the link to confirm, nor to receive pushes. Without the token (unknown
 * handle, too old, already dropped) there is nothing to sign the removal with.
 * @param {unknown} handle
 * @param {(token: Accepted) => Promise<unknown>} remove
 */
export async function cancel(handle, remove) {
  if (typeof handle !== 'string') return;
  const token = await open(handle);
  await release(handle);
  if (token) await remove(token);
}
