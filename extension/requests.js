// SPDX-License-Identifier: MIT OR Apache-2.0
// Push login requests in the service worker: every request is checked by the core before anyone
// sees it, kept in session storage (store.js), counted on the badge and announced by a notification;
// answers are computed here, sent to the server, and an approval's passcode is handed to the
// login page of the request's origin.
import { approveAnswer, denyAnswer, pushPasscode, ready, verifyPushRequest } from './core.js';
import { fillOrigin } from './fill.js';
import { coded } from './messages.js';
import { serial } from './queue.js';
import { deletePushToken, pending, pushTokens, readSession, savePushToken, savePushTokens, settings, writeSession } from './store.js';
import { secrets, touch, updateSecrets } from './vault.js';

const ANSWER_TIMEOUT_MS = 15_000;
const NOTIFICATION_PREFIX = 'request:';
const APPROVE_BUTTON = 0;
const DENY_BUTTON = 1;
/** Outcomes older than this are dropped from session storage. */
const OUTCOME_KEEP_MS = 10 * 60_000;

/**
 * Checks a request that arrived by `via` ('socket', 'poll' or 'webpush') and, if it is
 * authentic, current, for a known token, wanted and new, keeps and announces it. Anything else
 * is dropped with a warning and never shown.
 */
export function receive(request, via) {
  return serial(async () => {
    await ready;
    const token = (await pushTokens())[request?.tokenId];
    if (!token) {
      console.warn(`PushOTP: dropped a request for an unknown token (${via})`);
      return false;
    }
    try {
      verifyPushRequest(request, token.keys.request, Date.now());
    } catch (err) {
      console.warn(`PushOTP: dropped a request that failed its check: ${err.code ?? err.message} (${via})`);
      return false;
    }
    const { seen = {}, pending: waiting = {} } = await readSession(['seen', 'pending']);
    if (seen[request.id]) return false;
    const now = Date.now();
    for (const [id, expiresAt] of Object.entries(seen)) if (expiresAt * 1000 < now) delete seen[id];
    seen[request.id] = request.expiresAt;
    const prefs = await settings();
    if (!prefs.pushEnabled || !token.enabled) {
      await writeSession({ seen });
      return false;
    }
    waiting[request.id] = { request, receivedAt: now, via };
    await writeSession({ seen, pending: waiting });
    await showBadge(waiting);
    if (prefs.notifications) await announce(request, token, prefs);
    scheduleExpiry(waiting);
    return true;
  });
}

async function showBadge(waiting) {
  const count = Object.keys(waiting).length;
  await chrome.action.setBadgeText({ text: count ? String(count) : '' });
  await chrome.action.setBadgeBackgroundColor({ color: '#c62828' });
}

/** Whether the notification's Approve button may answer without the popup. */
function approvableFromNotification(request, token, prefs) {
  return prefs.approveFromNotification && !request.choices && !token.pin.required;
}

async function announce(request, token, prefs) {
  const where = request.place
    ? [request.place.city, request.place.country].filter(Boolean).join(', ')
    : request.clientIp;
  const options = {
    type: 'basic',
    iconUrl: chrome.runtime.getURL('extension/icons/icon-128.png'),
    title: `Sign-in to ${request.app}`,
    message: `${token.user} at ${token.issuer} · from ${where}`,
    contextMessage: hostOf(request.origin),
    priority: 2,
    requireInteraction: true,
  };
  if (prefs.approveFromNotification) {
    options.buttons = [{ title: 'Approve' }, { title: 'Deny' }];
  }
  await chrome.notifications.create(`${NOTIFICATION_PREFIX}${request.id}`, options);
}

function hostOf(origin) {
  try {
    return new URL(origin).host;
  } catch {
    return origin;
  }
}

let expiryTimer;
/** Wakes up when the soonest pending request expires (the watchdog alarm is the backstop). */
function scheduleExpiry(waiting) {
  clearTimeout(expiryTimer);
  const soonest = Math.min(...Object.values(waiting).map((p) => p.request.expiresAt * 1000));
  if (Number.isFinite(soonest)) {
    expiryTimer = setTimeout(() => expire(), Math.max(0, soonest - Date.now()) + 50);
  }
}

/** Removes expired requests, leaving an "expired" outcome for each. */
export function expire() {
  return serial(async () => {
    const now = Date.now();
    const { pending: waiting = {}, outcomes = {} } = await readSession(['pending', 'outcomes']);
    let changed = false;
    for (const [id, p] of Object.entries(waiting)) {
      if (p.request.expiresAt * 1000 <= now) {
        delete waiting[id];
        outcomes[id] = outcomeOf({ status: 'expired' }, p.request, now);
        await chrome.notifications.clear(`${NOTIFICATION_PREFIX}${id}`);
        changed = true;
      }
    }
    for (const [id, o] of Object.entries(outcomes)) if (o.at < now - OUTCOME_KEEP_MS) delete outcomes[id];
    if (changed) {
      await writeSession({ pending: waiting, outcomes });
      await showBadge(waiting);
    }
    scheduleExpiry(waiting);
  });
}

function outcomeOf(reply, request, at) {
  return {
    status: reply.status,
    reason: reply.reason ?? null,
    triesLeft: reply.triesLeft ?? null,
    at,
    app: request.app,
    tokenId: request.tokenId,
  };
}

const answering = new Set();

/**
 * Answers a pending request (protocol §5) and returns its `Outcome`. `keys` are the PIN-unmasked
 * `{ otp, answer }` of a PIN-protected token. A request is answered once: a second answer while
 * the first is on its way is refused. When the server cannot be reached the request stays
 * pending so that the person can try again.
 */
export async function answer({ requestId, decision, number = null, keys = null }) {
  if (!['approve', 'deny', 'report'].includes(decision)) throw coded('invalid_parameter', 'unknown decision');
  if (answering.has(requestId)) throw coded('already_answering', 'This request is already being answered.');
  answering.add(requestId);
  try {
    const prepared = await serial(() => prepare(requestId, decision, number, keys));
    const outcome = await send(prepared.token.server, prepared.body, prepared.request);
    if (outcome.status !== 'failed') {
      await serial(() => settle(requestId, outcome));
      if (outcome.status === 'approved') {
        await fillOrigin(prepared.request.origin, prepared.passcode);
        await touch();
      }
    }
    return outcome;
  } finally {
    answering.delete(requestId);
  }
}

async function prepare(requestId, decision, number, keys) {
  const waiting = (await pending())[requestId];
  if (!waiting) throw coded('unknown_request', 'This request is no longer waiting.');
  const { request } = waiting;
  const token = (await pushTokens())[request.tokenId];
  if (!token) throw coded('unknown_token', 'The token of this request was removed.');
  await ready;
  if (decision !== 'approve') {
    return { token, request, body: denyAnswer(request, decision === 'report', Date.now(), token.keys.channel) };
  }
  // K_otp and K_ans of a token without PIN are in the vault: approving needs it unlocked.
  const secret = token.pin.required ? keys : (await secrets()).push[token.tokenId];
  if (!secret?.otp || !secret?.answer) throw coded('pin_required', 'This token needs its PIN to approve.');
  const { otp } = token;
  let counter;
  if (otp.type === 'hotp') {
    // The counter is saved before the passcode leaves, so that no passcode is ever sent twice.
    counter = otp.counter;
    await savePushToken({ ...token, otp: { ...otp, counter: counter + 1 } });
  } else {
    counter = Math.floor(Date.now() / 1000 / otp.period);
  }
  const passcode = pushPasscode(secret.otp, otp.algorithm, otp.digits, counter);
  const body = approveAnswer(request, number, passcode, Date.now(), token.keys.channel, secret.answer);
  return { token, request, body, passcode };
}

/** What the server's error replies mean for the person. */
const REFUSALS = { 404: 'unknown_request', 409: 'already_answered', 401: 'bad_device_tag' };

async function send(server, body, request) {
  let reply;
  try {
    reply = await fetch(`${server}/api/v1/answers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS),
    });
  } catch {
    return outcomeOf({ status: 'failed', reason: 'unreachable' }, request, Date.now());
  }
  const json = await reply.json().catch(() => ({}));
  if (reply.ok && json.status) return outcomeOf(json, request, Date.now());
  const reason = REFUSALS[reply.status];
  if (reason) return outcomeOf({ status: 'rejected', reason }, request, Date.now());
  return outcomeOf({ status: 'failed', reason: json.error ?? `http_${reply.status}` }, request, Date.now());
}

async function settle(requestId, outcome) {
  const { pending: waiting = {}, outcomes = {} } = await readSession(['pending', 'outcomes']);
  delete waiting[requestId];
  outcomes[requestId] = outcome;
  await writeSession({ pending: waiting, outcomes });
  await showBadge(waiting);
  await chrome.notifications.clear(`${NOTIFICATION_PREFIX}${requestId}`);
}

/** Forgets an outcome the person has seen. */
export function dismiss(requestId) {
  return serial(async () => {
    const { outcomes = {} } = await readSession(['outcomes']);
    delete outcomes[requestId];
    await writeSession({ outcomes });
  });
}

/** The notification's Approve (0) or Deny (1) button. */
export async function onNotificationButton(notificationId, buttonIndex) {
  if (!notificationId.startsWith(NOTIFICATION_PREFIX)) return null;
  const requestId = notificationId.slice(NOTIFICATION_PREFIX.length);
  const waiting = (await pending())[requestId];
  if (!waiting) {
    await chrome.notifications.clear(notificationId);
    return null;
  }
  if (buttonIndex === DENY_BUTTON) return answer({ requestId, decision: 'deny' });
  if (buttonIndex !== APPROVE_BUTTON) return null;
  const token = (await pushTokens())[waiting.request.tokenId];
  if (!token || !approvableFromNotification(waiting.request, token, await settings())) {
    // A number to pick or a PIN to type needs the popup.
    await openPopup();
    return null;
  }
  try {
    return await answer({ requestId, decision: 'approve' });
  } catch (err) {
    // The keys are locked away: the popup asks for the password.
    if (err.code !== 'locked') throw err;
    await openPopup();
    return null;
  }
}

/** A click on the notification itself opens the popup. */
export async function onNotificationClicked(notificationId) {
  if (notificationId.startsWith(NOTIFICATION_PREFIX)) await openPopup();
}

/** The toolbar popup, or a window with it where the browser cannot open the popup. */
export async function openPopup() {
  try {
    await chrome.action.openPopup();
  } catch {
    await chrome.windows.create({
      url: chrome.runtime.getURL('extension/popup.html'),
      type: 'popup',
      width: 400,
      height: 600,
    });
  }
}

/** Drops the pending requests of a token that is gone. */
export function forgetToken(tokenId) {
  return serial(async () => {
    const waiting = await pending();
    for (const [id, p] of Object.entries(waiting)) {
      if (p.request.tokenId === tokenId) {
        delete waiting[id];
        await chrome.notifications.clear(`${NOTIFICATION_PREFIX}${id}`);
      }
    }
    await writeSession({ pending: waiting });
    await showBadge(waiting);
    await deletePushToken(tokenId);
    // While locked the sealed keys stay behind; they are dropped at the next import.
    await updateSecrets((s) => {
      delete s.push[tokenId];
      return s;
    }).catch((err) => {
      if (err.code !== 'locked') throw err;
    });
  });
}

/** Runs a token change in the same queue as the request steps. */
export function updateToken(tokenId, change) {
  return serial(async () => {
    const token = (await pushTokens())[tokenId];
    if (!token) throw coded('unknown_token', 'No such token.');
    await savePushToken(change(token));
  });
}

/**
 * Keeps a newly enrolled token (replacing one with the same id). `K_otp` and `K_ans` of a token
 * without PIN go into the vault (which must then be unlocked); the token keeps `K_req` and
 * `K_chan` only, so that its requests are received and checked while the vault is locked.
 */
export function addToken(token) {
  return serial(async () => {
    const { otp, answer: ans, ...clear } = token.keys;
    if (!token.pin.required) {
      await updateSecrets((s) => ({ ...s, push: { ...s.push, [token.tokenId]: { otp, answer: ans } } }));
    }
    await savePushToken({ ...token, keys: clear });
  });
}

/**
 * Moves the approval keys that tokens enrolled by earlier versions keep in clear into the
 * vault, once. The secrets are written before the tokens lose their keys, so that an
 * interruption loses nothing; running it again finishes the work.
 */
export function migrateKeys() {
  return serial(async () => {
    const tokens = await pushTokens();
    const old = Object.values(tokens).filter((t) => !t.pin?.required && t.keys?.otp && t.keys?.answer);
    if (old.length === 0) return;
    await updateSecrets((s) => {
      for (const t of old) s.push[t.tokenId] ??= { otp: t.keys.otp, answer: t.keys.answer };
      return s;
    });
    for (const t of old) {
      const { otp, answer: ans, ...clear } = t.keys;
      tokens[t.tokenId] = { ...t, keys: clear };
    }
    await savePushTokens(tokens);
  });
}

// For privacyidea.js: its challenges share `pending`, this queue, the badge, expiry and outcomes.
export { serial as queued, settle as settleRequest, showBadge, scheduleExpiry, outcomeOf, NOTIFICATION_PREFIX };
