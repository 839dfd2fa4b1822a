// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// The inbox's adapter for PushOTP push requests (docs/protocol.md §4, §5): the core's check of
// each request before it is kept and of each notice that one ended, and the answer to a
// decision, computed here and sent to the request's server. The approval's passcode depends on
// the PIN, so it goes to the server only; the sign-in code the server's reply carries is what
// goes to the login page of the request's origin (fill.js), when its token serves that origin
// (the core's `mayFill`). channel.js and Web Push deliver the requests to the inbox (inbox.js),
// which calls `check` with them and `answer` when the person decides.
//
// A request that commits to a login page's binding (binding.js) is bound when that page is open
// in this browser: shown so, and approved with one press, the binding read again at that moment
// going into the answer under its MAC (the server then marks the approval bound, and may skip
// the number). Any other request is approved with its number, as a sign-in from elsewhere.
import { findBinding } from './binding.js';
import { approveAnswer, denyAnswer, pushPasscode, ready, verifyPushEnded, verifyPushRequest } from './core.js';
import { fillOrigin } from './fill.js';
import { loginCodeOf } from './login-code.js';
import { coded } from './messages.js';
import { approving } from './notices.js';
import { serial } from './queue.js';
import { restoredElsewhere } from './restore.js';
import { pending, pushTokens } from './store.js';
import { secrets, touch } from './vault.js';
import { BOUND_NOTE, UNBOUND_WARNING } from './words.js';
import { mayFill, toolsReady, verifyLoginCode } from './worker-tools.js';

const ANSWER_TIMEOUT_MS = 15_000;

/** Refusals of an approval that the server counts as a failed try (docs/protocol.md §5). */
const FAILED_TRIES = ['wrong_pin', 'wrong_number', 'bad_answer', 'locked'];

/**
 * @typedef {import('./store.js').PushRequest} PushRequest
 * @typedef {import('./store.js').PushToken} PushToken
 * @typedef {import('./inbox.js').Checked} Checked
 * @typedef {import('./inbox.js').Verdict} Verdict
 */

/** @param {string} origin */
function hostOf(origin) {
  try {
    return new URL(origin).host;
  } catch {
    return origin;
  }
}

/**
 * The token `tokenId` when it is one of the servers `servers` (those the message came from):
 * a server speaks only for its own tokens.
 * @param {{[tokenId: string]: PushToken}} tokens
 * @param {unknown} tokenId
 * @param {string[]|undefined} servers
 * @returns {PushToken|undefined}
 */
function ownToken(tokens, tokenId, servers) {
  const token = typeof tokenId === 'string' ? tokens[tokenId] : undefined;
  return token && servers?.includes(token.server) ? token : undefined;
}

/**
 * The requests that are for a known token of the server that sent them and pass the core's
 * check of their tag and times (`verifyPushRequest`); the others are dropped with a warning.
 * Each is looked for in this browser's tabs (binding.js): `bound` when its login page is here.
 * @param {unknown[]} raws
 * @param {import('./inbox.js').Delivery} delivery
 * @returns {Promise<Checked[]>}
 */
export async function check(raws, { via, servers }) {
  // The core's rule of where a sign-in code may be filled (`mayFill`) is in the tools module.
  await Promise.all([ready, toolsReady()]);
  const tokens = await pushTokens();
  /** @type {{request: PushRequest, token: PushToken}[]} */
  const checked = [];
  for (const raw of raws) {
    const request = /** @type {PushRequest} */ (raw);
    const token = tokens[request?.tokenId];
    if (!token) {
      console.warn(`PushOTP: dropped a request for an unknown token (${via})`);
      continue;
    }
    if (!ownToken(tokens, request.tokenId, servers)) {
      console.warn(`PushOTP: dropped a request for a token of another server (${via})`);
      continue;
    }
    // Restored in another browser: its requests are that browser's.
    if (token.restoredElsewhereAt) continue;
    try {
      verifyPushRequest(request, token.keys.request, Date.now());
    } catch (err) {
      console.warn(`PushOTP: dropped a request that failed its check: ${err.code ?? err.message} (${via})`);
      continue;
    }
    checked.push({ request, token });
  }
  // Where each one started, looked for at once in every tab of its origin.
  const bound = await Promise.all(checked.map(({ request }) => locateRequest(request)));
  return checked.map(({ request, token }, i) => {
    const here = bound[i];
    return {
      request,
      enabled: token.enabled,
      pin: token.pin.required,
      // Named a site its token does not serve: shown, so that it can be denied or reported,
      // but its sign-in code is filled nowhere.
      ...(!mayFill(token, request.origin) && { foreign: true }),
      ...(here && { bound: here }),
      notice: noticeOf(request, token, here),
    };
  });
}

/**
 * The notification of a request: where it started, in the same words as the popup.
 * @param {PushRequest} request
 * @param {PushToken} token
 * @param {import('./store.js').Bound|null|undefined} bound
 * @returns {Checked['notice']}
 */
function noticeOf(request, token, bound) {
  const where = request.place ? [request.place.city, request.place.country].filter(Boolean).join(', ') : request.clientIp;
  const account = `${token.user} at ${token.issuer} · from ${where}`;
  return {
    title: `Sign-in to ${request.app}`,
    message: bound ? `${BOUND_NOTE}. ${account}` : `${UNBOUND_WARNING} ${account}`,
    contextMessage: hostOf(request.origin),
    buttons: true,
    // Where the button cannot approve by itself (approvable), it says what it opens.
    ...(token.pin.required
      ? { approve: 'Enter PIN…' }
      : bound
        ? {}
        : request.choices
          ? { approve: 'Choose the number…' }
          : request.numberEntry
            ? { approve: 'Type the number…' }
            : {}),
  };
}

/**
 * The notification of a waiting request as it is now (it may have turned unbound), or null once
 * its token is gone.
 * @param {import('./store.js').Pending} item
 */
export async function notice(item) {
  const token = (await pushTokens())[item.request.tokenId];
  return token ? noticeOf(/** @type {PushRequest} */ (item.request), token, item.bound) : null;
}

/**
 * The tab `request` started in, without its binding, or null.
 * @param {PushRequest} request
 * @returns {Promise<import('./store.js').Bound|null>}
 */
async function locateRequest(request) {
  const found = await findBinding(request).catch(() => null);
  if (!found) return null;
  const { binding: _binding, ...bound } = found;
  return bound;
}

/**
 * The tab a waiting push request started in, looked for again (the popup opened).
 * @param {import('./store.js').Pending} item
 */
export function locate(item) {
  return locateRequest(/** @type {PushRequest} */ (item.request));
}

/**
 * The notices that a request ended (protocol §4, "The end of a request") that are for a known
 * token of the server that sent them and whose tag verifies under its `K_req`
 * (`verifyPushEnded`); the others are dropped, with a warning when their token is known. A
 * notice for a token this device no longer holds is expected (the server tells a removed
 * token's socket) and dropped quietly.
 * @param {unknown[]} raws
 * @param {import('./inbox.js').Delivery} delivery
 * @returns {Promise<import('./inbox.js').Ended[]>}
 */
export async function ended(raws, { via, servers }) {
  await ready;
  const tokens = await pushTokens();
  /** @type {import('./inbox.js').Ended[]} */
  const checked = [];
  for (const raw of raws) {
    const notice = /** @type {{id: string, tokenId: string}} */ (raw);
    const token = ownToken(tokens, notice?.tokenId, servers);
    if (!token) continue;
    try {
      const reason = verifyPushEnded(notice, token.keys.request);
      checked.push({ id: notice.id, tokenId: notice.tokenId, reason });
    } catch (err) {
      console.warn(`PushOTP: dropped an end notice that failed its check: ${err.code ?? err.message} (${via})`);
    }
  }
  return checked;
}

/**
 * Answers a pending request (protocol §5). `keys` are the PIN-unmasked `{ otp, answer }` of a
 * PIN-protected token. When the server cannot be reached the verdict is `failed` and the
 * request stays pending.
 * @param {import('./store.js').Pending} item
 * @param {import('./messages.js').RequestAnswer} answer
 * @returns {Promise<{verdict: Verdict, after?: () => Promise<void>}>}
 */
export async function answer(item, { decision, number = null, keys = null }) {
  const binding = decision === 'approve' ? await bindingNow(item) : null;
  const prepared = await serial(() => prepare(item.request.id, decision, /** @type {number|null} */ (number), keys, binding));
  // A failed approval is told to every device of the person, this one too, before the reply
  // comes back: noted first, so that the notice of this one is not shown as news.
  const approval = decision === 'approve' ? approving(prepared.token) : null;
  /** @type {Verdict & {tag?: unknown, loginCode?: unknown, loginCodeTag?: unknown} | undefined} */
  let verdict;
  try {
    verdict = await send(prepared.token.server, prepared.body);
  } finally {
    approval?.(FAILED_TRIES.includes(verdict?.reason ?? ''));
  }
  if (verdict.reason === 'restored_elsewhere') {
    const { tag } = verdict;
    return { verdict: { status: 'rejected', reason: 'restored_elsewhere' }, after: () => restoredElsewhere(prepared.token.server, prepared.token.tokenId, tag).then(() => {}) };
  }
  // Kept open after a wrong PIN: the next answer must say a later time than this one.
  if (verdict.pending) return { verdict: { ...verdict, answeredAt: prepared.at } };
  if (verdict.status !== 'approved') return { verdict };
  const { origin } = prepared.request;
  // Only the sign-in code the server issued with the approval goes to the page, never the
  // passcode (made from the PIN-masked K_otp); a server that sends none gets nothing filled.
  // And only at a login page the token serves: its server's origin, one the server declared at
  // enrollment, or one the person confirmed (protocol §4, "Where the sign-in code goes").
  // A server's word going into a web page: only the token's `otp.digits` ASCII digits, and
  // only with its tag under the token's K_req (the code its server issued for this request).
  const { loginCode: sent, loginCodeTag, ...shown } = verdict;
  const loginCode = loginCodeOf(sent, prepared.token.otp.digits);
  await toolsReady();
  const fills = loginCode !== undefined && issued(prepared.token, prepared.request.id, loginCode, loginCodeTag) && mayFill(prepared.token, origin);
  return {
    verdict: shown,
    after: async () => {
      if (fills) await fillOrigin(origin, /** @type {string} */ (loginCode));
      await touch();
    },
  };
}

/**
 * The binding an approval of `item` carries: the one its login page in this browser carries
 * now, read again at this moment, not when the request was shown. A request shown as started
 * in this browser whose page is gone (closed, or navigated) is refused with `page_gone` before
 * anything is sent: the person approved that page, not a sign-in from elsewhere.
 * @param {import('./store.js').Pending} item
 * @returns {Promise<string|null>}
 */
async function bindingNow(item) {
  const request = /** @type {PushRequest} */ (item.request);
  if (typeof request.bindingHash !== 'string') return null;
  const found = await findBinding(request).catch(() => null);
  if (found) return found.binding;
  if (item.bound) throw coded('page_gone', 'The sign-in page is no longer open in this browser: nothing was approved.');
  return null;
}

/**
 * Whether `loginCode` is the sign-in code the token's server issued for the request
 * `requestId`: `tag` verifies under the token's K_req (protocol §5, "What the login page gets").
 * @param {PushToken} token
 * @param {string} requestId
 * @param {string} loginCode
 * @param {unknown} tag
 */
function issued(token, requestId, loginCode, tag) {
  if (typeof tag !== 'string') return false;
  try {
    verifyLoginCode(token.keys.request, requestId, token.tokenId, loginCode, tag);
    return true;
  } catch {
    return false;
  }
}

/**
 * In the storage queue: the answer's body. An approval's passcode is the request's own
 * (protocol §5: OCRA over the request id), so a retry sends the same one and nothing is kept.
 * @param {string} requestId
 * @param {string} decision
 * @param {number|null} number
 * @param {{otp: string, answer: string}|null} keys
 * @param {string|null} binding  the login page's, read now (`bindingNow`): an approval with it
 *   needs no number
 * @returns {Promise<{token: PushToken, request: PushRequest, body: object, at: number}>}
 */
async function prepare(requestId, decision, number, keys, binding) {
  const waiting = (await pending())[requestId];
  if (!waiting) throw coded('unknown_request', 'This request is no longer waiting.');
  const request = /** @type {PushRequest} */ (waiting.request);
  const token = (await pushTokens())[request.tokenId];
  if (!token) throw coded('unknown_token', 'The token of this request was removed.');
  await ready;
  const at = answerTime(waiting);
  if (decision !== 'approve') {
    return { token, request, body: denyAnswer(request, decision === 'report', at, token.keys.channel), at };
  }
  // K_otp and K_ans of a token without PIN are in the vault: approving needs it unlocked.
  const secret = token.pin.required ? keys : (await secrets()).push[token.tokenId];
  if (!secret?.otp || !secret?.answer) throw coded('pin_required', 'This token needs its PIN to approve.');
  const { otp } = token;
  const passcode = pushPasscode(secret.otp, otp.algorithm, otp.digits, request.id);
  const body = approveAnswer(request, number, passcode, at, token.keys.channel, secret.answer, binding);
  return { token, request, body, at };
}

/**
 * When an answer says it was made (ms): now, but after a failed try the server kept open at
 * least the next whole second, since the server takes only answers newer than that try
 * (docs/protocol.md §5).
 * @param {import('./store.js').Pending} waiting
 */
function answerTime(waiting, now = Date.now()) {
  if (!waiting.tried) return now;
  // `tried.at` is the last answer's own time, which may already be ahead of the clock.
  return Math.max(now, (Math.floor(waiting.tried.at / 1000) + 1) * 1000);
}

/** What the server's error replies mean for the person. */
const REFUSALS = /** @type {Record<number, string>} */ ({ 404: 'unknown_request', 409: 'already_answered', 401: 'bad_device_tag' });

/**
 * @param {string} server
 * @param {object} body
 * @returns {Promise<Verdict & {tag?: unknown, loginCode?: unknown, loginCodeTag?: unknown}>}
 */
async function send(server, body) {
  let reply;
  try {
    reply = await fetch(`${server}/api/v1/answers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      cache: 'no-store',
      signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS),
    });
  } catch {
    return { status: 'failed', reason: 'unreachable' };
  }
  const json = await reply.json().catch(() => ({}));
  if (reply.ok && json.status) {
    // `pending`: a wrong PIN, counted; the request waits for the PIN again. `loginCode`: the
    // sign-in code of an approval, for the login page (protocol §5), and its tag, checked by
    // `answer` before anything is filled.
    const approved = json.status === 'approved';
    return { status: json.status, reason: json.reason ?? null, triesLeft: json.triesLeft ?? null, ...(json.pending === true && { pending: true }), ...(approved && { loginCode: json.loginCode, loginCodeTag: json.loginCodeTag }) };
  }
  // Another browser restored the token (protocol §8): `tag` proves it (restore.js checks).
  if (reply.status === 410 && json.error === 'restored_elsewhere') return { status: 'rejected', reason: 'restored_elsewhere', tag: json.tag };
  const reason = REFUSALS[reply.status];
  if (reason) return { status: 'rejected', reason };
  return { status: 'failed', reason: json.error ?? `http_${reply.status}` };
}

/**
 * Whether the notification's Approve button may answer without the popup: only without a PIN,
 * only if the person left that on, and only without a number to pick or type, which a request
 * that started in this browser does without (its binding is read again as it is approved).
 * @param {import('./store.js').Pending} item
 * @param {import('./store.js').Settings} prefs
 */
export async function approvable(item, prefs) {
  const token = (await pushTokens())[item.request.tokenId];
  const request = /** @type {PushRequest} */ (item.request);
  const noNumber = Boolean(item.bound) || (!request.choices && !request.numberEntry);
  return Boolean(token) && prefs.approveFromNotification && noNumber && !token.pin.required;
}
