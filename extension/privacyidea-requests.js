// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// The inbox's adapter for privacyIDEA challenges (docs/privacyidea.md): the check of each
// challenge's server signatures before it is kept, and the signed answer to a decision.
// privacyidea.js polls for them and hands the server's list to the inbox (inbox.js), which
// calls `check` with it and `answer` when the person decides.
import { piWaitingTab } from './binding.js';
import { fillTrusted } from './fill.js';
import { coded } from './messages.js';
import { call, deviceSecret, importServerKey, keepSeed, sessionSeed, sign, signOnce, trustedOrigins, verify } from './privacyidea-keys.js';
import { piTokens } from './store.js';
import { BOUND_NOTE, UNBOUND_WARNING } from './words.js';
import { piAnswerMessage, piCheckChallenge, piDeviceSeed, toolsReady } from './worker-tools.js';

/** How long a challenge is offered after it arrived (privacyIDEA's own app: 2 minutes). */
const SHOW_SECONDS = 120;
/** privacyIDEA's code-to-phone display codes: 2 digits in 3.14 (CODE_TO_PHONE_DISPLAY_CODE_LENGTH). */
export const DISPLAY_CODE = /^\d{2,10}$/;
const ID_PREFIX = 'pi:';

/**
 * @typedef {import('./store.js').PiToken} PiToken
 * @typedef {import('./store.js').PiChallenge} PiChallenge
 * @typedef {import('./inbox.js').Checked} Checked
 */

/**
 * Checks one challenge: its fields and capabilities by the core (`piCheckChallenge`, which
 * builds the strings the server signed), then its signatures under the server's key. Returns
 * the challenge to keep (without its `expiresAt`), or null.
 * @param {any} challenge
 * @param {PiToken} token
 * @param {CryptoKey} serverKey
 * @returns {Promise<Omit<PiChallenge, 'expiresAt'>|null>}
 */
async function verified(challenge, token, serverKey) {
  let c;
  try {
    c = piCheckChallenge(challenge, token.serial);
  } catch {
    // A missing field, another token's serial, or capabilities that are no JSON object.
    return null;
  }
  if (!(await verify(serverKey, challenge.signature, c.message))) return null;
  if (c.capabilitiesMessage !== undefined && !(await verify(serverKey, challenge.capabilities_signature, c.capabilitiesMessage))) {
    return null;
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
    choices: c.choices,
    declineReason: c.declineReason,
  };
}

/**
 * The challenges a poll of token `from` returned whose signatures verify under its server's
 * key; the others are dropped with a warning.
 * @param {unknown[]} raws
 * @param {import('./inbox.js').Delivery} delivery
 * @returns {Promise<Checked[]>}
 */
export async function check(raws, { from }) {
  const token = from === undefined ? undefined : (await piTokens())[from];
  // Removed while the poll was under way: nothing of it is kept.
  if (!token) return [];
  await toolsReady();
  const serverKey = await importServerKey(token);
  const checked = [];
  // privacyIDEA takes no binding: a sign-in page of the token that waits in this browser is a
  // hint that the challenge started here, shown with the same words as a bound push request.
  const bound = await piWaitingTab(trustedOrigins(token));
  for (const raw of raws) {
    const challenge = await verified(raw, token, serverKey);
    if (!challenge) {
      console.warn(`PushOTP: dropped a privacyIDEA challenge that failed its signature check (${token.serial})`);
      continue;
    }
    const expiresAt = Math.floor(Date.now() / 1000) + SHOW_SECONDS;
    checked.push({
      request: { ...challenge, expiresAt },
      enabled: token.enabled,
      pin: Boolean(token.pin || token.appForceUnlock),
      ...(bound && { bound }),
      notice: noticeOf(challenge, bound),
    });
  }
  return checked;
}

/**
 * Answers a pending challenge: `decision` 'approve' (with `number`, the presence option, when
 * the challenge asks for one, and `pin` when the token's seed is masked with a PIN), 'deny'
 * (decline) or 'report' (decline with `unknown_trigger` when the challenge's signed
 * capabilities offer reasons). A code-to-phone approval's display code is filled into tab
 * `tabId` when that tab is one of the token's trusted origins.
 *
 * The key signs as the core derives it from the token's seed (docs/privacyidea.md): read from
 * the vault (`locked` while it is locked) and, for an approval of a PIN token, unmasked with the
 * PIN given now, never with a seed kept earlier. A wrong PIN gives another valid key, which
 * privacyIDEA refuses: nothing here can tell. A decline of a PIN token signs with the seed this
 * session polled with, or the PIN when one is given.
 * @param {import('./store.js').Pending} item
 * @param {import('./messages.js').RequestAnswer} answer
 * @returns {Promise<{verdict: import('./inbox.js').Verdict}>}
 */
export async function answer(item, { decision, number = null, pin = null, tabId = null }) {
  const request = /** @type {PiChallenge} */ (item.request);
  const token = (await piTokens())[request.tokenId];
  if (!token) throw coded('unknown_token', 'The token of this request was removed.');
  if (decision === 'approve' && request.choices?.length && !request.choices.includes(String(number))) {
    throw coded('invalid_parameter', 'Pick one of the options shown.');
  }
  await toolsReady();
  const secret = await deviceSecret(token);
  const withPin = Boolean(secret.masked) && (decision === 'approve' || pin != null);
  // `pin_required` from the core when a masked seed gets no PIN of digits.
  const seed = withPin ? piDeviceSeed(secret, pin) : await sessionSeed(token);
  if (!seed) throw coded('pin_required', 'This token needs its PIN to answer.');
  const decline = decision !== 'approve';
  const reason = decision === 'report' && request.declineReason ? 'unknown_trigger' : undefined;
  const presence = !decline && request.choices?.length ? String(number) : undefined;
  const message = piAnswerMessage(request.nonce, request.serial, presence, decline, reason);
  const signature = withPin ? signOnce(seed, message) : sign(seed, message);
  /** @type {Record<string, string>} */
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
    return { verdict: { status: 'failed', reason: err.code === 'unreachable' ? 'unreachable' : err.code } };
  }
  if (json.result.value !== true) {
    // A wrong presence option, or a signature from a wrong PIN's key, leaves the challenge open
    // on the server: the person may retry.
    if (withPin) return { verdict: { status: 'failed', reason: 'pin_refused' } };
    return { verdict: { status: 'failed', reason: presence ? 'wrong_choice' : 'refused' } };
  }
  // privacyIDEA accepted the key this PIN gave: this session may poll with it.
  if (withPin) await keepSeed(token.serial, seed);
  /** @type {import('./inbox.js').Verdict} */
  const verdict = { status: decision === 'approve' ? 'approved' : decision === 'report' ? 'reported' : 'denied' };
  // code_to_phone: the server hands a code to type at the sign-in page. It is filled into the
  // tab the person approved from when that tab is one this token's codes may go to; the
  // outcome says how that went, and marks what the popup may offer: filling it elsewhere while
  // its sign-in may still wait for it, without asking for the origins in `trusted`.
  if (typeof json.detail?.display_code === 'string') {
    verdict.displayCode = json.detail.display_code;
    verdict.displayMessage = json.detail.message ?? null;
    if (DISPLAY_CODE.test(verdict.displayCode)) {
      verdict.fillableUntil = Date.now() + SHOW_SECONDS * 1000;
      verdict.trusted = trustedOrigins(token);
      if (Number.isInteger(tabId)) verdict.fill = await fillTrusted(/** @type {number} */ (tabId), verdict.trusted, verdict.displayCode);
    }
  }
  return { verdict };
}

/**
 * A challenge's notification: where it started, in the same words as a push request's.
 * @param {Omit<PiChallenge, 'expiresAt'>} challenge
 * @param {import('./store.js').Bound|null|undefined} bound
 * @returns {Checked['notice']}
 */
function noticeOf(challenge, bound) {
  return {
    title: challenge.app,
    message: `${bound ? `${BOUND_NOTE}.` : UNBOUND_WARNING} ${challenge.question}`,
    contextMessage: `${challenge.issuer} · ${challenge.serial}`,
    buttons: false,
  };
}

/**
 * The notification of a waiting challenge as it is now.
 * @param {import('./store.js').Pending} item
 */
export async function notice(item) {
  return noticeOf(/** @type {PiChallenge} */ (item.request), item.bound);
}

/**
 * Whether a sign-in page of the challenge's token waits in this browser now (the popup opened).
 * @param {import('./store.js').Pending} item
 */
export async function locate(item) {
  const token = (await piTokens())[item.request.tokenId];
  return token ? piWaitingTab(trustedOrigins(token)) : null;
}

/** privacyIDEA challenges are never answered from a notification: it has no buttons. */
export async function approvable() {
  return false;
}
