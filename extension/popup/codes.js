// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// The popup's everyday (TOTP/HOTP) codes: the list with its search, the live codes from the
// worker, copy, fill into the active tab (asking first about a site not yet confirmed for the
// token), the next HOTP code, and the unlock prompt in their place while PushOTP is locked.
import { Message, ask } from '../messages.js';
import { originOf } from '../sites.js';
import { byOrder } from '../store.js';
import { renderUnlock } from '../unlock.js';
import { hostOf } from '../words.js';
import { $, $input, confirmSite, find, findTarget, fromTemplate, target } from './common.js';

/** @typedef {import('../store.js').OtpToken} OtpToken */

const RING = 2 * Math.PI * 10;
const SEARCH_FROM = 6;

/**
 * @type {{
 *   tokens: {[id: string]: OtpToken},
 *   values: import('../messages.js').Replies['otp.codes']['codes'],
 *   shown: {[id: string]: string},
 *   items: Map<string, HTMLElement>,
 *   locked: boolean,
 *   asking: boolean,
 * }}
 */
export const codes = {
  tokens: {}, // local storage `otpTokens` (store.js)
  values: {}, // id → { code, secondsLeft } of TOTP tokens, from the worker
  shown: {}, // id → the HOTP code shown after "Show next code" or a fill
  items: new Map(), // id → list item
  locked: false,
  asking: false, // an OTP_CODES call is on its way
};

/**
 * "123456" → "123 456"; "12345678" → "1234 5678".
 * @param {string} code
 */
function grouped(code) {
  const half = Math.floor(code.length / 2);
  return `${code.slice(0, half)} ${code.slice(half)}`;
}

/** @param {OtpToken} token */
const nameOf = (token) => [token.issuer, token.account].filter(Boolean).join(' ');

/** @param {OtpToken} token */
function codeItem(token) {
  let item = codes.items.get(token.id);
  if (!item) {
    item = fromTemplate('code-template');
    item.dataset.id = token.id;
    find(item, '.code-next').addEventListener('click', () => showNext(item.dataset.id));
    find(item, '.code-copy').addEventListener('click', () => copy(item.dataset.id));
    find(item, '.code-fill').addEventListener('click', () => fillCode(item.dataset.id));
    codes.items.set(token.id, item);
  }
  const name = nameOf(token);
  find(item, '.code-issuer').textContent = token.issuer || token.account;
  find(item, '.code-account').textContent = token.issuer ? token.account : '';
  find(item, '.code-copy').setAttribute('aria-label', `Copy the code of ${name}`);
  find(item, '.code-fill').setAttribute('aria-label', `Fill the code of ${name}`);
  find(item, '.code-next').setAttribute('aria-label', `Show next code of ${name}`);
  return item;
}

/**
 * The code shown for a token, or null.
 * @param {OtpToken} token
 */
function codeOf(token) {
  return token.type === 'totp' ? (codes.values[token.id]?.code ?? null) : (codes.shown[token.id] ?? null);
}

/**
 * @param {HTMLElement} item
 * @param {OtpToken} token
 */
function paintCode(item, token) {
  const code = codeOf(token);
  const value = find(item, '.code-value');
  const text = code ? grouped(code) : token.type === 'totp' ? '··· ···' : '';
  if (value.textContent !== text) value.textContent = text;
  /** @type {SVGSVGElement} */
  const ring = find(item, '.ring');
  const hotp = token.type === 'hotp';
  // An SVG element has no `hidden` property: the attribute itself.
  ring.toggleAttribute('hidden', hotp || !codes.values[token.id]);
  find(item, '.code-next').hidden = !hotp;
  /** @type {HTMLButtonElement} */ (find(item, '.code-copy')).disabled = !code;
  /** @type {HTMLButtonElement} */
  const fill = find(item, '.code-fill');
  fill.disabled = !target.origin;
  // A greyed-out button says why, on hover and to screen readers (the hint under the list).
  const why = fillOffReason();
  if (why) {
    fill.title = why;
    fill.setAttribute('aria-describedby', 'fill-hint');
  } else {
    fill.removeAttribute('title');
    fill.removeAttribute('aria-describedby');
  }
  if (!hotp && codes.values[token.id]) {
    const left = codes.values[token.id].secondsLeft;
    ring.setAttribute('aria-label', `${left} ${left === 1 ? 'second' : 'seconds'} left`);
    /** @type {SVGCircleElement} */ (find(ring, '.ring-left')).style.strokeDashoffset = String(RING * (1 - left / token.period));
  }
}

/** Why codes cannot be filled into the target tab, or null when they can. */
function fillOffReason() {
  if (target.origin) return null;
  return target.tab
    ? 'Fill works only on web pages (http or https), and this tab is not one.'
    : 'Fill works only on web pages (http or https), and no web page is open.';
}

export function renderCodes() {
  const list = byOrder(codes.tokens);
  for (const [id, item] of codes.items) {
    if (!codes.tokens[id]) {
      item.remove();
      codes.items.delete(id);
    }
  }
  const search = $input('code-search');
  search.hidden = codes.locked || list.length < SEARCH_FROM;
  const words = search.hidden ? [] : search.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
  const matching = list.filter((t) => {
    const text = `${t.issuer} ${t.account}`.toLowerCase();
    return words.every((word) => text.includes(word));
  });
  $('unlock').hidden = !codes.locked;
  $('code-list').hidden = codes.locked;
  $('no-codes').hidden = codes.locked || list.length > 0;
  $('no-match').hidden = codes.locked || list.length === 0 || matching.length > 0;
  const why = fillOffReason();
  $('fill-hint').textContent = why ?? '';
  $('fill-hint').hidden = !why || codes.locked || matching.length === 0;
  const listElement = $('code-list');
  for (const item of codes.items.values()) item.hidden = true;
  matching.forEach((token, index) => {
    const item = codeItem(token);
    item.hidden = false;
    if (listElement.children[index] !== item) listElement.insertBefore(item, listElement.children[index] ?? null);
    paintCode(item, token);
  });
}

/** Whether the codes are on screen, so that asking for them every second is worth it. */
function codesVisible() {
  return document.visibilityState === 'visible' && !codes.locked && Object.values(codes.tokens).some((t) => t.type === 'totp');
}

/** One OTP_CODES call; none while the last one is still on its way. */
export async function refreshCodes() {
  if (codes.asking) return;
  codes.asking = true;
  try {
    codes.values = (await ask({ type: Message.OTP_CODES })).codes;
    codes.locked = false;
  } catch (err) {
    if (err.code === 'locked') codes.locked = true;
    else $('codes-status').textContent = `The codes could not be computed: ${err.message}`;
  } finally {
    codes.asking = false;
  }
  renderCodes();
}

export function codesTick() {
  if (codesVisible()) refreshCodes();
}

/** @param {string} id */
async function showNext(id) {
  const token = codes.tokens[id];
  if (!token) return;
  try {
    codes.shown[id] = (await ask({ type: Message.OTP_NEXT, id })).code;
    $('codes-status').textContent = '';
  } catch (err) {
    if (err.code === 'locked') codes.locked = true;
    $('codes-status').textContent = `No code: ${err.message}`;
  }
  renderCodes();
}

/** @param {string} id */
async function copy(id) {
  const token = codes.tokens[id];
  const code = token && codeOf(token);
  if (!code) return;
  try {
    await navigator.clipboard.writeText(code);
    $('codes-status').textContent = `Copied the code of ${nameOf(token)}.`;
  } catch (err) {
    $('codes-status').textContent = `The code could not be copied: ${err.message}`;
  }
}

/** @param {string} id */
async function fillCode(id) {
  const token = codes.tokens[id];
  /** @type {HTMLButtonElement} */
  const fillButton = codes.items.get(id)?.querySelector('.code-fill');
  await findTarget();
  // The tab and the site the person is asked about, kept across the question.
  const { tab, origin } = target;
  if (!token || !origin) {
    $('codes-status').textContent = fillOffReason() ?? '';
    renderCodes();
    return;
  }
  const host = hostOf(origin);
  let confirmed = false;
  if (!token.sites.includes(origin)) {
    confirmed = await confirmSite(token, origin);
    fillButton?.focus();
    if (!confirmed) {
      $('codes-status').textContent = `Nothing was filled into ${host}.`;
      return;
    }
    // The person confirmed the site they saw: a tab that navigated elsewhere meanwhile gets
    // neither the code nor the trust (the worker adds whatever origin the tab has when asked).
    const now = await chrome.tabs.get(tab.id).catch(() => null);
    if (originOf(now?.url) !== origin) {
      $('codes-status').textContent = `Nothing was filled: the tab is no longer on ${host}.`;
      return;
    }
  }
  try {
    const reply = await ask({ type: Message.OTP_FILL, id, tabId: tab.id, origin, ...(confirmed && { confirmSite: true }) });
    if (token.type === 'hotp') codes.shown[id] = reply.code;
    $('codes-status').textContent = reply.filled
      ? `Filled the code of ${nameOf(token)} into ${host}.`
      : `No code field was found in ${host}. Copy the code instead.`;
  } catch (err) {
    if (err.code === 'locked') codes.locked = true;
    $('codes-status').textContent =
      err.code === 'tab_changed' ? `Nothing was filled: the tab is no longer on ${host}.` : `The code could not be filled: ${err.message}`;
  }
  renderCodes();
}

/**
 * The `unlock` placeholder that other parts of the popup show while locked hosts the same
 * prompt. On success the document gets an `unlocked` event (and session storage's `vaultKey`
 * changes), so that they render again without it.
 */
function hostUnlock() {
  const spot = $('unlock');
  if (spot && !spot.querySelector('form')) {
    spot.replaceChildren();
    renderUnlock(spot, { onUnlocked: () => document.dispatchEvent(new Event('unlocked')) });
  }
}
new MutationObserver(hostUnlock).observe(document.body, { childList: true, subtree: true });
hostUnlock();

$('code-search').addEventListener('input', renderCodes);
$('open-options').addEventListener('click', () => chrome.runtime.openOptionsPage());
document.addEventListener('visibilitychange', codesTick);
document.addEventListener('unlocked', () => refreshCodes());
