// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// What the popup says about a request and about how an answer ended. Pure functions, tested in
// Node; the popup only puts their text on the page.

/**
 * Where a sign-in request started, as the popup and the notification say it: in this browser
 * (binding.js found its login page in a tab here), or not, as far as this browser can tell.
 */
export const BOUND_NOTE = 'Started in this browser';
export const UNBOUND_WARNING = 'This sign-in did not start in this browser. Approve only if you are signing in on another device right now.';

/** The host of a login page's origin ("127.0.0.1:8080"), or the text itself if it is no URL. */
export function hostOf(origin) {
  try {
    return new URL(origin).host || origin;
  } catch {
    return origin;
  }
}

/**
 * A sign-in page's host as the popup shows it, in three parts so that it cannot be taken for
 * another: what comes before the registrable domain (`login.bank.com.`), the registrable domain
 * that the popup emphasises (`evil.example`: who owns the page), and the port. The host is the
 * ASCII form that the URL parser gives, punycode (`xn--…`) for any Unicode label: a name mixing
 * scripts (a Cyrillic "а" in "paypal") or made wholly of look-alikes cannot pass for another
 * that way, and a security prompt is no place to guess which Unicode names are safe. An address
 * or a single name (`127.0.0.1`, `localhost`) has no registrable domain and is emphasised whole;
 * text that is no URL is shown as it is.
 * @param {string} origin
 * @param {(host: string) => string|null} registrable  the registrable domain (eTLD+1) of a host
 *   by the Public Suffix List, or null
 * @returns {{before: string, domain: string, after: string}}
 */
export function hostParts(origin, registrable) {
  let url;
  try {
    url = new URL(origin);
  } catch {
    return { before: origin, domain: '', after: '' };
  }
  const full = url.hostname;
  if (!full) return { before: origin, domain: '', after: '' };
  // A fully qualified host ends in one dot ("evil.com.") and names the same site; the Public
  // Suffix List gives its domain without the dot, so match without it and show the dot after.
  const dot = full.endsWith('.') ? '.' : '';
  const host = dot ? full.slice(0, -1) : full;
  const after = `${dot}${url.port ? `:${url.port}` : ''}`;
  const domain = registrable(host);
  if (!domain || !host.endsWith(`.${domain}`)) return { before: '', domain: host, after };
  return { before: host.slice(0, -domain.length), domain, after };
}

/**
 * The hosts where PushOTP types a push token's passcodes, as the options page lists them: the
 * login pages its server declared at enrollment (docs/protocol.md §3, `loginOrigins`), those
 * the person confirmed (`sites`), then the server itself; each once.
 * @param {{server: string, loginOrigins?: string[], sites?: string[]}} token
 * @returns {string[]}
 */
export function fillHosts({ server, loginOrigins = [], sites = [] }) {
  return [...new Set([...loginOrigins, ...sites, server].map(hostOf))];
}

/**
 * The sentence the options page adds when a token is added whose server declared login pages
 * of its own (docs/protocol.md §3): codes are typed there, so the person hears where. Empty
 * when it declared none, since then codes are typed at the server alone.
 * @param {{server: string, loginOrigins?: string[]}} token
 */
export function fillSentence({ server, loginOrigins = [] }) {
  const own = hostOf(server);
  const pages = [...new Set(loginOrigins.map(hostOf))].filter((host) => host !== own);
  if (!pages.length) return '';
  return `PushOTP will type this token's codes at ${pages.join(', at ')} and at its server, ${own}.`;
}

/** "London, GB", "GB" when only the country is known, "Location unknown" without a place. */
export function placeName(place) {
  const names = [place?.city, place?.country].filter((name) => typeof name === 'string' && name.trim());
  return names.length ? names.map((name) => name.trim()).join(', ') : 'Location unknown';
}

/**
 * @typedef {object} Twin  What a token shares with the tokens it could be taken for.
 * @property {string} tokenId
 * @property {string} server
 * @property {string} tokenName
 * @property {string} user
 * @property {string} issuer
 * @property {string} deviceName
 * @property {number} addedAt  ms
 */

/**
 * What tells apart push tokens of one account (the same server, name, user and issuer), which
 * otherwise look the same: the browser's name given at enrollment where those differ, else
 * when each was added, to the minute or, where that is not enough, to the second. Only tokens
 * with such a twin get a note.
 * @param {{[tokenId: string]: Twin}} tokens
 * @param {(ms: number, seconds: boolean) => string} when  a date and time (time.js `dateTime`)
 * @returns {{[tokenId: string]: {text: string, seconds: boolean}}}
 */
export function twinNotes(tokens, when) {
  /** @type {Map<string, Twin[]>} */
  const groups = new Map();
  for (const token of Object.values(tokens)) {
    const key = JSON.stringify([token.server, token.tokenName, token.user, token.issuer]);
    groups.set(key, [...(groups.get(key) ?? []), token]);
  }
  /** @type {{[tokenId: string]: {text: string, seconds: boolean}}} */
  const notes = {};
  for (const group of groups.values()) {
    if (group.length < 2) continue;
    if (new Set(group.map((t) => t.deviceName)).size === group.length) {
      for (const t of group) notes[t.tokenId] = { text: t.deviceName, seconds: false };
      continue;
    }
    const seconds = new Set(group.map((t) => when(t.addedAt, false))).size < group.length;
    for (const t of group) notes[t.tokenId] = { text: `added ${when(t.addedAt, seconds)}`, seconds };
  }
  return notes;
}

function tries(n) {
  return n === 1 ? '1 try left' : `${n} tries left`;
}

const AGAIN = 'The sign-in was refused; start it again.';

/**
 * A failed try that left its request waiting (store.js `Tried`): "Wrong PIN — 2 tries left".
 * @param {{reason: string, triesLeft?: number|null}} tried
 */
export function triedMessage({ reason, triesLeft }) {
  const what = reason === 'wrong_pin' ? 'Wrong PIN' : 'That answer was refused';
  return Number.isInteger(triesLeft) ? `${what} — ${tries(triesLeft)}` : what;
}

/** Why the server refused an answer, in a sentence. `pin`: the token is PIN-protected. */
function refusal(reason, triesLeft, pin) {
  const left = Number.isInteger(triesLeft) ? ` ${tries(triesLeft)}.` : '';
  switch (reason) {
    case 'wrong_number':
      return `That was not the number on the sign-in page. ${AGAIN}${left}`;
    case 'wrong_pin':
      return `Wrong PIN.${left} ${AGAIN}`;
    case 'locked':
      return pin
        ? 'This token is locked after too many wrong PINs. Ask your administrator to unlock it.'
        : 'This token is locked after too many failed tries. Ask your administrator to unlock it.';
    case 'expired':
      return 'The request expired before it was answered. Start the sign-in again.';
    case 'already_answered':
      return 'This request was already answered.';
    case 'cancelled':
      return 'This sign-in had already ended or was replaced by a newer request; nothing was approved.';
    case 'unknown_request':
      return 'The server no longer knows this request: it was answered elsewhere or has ended.';
    case 'bad_answer':
      return `The server did not accept this device's answer. ${AGAIN}${left}`;
    case 'bad_passcode':
      return `${pin ? 'Your PIN was right, but the' : 'The'} server did not accept this device's passcode: its keys are not the server's. No try was counted. Remove the token and add it again.`;
    case 'bad_device_tag':
      return 'The server did not recognise this device. Remove the token and add it again.';
    case 'unbound':
      return 'This sign-in must be approved from the browser you are signing in with. Nothing was approved, and no try was counted.';
    case 'restored_elsewhere':
      return 'This token was restored in another browser: only that browser can answer its sign-in requests now. Nothing was approved here.';
    default:
      return `The server refused the answer${reason ? ` (${reason.replaceAll('_', ' ')})` : ''}.`;
  }
}

/** Why an answer could not be delivered at all (the worker's own reasons). */
function failure(reason) {
  switch (reason) {
    case 'unreachable':
    case 'failed':
    case 'network':
      return 'The server could not be reached, so the answer was not delivered. Check the connection and try again.';
    case 'unknown_request':
    case 'not_found':
      return 'This request is no longer waiting: it was answered elsewhere or has ended.';
    case 'unknown_message':
      return 'This version of PushOTP cannot answer sign-in requests yet.';
    case 'unknown_token':
      return 'The token of this request is no longer on this device.';
    case 'pin_required':
      return 'This token needs its PIN to approve.';
    case 'wrong_pin':
      return 'Wrong PIN. Nothing was sent; try again.';
    case 'pin_refused':
      return 'privacyIDEA did not accept the approval: the PIN may be wrong. Try again.';
    case 'enroll_again':
      return 'This privacyIDEA token was added by an earlier version of PushOTP. Remove it and enroll it again.';
    case 'wrong_choice':
      return 'That was not the option shown on the sign-in page. Pick again.';
    case 'already_answering':
      return 'This request is already being answered.';
    case 'unsupported_version':
      return "The server speaks another version of the protocol than this PushOTP, so it took no answer. Update PushOTP, or ask the server's administrator.";
    default:
      return `The answer could not be sent${reason ? ` (${reason.replaceAll('_', ' ')})` : ''}. Try again.`;
  }
}

/** Why a request went away without this device's answer (store.js `Outcome`, status `ended`). */
function ended(reason, app) {
  switch (reason) {
    case 'answered':
      return `Answered elsewhere. The sign-in to ${app} was answered on another device or with a code.`;
    case 'replaced':
      return `Replaced by a newer sign-in. Answer the newest request from ${app}.`;
    case 'expired':
      return `The sign-in request from ${app} expired before it was answered.`;
    case 'removed':
      return `The token of the sign-in request from ${app} was removed.`;
    default:
      return `No longer waiting. The sign-in to ${app} was answered elsewhere or expired.`;
  }
}

/**
 * The message for an outcome (store.js `Outcome`): `{ text, tone }`, tone `good` for an approval,
 * `bad` for a refusal or failure, `neutral` for the person's own denial or report and for a
 * request that ended elsewhere.
 * @param {{status: string, reason?: string|null, triesLeft?: number|null, app?: string}} outcome
 * @param {{pin?: boolean}} [token] whether the request's token is PIN-protected
 */
export function outcomeMessage(outcome, { pin = false } = {}) {
  const app = outcome.app || 'the app';
  switch (outcome.status) {
    case 'approved':
      return { text: `Approved. You are being signed in to ${app}.`, tone: 'good' };
    case 'denied':
      return { text: `Denied. The sign-in to ${app} was refused.`, tone: 'neutral' };
    case 'reported':
      return { text: `Reported. Your administrator has been told. The sign-in to ${app} was refused.`, tone: 'neutral' };
    case 'expired':
      return { text: `The sign-in request from ${app} expired before it was answered.`, tone: 'bad' };
    case 'rejected':
      return { text: refusal(outcome.reason, outcome.triesLeft, pin), tone: 'bad' };
    case 'ended':
      return { text: ended(outcome.reason, app), tone: 'neutral' };
    default:
      return { text: failure(outcome.reason), tone: 'bad' };
  }
}

/**
 * What the person is told about a notice from a push token's server (docs/protocol.md §4,
 * "Notices about a token"): the notification's title and the message, which the token's line in
 * the options page repeats.
 * @param {import('./store.js').NoticeKind} kind
 * @param {{user: string, issuer: string}} token
 * @param {string} when  when it happened, as the page shows times
 */
export function noticeText(kind, { user, issuer }, when) {
  const account = `${user} at ${issuer}`;
  if (kind === 'wrong_passcodes') {
    return {
      title: 'Someone is guessing your passcodes',
      message: `Wrong passcodes were typed for ${account} on ${when}. Whoever typed them knows your password: change it. Typed passcodes wait for now; sign-ins you approve here still work.`,
    };
  }
  if (kind === 'failed_approvals') {
    return {
      title: 'A sign-in approval failed',
      message: `A wrong PIN or a wrong number was entered to approve a sign-in to ${account} on ${when}. If it was not you, someone may be trying to get past your authenticator: deny sign-in requests you did not start, and tell ${issuer}. Each wrong answer brings your authenticator closer to being locked.`,
    };
  }
  return {
    title: 'A new authenticator was added',
    message: `A new authenticator was added to ${account} on ${when}. If this was not you, change your password and tell ${issuer}.`,
  };
}
