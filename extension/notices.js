// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// Notices about a push token (docs/protocol.md §4, "Notices about a token"): its server says
// that wrong passcodes are being typed for the person's account, that another authenticator
// was added to it, or that an approval of one of its sign-ins failed (a wrong PIN or number). Each is checked in the core (the tools module: rare, like the proof of a
// restore elsewhere), kept on its token (the newest of each kind, so that a replayed one shows
// nothing), and shown as a notification and on the token's line in the options page; not
// those this browser caused itself (its own failed approval, a token it added).
import { redemptionsSettled, sentEnrollmentNear } from './enroll.js';
import { serial } from './queue.js';
import { pushTokens, savePushToken } from './store.js';
import { dateTime } from './time.js';
import { noticeText } from './words.js';
import { isTokenNotice, toolsReady } from './worker-tools.js';

const NOTIFICATION_PREFIX = 'notice:';

/**
 * How near a token this browser added itself must be to an "authenticator added" notice for
 * the notice to be about it: the server's clock may be this far off (§7's window, doubled).
 */
const OWN_WINDOW_MS = 120_000;

/**
 * Approvals this browser sent lately, per account (server and user): each that the server
 * counted as a failed try (a wrong PIN or number) causes a `failed_approvals` notice to every
 * token of the person, those in this browser too, where the popup already said what went
 * wrong. Kept in the worker's memory for as long as the notice takes to come back (over the
 * socket, usually before the answer's reply); a worker that stopped meanwhile forgets them,
 * and then shows the notice.
 * @type {Map<string, {from: number, to: number, failed: Promise<boolean>, matched: Set<string>}[]>}
 */
const ownTries = new Map();

/** How long a sent approval is remembered: the notice comes back at once, or at the next poll. */
const OWN_TRY_KEEP_MS = 10 * 60_000;

/**
 * The account a token signs in to: the notices of one failure go to all its tokens.
 * @param {{server: string, user: string}} token
 */
const accountOf = ({ server, user }) => `${server}\n${user}`;

/**
 * Notes that an approval with `token` is on its way; the returned function is called with
 * whether the server counted it as a failed try once its reply is in (or the answer failed).
 * @param {import('./store.js').PushToken} token
 * @returns {(failed: boolean) => void}
 */
export function approving(token) {
  const now = Date.now();
  const account = accountOf(token);
  const kept = (ownTries.get(account) ?? []).filter((t) => t.to >= now - OWN_TRY_KEEP_MS);
  /** @type {(failed: boolean) => void} */
  let done = () => {};
  const entry = { from: now, to: Infinity, failed: new Promise((resolve) => (done = resolve)), matched: new Set() };
  ownTries.set(account, [...kept, entry]);
  return (failed) => {
    entry.to = Date.now();
    done(failed);
  };
}

/**
 * Whether a `failed_approvals` notice about `token` at `at` (ms, the server's clock) is one
 * this browser's own approval caused: one of the same account that failed, answered within
 * the clocks' leeway of `at`, and not yet matched with another notice about this token. Each
 * of them excuses one notice per token only, so a failure elsewhere at the same moment still
 * shows. Waits for an approval still on its way.
 * @param {import('./store.js').PushToken} token
 * @param {number} at
 */
async function ownFailure(token, at) {
  for (const entry of ownTries.get(accountOf(token)) ?? []) {
    if (entry.matched.has(token.tokenId) || at < entry.from - OWN_WINDOW_MS) continue;
    if (!(await entry.failed) || entry.matched.has(token.tokenId) || at > entry.to + OWN_WINDOW_MS) continue;
    entry.matched.add(token.tokenId);
    return true;
  }
  return false;
}

/**
 * Checks and keeps the notices `raws` (as one of `servers` sent them) and tells the person of
 * each new one; a notice that does not verify under its token's request key, or that names a
 * token of another server, changes nothing.
 * @param {unknown[]} raws
 * @param {string[]} servers
 */
export async function receive(raws, servers) {
  // Polls and socket log-ins hand over the notices of the last week each time: those already
  // shown are passed over before the tools module is loaded for them.
  const tokens = await pushTokens();
  const fresh = raws.filter((raw) => {
    const { tokenId, kind, at } = /** @type {{tokenId?: unknown, kind?: unknown, at?: unknown}} */ (raw ?? {});
    const token = typeof tokenId === 'string' ? tokens[tokenId] : undefined;
    return token && servers.includes(token.server) && typeof at === 'number' && !((token.notices?.[/** @type {import('./store.js').NoticeKind} */ (kind)] ?? 0) >= at * 1000);
  });
  if (!fresh.length) return;
  await toolsReady();
  // Whether an authenticator added is this browser's own depends on whether its try with the
  // link was accepted: wait for the answer of a try under way (outside the storage queue).
  if (fresh.some((raw) => /** @type {{kind?: unknown}} */ (raw)?.kind === 'authenticator_added')) await redemptionsSettled();
  for (const raw of fresh) {
    const told = /** @type {{tokenId: string, kind: unknown, at: number}} */ (raw);
    // The failure of this browser's own approval: the popup said so already.
    const mine = told.kind === 'failed_approvals' && (await ownFailure(tokens[told.tokenId], told.at * 1000));
    const kept = await serial(() => keep(raw, servers, mine));
    if (!kept) continue;
    const { token, kind, at } = kept;
    const { title, message } = noticeText(kind, token, dateTime(at));
    // One notification per token and kind: a newer notice replaces the older one.
    await chrome.notifications.create(`${NOTIFICATION_PREFIX}${token.tokenId}:${kind}`, {
      type: 'basic',
      iconUrl: chrome.runtime.getURL('extension/icons/icon-128.png'),
      title,
      message,
      contextMessage: token.tokenName,
      priority: 2,
      requireInteraction: true,
    });
  }
}

/**
 * Keeps `raw` on its token if it is a token of `servers`, verifies and is newer than the one
 * of its kind kept before; `mine` if this browser caused it, which keeps it without showing
 * it. Runs inside the storage queue.
 * @param {unknown} raw
 * @param {string[]} servers
 * @param {boolean} mine
 */
async function keep(raw, servers, mine) {
  const tokenId = /** @type {{tokenId?: unknown}} */ (raw)?.tokenId;
  const token = typeof tokenId === 'string' ? (await pushTokens())[tokenId] : undefined;
  if (!token || !servers.includes(token.server) || token.restoredElsewhereAt) return null;
  const notice = /** @type {{v: number, kind: import('./store.js').NoticeKind, at: number, tag: string}} */ (raw);
  if (!verified(token.keys.request, token.tokenId, notice)) {
    console.warn(`PushOTP: ignored a notice about token ${token.tokenId} that does not verify`);
    return null;
  }
  const at = notice.at * 1000;
  if ((token.notices?.[notice.kind] ?? 0) >= at) return null;
  // The authenticator this browser just added (a second token of the same account here) is no
  // news: kept, so that a later poll does not show it either, but not shown.
  const own = mine || (notice.kind === 'authenticator_added' && (await addedHere(token, at)));
  await savePushToken({
    ...token,
    notices: { ...token.notices, [notice.kind]: at },
    ...(own ? { ownNotices: { ...token.ownNotices, [notice.kind]: at } } : {}),
  });
  return own ? null : { token, kind: notice.kind, at };
}

/**
 * Whether this browser added a token of `token`'s server near `at` (ms): enrolled it then
 * (the server accepted its link), or holds another token of the same account added then.
 * @param {import('./store.js').PushToken} token
 * @param {number} at
 */
async function addedHere(token, at) {
  if (sentEnrollmentNear(token.server, token.tokenId, at, OWN_WINDOW_MS)) return true;
  return Object.values(await pushTokens()).some(
    (other) => other.tokenId !== token.tokenId && other.server === token.server && other.user === token.user && Math.abs(other.addedAt - at) <= OWN_WINDOW_MS,
  );
}

/**
 * Whether `notice` about `tokenId` verifies under its request key, in the core. Its fields go
 * one by one; one that is not even of the right type fails.
 * @param {string} kReq
 * @param {string} tokenId
 * @param {{v: number, kind: string, at: number, tag: string}} notice
 */
function verified(kReq, tokenId, { v, kind, at, tag }) {
  if (typeof v !== 'number' || typeof kind !== 'string' || typeof at !== 'number' || typeof tag !== 'string') return false;
  return isTokenNotice(kReq, v, tokenId, kind, at, tag);
}

/**
 * A click on a notice's notification opens the options page, where the token's line says it.
 * @param {string} id
 */
export async function onNotificationClicked(id) {
  if (!id.startsWith(NOTIFICATION_PREFIX)) return;
  await chrome.notifications.clear(id);
  await chrome.runtime.openOptionsPage();
}
