// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// Every request waiting for the person, whatever its kind: the inbox keeps `seen`, `pending` and
// `outcomes` (session storage, store.js), the badge, the notifications and the expiry, removes
// requests that ended elsewhere, and hands each answer to the adapter of the request's kind. An
// adapter checks raw requests of its kind (nothing unchecked is ever kept), and the notices that
// they ended where its servers send them, and answers a decision:
//
//   'push'         PushOTP push requests (push.js), delivered by channel.js and Web Push
//   'privacyidea'  privacyIDEA challenges (privacyidea-requests.js), polled by privacyidea.js
//
// `kind` is the only thing that tells them apart.
import * as privacyidea from './privacyidea-requests.js';
import * as push from './push.js';
import { coded } from './messages.js';
import { serial } from './queue.js';
import { pending, readSession, settings, writeSession } from './store.js';

/**
 * @typedef {import('./store.js').Kind} Kind
 * @typedef {import('./store.js').Pending} Pending
 * @typedef {import('./store.js').Outcome} Outcome
 * @typedef {import('./store.js').Settings} Settings
 * @typedef {import('./store.js').Via} Via
 * @typedef {import('./messages.js').RequestAnswer} Answer
 */

/**
 * @typedef {object} Delivery  How raw requests arrived.
 * @property {Via} via
 * @property {string} [from]  the token whose server sent them as its complete list (privacyIDEA
 *   polls): its pending requests that are not in the list are gone (answered elsewhere, expired)
 * @property {string[]} [servers]  the servers they may have come from (push: the socket's or
 *   poll's server, or those holding the Web Push subscription); they act only on those
 *   servers' tokens
 */

/**
 * @typedef {object} Ended  A checked notice that a request ended without this device's answer.
 * @property {string} id
 * @property {string} tokenId   the token it names: it ends only a request of that token
 * @property {string|null} reason  why (`answered`, `replaced`, `expired`, `removed`)
 */

/**
 * @typedef {object} Checked  A request its adapter checked, for the inbox to keep.
 * @property {import('./store.js').PushRequest|import('./store.js').PiChallenge} request
 * @property {boolean} enabled   its token takes requests
 * @property {boolean} pin       approving it needs the token's PIN
 * @property {boolean} [foreign] a push request naming a site its token does not serve: an
 *   approval's sign-in code is filled nowhere
 * @property {import('./store.js').Bound} [bound]  the tab it started in, in this browser
 *   (binding.js); absent when it did not start here, as far as this browser can tell
 * @property {{title: string, message: string, contextMessage: string, buttons: boolean, approve?: string}} notice
 *   its notification; `buttons`: Approve and Deny on it (when the settings allow them);
 *   `approve`: the first button's words where it only opens the popup ("Choose the number…")
 */

/**
 * @typedef {Partial<Outcome> & {status: Outcome['status']}} Verdict  How an adapter's answer
 *   ended; the inbox adds `kind`, `app`, `tokenId` and `at`.
 */

/**
 * @typedef {object} Adapter  What the inbox needs of each kind.
 * @property {(raws: unknown[], delivery: Delivery) => Promise<Checked[]>} check  runs in the
 *   storage queue; drops (with a warning) every request that fails a check
 * @property {(raws: unknown[], delivery: Delivery) => Promise<Ended[]>} [ended]  the notices
 *   that requests ended which pass their check, in the storage queue; only for kinds whose
 *   servers send them (a privacyIDEA challenge leaves when its token's poll no longer lists it)
 * @property {(item: Pending, answer: Answer) => Promise<{verdict: Verdict, after?: () => Promise<void>}>} answer
 *   `after` runs once the outcome is kept (a push approval's sign-in code is filled)
 * @property {(item: Pending, prefs: Settings) => Promise<boolean>} approvable  whether the
 *   notification's Approve button may answer it without the popup
 * @property {(item: Pending) => Promise<import('./store.js').Bound|null>} locate  the tab it
 *   started in, looked for again now (binding.js)
 * @property {(item: Pending) => Promise<Checked['notice']|null>} notice  its notification as it
 *   is now (it may have turned unbound)
 */

/** @type {{[kind in Kind]: Adapter}} */
const ADAPTERS = { push, privacyidea };

const NOTIFICATION_PREFIX = 'request:';
const APPROVE_BUTTON = 0;
const DENY_BUTTON = 1;
const DECISIONS = ['approve', 'deny', 'report'];
/**
 * Outcomes older than this are dropped from session storage: the popup shows only the latest
 * for a minute, or while its code-to-phone code can be filled (two minutes).
 */
const OUTCOME_KEEP_MS = 2 * 60_000;
/**
 * How long the id of a request that ended before it arrived is remembered: a copy of it still
 * under way (Web Push is not ordered with the socket) is not shown. Longer than any request is
 * offered (a sign-in lasts 10 minutes on the reference server).
 */
const ENDED_UNSEEN_SECONDS = 10 * 60;

/** @type {Set<string>} ids of the requests whose answer is on its way */
const answering = new Set();

/** @param {string} requestId */
const notificationId = (requestId) => `${NOTIFICATION_PREFIX}${requestId}`;

/** @param {unknown} kind @returns {Adapter} */
function adapter(kind) {
  if (kind !== 'push' && kind !== 'privacyidea') throw coded('unknown_request', 'This request is of no known kind.');
  return ADAPTERS[kind];
}

// Receiving ----------------------------------------------------------------------------------

/**
 * Checks raw requests of `kind` with its adapter and keeps, counts and announces the authentic,
 * current, new ones of enabled tokens. Anything else is dropped and never shown.
 * @param {Kind} kind
 * @param {unknown[]} raws
 * @param {Delivery} delivery
 * @returns {Promise<boolean>} whether a request was kept
 */
export function receive(kind, raws, delivery) {
  return serial(async () => keep(kind, await adapter(kind).check(raws, delivery), delivery));
}

/**
 * @param {Kind} kind
 * @param {Checked[]} checked
 * @param {Delivery} delivery
 */
async function keep(kind, checked, { via, from }) {
  const { seen = {}, pending: waiting = {}, outcomes = {} } = await readSession(['seen', 'pending', 'outcomes']);
  const now = Date.now();
  let changed = false;
  let ended = false;
  if (from !== undefined) {
    // No longer listed: answered elsewhere or expired there (the server does not say which).
    const listed = new Set(checked.map((c) => c.request.id));
    for (const [id, p] of Object.entries(waiting)) {
      if (p.kind === kind && p.request.tokenId === from && !listed.has(id) && !answering.has(id)) {
        delete waiting[id];
        outcomes[id] = outcomeOf(p, { status: 'ended' }, now);
        await chrome.notifications.clear(notificationId(id));
        changed = true;
        ended = true;
      }
    }
  }
  const prefs = await settings();
  const fresh = [];
  let seenChanged = false;
  for (const item of checked) {
    const { request } = item;
    // An id is remembered until its request expires: a replay is never shown twice.
    if (seen[request.id] || waiting[request.id]) continue;
    seen[request.id] = request.expiresAt;
    seenChanged = true;
    if (!prefs.pushEnabled || !item.enabled) continue;
    waiting[request.id] = { kind, request, receivedAt: now, via, pin: item.pin, ...(item.foreign && { foreign: true }), ...(item.bound && { bound: item.bound }) };
    fresh.push(item);
    changed = true;
  }
  for (const [id, expiresAt] of Object.entries(seen)) {
    if (expiresAt * 1000 < now) {
      delete seen[id];
      seenChanged = true;
    }
  }
  if (ended) await writeSession({ seen, pending: waiting, outcomes });
  else if (changed) await writeSession({ seen, pending: waiting });
  else if (seenChanged) await writeSession({ seen });
  if (!changed) return false;
  await showBadge(waiting);
  scheduleExpiry(waiting);
  if (prefs.notifications) for (const item of fresh) await announce(item, prefs);
  return fresh.length > 0;
}

/**
 * Removes requests of `kind` that ended without this device's answer, from notices its adapter
 * checks: out of `pending` with an `ended` outcome that says why (`expired` when it expired),
 * the badge recounted, the notification cleared (the popup follows storage, and shows the next
 * request or the empty state). A notice ends only a request of the token it names, and not one being answered (the
 * answer's reply says how it ended). The id of a request not held yet is remembered as seen, so
 * that a copy of it arriving later is not shown.
 * @param {Kind} kind
 * @param {unknown[]} raws
 * @param {Delivery} delivery
 * @returns {Promise<boolean>} whether a request was removed
 */
export function end(kind, raws, delivery) {
  return serial(async () => {
    const check = adapter(kind).ended;
    const notices = check ? await check(raws, delivery) : [];
    if (!notices.length) return false;
    const { seen = {}, pending: waiting = {}, outcomes = {} } = await readSession(['seen', 'pending', 'outcomes']);
    const now = Date.now();
    const gone = [];
    let seenChanged = false;
    for (const { id, tokenId, reason } of notices) {
      const item = waiting[id];
      if (!item) {
        if (!seen[id]) {
          seen[id] = Math.floor(now / 1000) + ENDED_UNSEEN_SECONDS;
          seenChanged = true;
        }
        continue;
      }
      if (item.kind !== kind || item.request.tokenId !== tokenId || answering.has(id)) continue;
      delete waiting[id];
      // Expired is expired, whichever clock saw it first: the same outcome as the local expiry.
      const verdict = reason === 'expired' ? { status: 'expired' } : { status: 'ended', reason };
      outcomes[id] = outcomeOf(item, /** @type {Verdict} */ (verdict), now);
      gone.push(id);
    }
    if (gone.length) await writeSession({ seen, pending: waiting, outcomes });
    else if (seenChanged) await writeSession({ seen });
    if (!gone.length) return false;
    for (const id of gone) await chrome.notifications.clear(notificationId(id));
    await showBadge(waiting);
    scheduleExpiry(waiting);
    return true;
  });
}

/** @param {{[id: string]: Pending}} waiting */
async function showBadge(waiting) {
  const count = Object.keys(waiting).length;
  await chrome.action.setBadgeText({ text: count ? String(count) : '' });
  await chrome.action.setBadgeBackgroundColor({ color: '#c62828' });
}

/**
 * @param {Checked} item
 * @param {Settings} prefs
 */
async function announce({ request, notice }, prefs) {
  await chrome.notifications.create(notificationId(request.id), noticeOptions(notice, prefs));
}

/**
 * A request's notification as the browser takes it.
 * @param {Checked['notice']} notice
 * @param {Settings} prefs
 */
function noticeOptions(notice, prefs) {
  /** @type {chrome.notifications.NotificationCreateOptions} */
  const options = {
    type: 'basic',
    iconUrl: chrome.runtime.getURL('extension/icons/icon-128.png'),
    title: notice.title,
    message: notice.message,
    contextMessage: notice.contextMessage,
    priority: 2,
    requireInteraction: true,
  };
  if (notice.buttons && prefs.approveFromNotification) {
    options.buttons = [{ title: notice.approve ?? 'Approve' }, { title: 'Deny' }];
  }
  return options;
}

/** @type {ReturnType<typeof setTimeout>|undefined} */
let expiryTimer;
/**
 * Wakes up when the soonest pending request expires (the watchdog alarm is the backstop).
 * @param {{[id: string]: Pending}} waiting
 */
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
        outcomes[id] = outcomeOf(p, { status: 'expired' }, now);
        await chrome.notifications.clear(notificationId(id));
        changed = true;
      }
    }
    changed = prune(outcomes, now) || changed;
    if (changed) {
      await writeSession({ pending: waiting, outcomes });
      await showBadge(waiting);
    }
    scheduleExpiry(waiting);
  });
}

/**
 * Drops the outcomes that are too old to show.
 * @param {{[id: string]: Outcome}} outcomes
 * @returns {boolean} whether one was dropped
 */
function prune(outcomes, now = Date.now()) {
  const old = Object.keys(outcomes).filter((id) => outcomes[id].at < now - OUTCOME_KEEP_MS);
  for (const id of old) delete outcomes[id];
  return old.length > 0;
}

/**
 * @param {Pending} item
 * @param {Verdict} verdict
 * @param {number} [at]
 * @returns {Outcome}
 */
function outcomeOf({ kind, request }, { status, reason = null, triesLeft = null, ...rest }, at = Date.now()) {
  return { ...rest, kind, status, reason, triesLeft, at, app: request.app, tokenId: request.tokenId };
}

// Answering ----------------------------------------------------------------------------------

/**
 * Answers a pending request with the adapter of its kind and returns its `Outcome`. A request
 * is answered once: a second answer while the first is on its way is refused. An answer that
 * could not be delivered (`failed`), or that the server counted as a wrong PIN and kept open
 * (`pending`), leaves the request pending, so that the person can try again.
 * @param {Answer} answer
 * @returns {Promise<Outcome>}
 */
export async function answer(answer) {
  const { requestId, decision } = answer;
  if (!DECISIONS.includes(decision)) throw coded('invalid_parameter', 'unknown decision');
  if (answering.has(requestId)) throw coded('already_answering', 'This request is already being answered.');
  answering.add(requestId);
  try {
    const item = (await pending())[requestId];
    if (!item) throw coded('unknown_request', 'This request is no longer waiting.');
    const { verdict, after } = await adapter(item.kind)
      .answer(item, answer)
      .catch(async (err) => {
        // Shown as started in this browser, its page is gone now: nothing was sent, and it shows
        // again as a sign-in that did not start here, to be approved with its number if at all.
        if (err?.code === 'page_gone') await serial(() => rebind(requestId, null));
        throw err;
      });
    const outcome = outcomeOf(item, verdict);
    if (outcome.pending) await serial(() => keepTrying(requestId, outcome));
    else if (outcome.status !== 'failed') await serial(() => settle(requestId, outcome));
    await after?.();
    return outcome;
  } finally {
    answering.delete(requestId);
  }
}

/**
 * Moves an answered request to the outcomes. Only the newest display code may be offered for
 * filling: the older ones lose their `fillableUntil`.
 * @param {string} requestId
 * @param {Outcome} outcome
 */
async function settle(requestId, outcome) {
  const { pending: waiting = {}, outcomes = {} } = await readSession(['pending', 'outcomes']);
  delete waiting[requestId];
  if (outcome.fillableUntil !== undefined) {
    for (const [id, o] of Object.entries(outcomes)) {
      if (o.fillableUntil === undefined) continue;
      const older = { ...o };
      delete older.fillableUntil;
      outcomes[id] = older;
    }
  }
  outcomes[requestId] = outcome;
  prune(outcomes);
  await writeSession({ pending: waiting, outcomes });
  await showBadge(waiting);
  await chrome.notifications.clear(notificationId(requestId));
}

/**
 * Notes on a request that is still waiting the failed try its answer was (a wrong PIN the
 * server counted): the popup asks again, and the next answer is sent later than this one.
 * @param {string} requestId
 * @param {Outcome} outcome
 */
async function keepTrying(requestId, { reason, triesLeft, at, answeredAt = at }) {
  const waiting = await pending();
  if (!waiting[requestId]) return;
  waiting[requestId] = { ...waiting[requestId], tried: { reason: reason ?? 'wrong_pin', triesLeft, at: answeredAt } };
  await writeSession({ pending: waiting });
}

/**
 * Notes `fields` on a request that is still waiting (whether it names a site its token does not
 * serve, push-tokens.js). Runs inside the storage queue.
 * @param {string} requestId
 * @param {Partial<Pending>} fields
 */
export async function note(requestId, fields) {
  const waiting = await pending();
  if (!waiting[requestId]) return;
  waiting[requestId] = { ...waiting[requestId], ...fields };
  await writeSession({ pending: waiting });
}

/**
 * Sets (or, with null, removes) the tab a waiting request started in. Runs inside the storage
 * queue.
 * @param {string} requestId
 * @param {import('./store.js').Bound|null} bound
 * @returns {Promise<boolean>} whether it changed
 */
async function rebind(requestId, bound) {
  const waiting = await pending();
  const item = waiting[requestId];
  if (!item || JSON.stringify(item.bound ?? null) === JSON.stringify(bound)) return false;
  const { bound: _was, ...rest } = item;
  waiting[requestId] = bound ? { ...rest, bound } : rest;
  await writeSession({ pending: waiting });
  // Its notification, if still shown, says where it started as it is now: made again under the
  // same id, which replaces it (Firefox has no notifications.update).
  const notice = await adapter(item.kind).notice(waiting[requestId]);
  const shown = await chrome.notifications.getAll();
  if (notice && shown[notificationId(requestId)]) {
    await chrome.notifications.create(notificationId(requestId), noticeOptions(notice, await settings()));
  }
  return true;
}

/**
 * Looks again for the tab each waiting request started in (the popup opened): a login page that
 * loaded since, or went away, shows as it is now.
 */
export async function relocate() {
  const waiting = await pending();
  const found = await Promise.all(
    Object.entries(waiting).map(async ([id, item]) => /** @type {const} */ ([id, await adapter(item.kind).locate(item).catch(() => null)])),
  );
  await serial(async () => {
    for (const [id, bound] of found) if (!answering.has(id)) await rebind(id, bound);
  });
}

/**
 * Changes a kept outcome (a display code filled later), in the storage queue.
 * @param {string} requestId
 * @param {(outcome: Outcome) => Outcome} change
 */
export function updateOutcome(requestId, change) {
  return serial(async () => {
    const { outcomes = {} } = await readSession(['outcomes']);
    if (!outcomes[requestId]) return;
    outcomes[requestId] = change(outcomes[requestId]);
    await writeSession({ outcomes });
  });
}

/**
 * Forgets an outcome the person has seen.
 * @param {string} requestId
 */
export function dismiss(requestId) {
  return serial(async () => {
    const { outcomes = {} } = await readSession(['outcomes']);
    delete outcomes[requestId];
    await writeSession({ outcomes });
  });
}

/**
 * Drops the pending requests of a token that is gone.
 * @param {Kind} kind
 * @param {string} tokenId
 */
export function forget(kind, tokenId) {
  return serial(async () => {
    const waiting = await pending();
    for (const [id, p] of Object.entries(waiting)) {
      if (p.kind === kind && p.request.tokenId === tokenId) {
        delete waiting[id];
        await chrome.notifications.clear(notificationId(id));
      }
    }
    await writeSession({ pending: waiting });
    await showBadge(waiting);
  });
}

// Notifications ------------------------------------------------------------------------------

/**
 * The notification's Approve (0) or Deny (1) button.
 * @param {string} id
 * @param {number} buttonIndex
 */
export async function onNotificationButton(id, buttonIndex) {
  if (!id.startsWith(NOTIFICATION_PREFIX)) return null;
  const requestId = id.slice(NOTIFICATION_PREFIX.length);
  const item = (await pending())[requestId];
  if (!item) {
    await chrome.notifications.clear(id);
    return null;
  }
  if (buttonIndex === DENY_BUTTON) return answer({ type: 'request.answer', requestId, decision: 'deny' });
  if (buttonIndex !== APPROVE_BUTTON) return null;
  if (!(await adapter(item.kind).approvable(item, await settings()))) {
    // A number to pick or a PIN to type needs the popup.
    await openPopup();
    return null;
  }
  try {
    return await answer({ type: 'request.answer', requestId, decision: 'approve' });
  } catch (err) {
    // The keys are locked away: the popup asks for the password. Or the sign-in page is gone:
    // the popup shows the request anew, with its number.
    if (err.code !== 'locked' && err.code !== 'page_gone') throw err;
    await openPopup();
    return null;
  }
}

/**
 * A click on the notification itself opens the popup.
 * @param {string} id
 */
export async function onNotificationClicked(id) {
  if (id.startsWith(NOTIFICATION_PREFIX)) await openPopup();
}

/** The toolbar popup, or a window with it where the browser cannot open the popup. */
async function openPopup() {
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
