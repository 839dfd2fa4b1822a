// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// Filling codes into pages: the only sender of the fill message to a content script, and the one
// rule for which site may receive which code. The sign-in code a push approval's reply carries
// (never the approval's passcode, which depends on the PIN) goes to the tabs of the request's
// origin; everyday codes and privacyIDEA's code-to-phone codes go to one tab, whose origin, as
// the browser reports it, must be one the token trusts or one the person confirms for it now.
// Every code goes only to the frames whose document, and every document above it, has the
// target origin (`framesOf`), never to the tab's other frames; the content script checks its
// frame's origin, and every frame's above it, again before it types (content.js).
import { inject } from './access.js';
import { PageMessage, coded } from './messages.js';
import { originOf } from './sites.js';
import { settings } from './store.js';

/** Sites confirmed for one token, at most: the core's `tokens::MAX_SITES`, which a unit test
 * holds equal (tests/unit/wasm-rules.test.mjs). */
export const MAX_SITES = 64;

/**
 * The origin of the web page in tab `tabId`, for a fill. `expected` is the site the popup named
 * to the person: a tab that navigated away while the person was asked is refused with
 * `tab_changed`, and a confirmation (`confirmSite`) must name its site, so that only the site
 * the person saw is ever trusted. `expected` can only refuse; the origin returned is the tab's.
 * @param {unknown} tabId
 * @param {unknown} [expected]
 * @param {boolean} [confirmSite]
 * @returns {Promise<string>}
 */
export async function tabOrigin(tabId, expected = null, confirmSite = false) {
  const tab = Number.isInteger(tabId) ? await chrome.tabs.get(/** @type {number} */ (tabId)).catch(() => null) : null;
  const origin = originOf(tab?.url);
  if (!origin) throw coded('unfillable_tab', 'Codes can only be filled into web pages.');
  if (expected !== null && typeof expected !== 'string') throw coded('invalid_parameter', 'The site must be an origin.');
  if (confirmSite && expected === null) throw coded('invalid_parameter', 'A confirmation names the site it is for.');
  if (expected !== null && origin !== expected) throw coded('tab_changed', 'The tab moved on to another site: nothing was filled.');
  return origin;
}

/**
 * The site rule, run inside the worker's storage queue with the token just read: a token's
 * codes go to `origin` when it trusts it (`trusted`: the sites confirmed for it, and for a
 * privacyIDEA token its server's own origin); another site only when the person confirmed it
 * (`confirmSite`), and then it joins the token's `sites`, at most MAX_SITES of them.
 * @param {string} origin      the tab's, from `tabOrigin`
 * @param {string[]} trusted
 * @param {string[]} sites     the token's confirmed sites
 * @param {boolean} confirmSite
 * @returns {string[]|null}    the token's new `sites` to store, or null when it trusted `origin`
 */
export function admit(origin, trusted, sites, confirmSite) {
  if (trusted.includes(origin)) return null;
  if (!confirmSite) throw coded('unconfirmed_site', `${origin} is not a confirmed site of this token.`);
  if (sites.length >= MAX_SITES) throw coded('invalid_parameter', 'This token has too many sites.');
  return [...sites, origin];
}

/**
 * Whether the frame this runs in, and every frame above it, has the document origin `origin`:
 * the rule of content.js `inOrigin`, run by the worker in each frame (`chrome.scripting`, the
 * content scripts' isolated world) before a code is made or sent; and if so, whether the fill
 * script is in place there. Self-contained: the browser runs it as source in the frame.
 * @param {string} origin
 * @returns {false|'scripted'|'bare'}
 */
function frameOfOrigin(origin) {
  const scripted = () => (/** @type {any} */ (globalThis).pushotpMarks?.ready === true ? 'scripted' : 'bare');
  if (location.origin !== origin || window.origin !== origin) return false;
  const ancestors = location.ancestorOrigins;
  if (ancestors) return [...ancestors].every((o) => o === origin) ? scripted() : false;
  try {
    for (let view = /** @type {Window} */ (window); view !== view.top; ) {
      view = view.parent;
      if (view.location.origin !== origin || view.origin !== origin) return false;
    }
    return scripted();
  } catch {
    return false;
  }
}

/**
 * @typedef {object} Frame  One document in a tab, as the browser names it.
 * @property {number} frameId
 * @property {string} [documentId]  pins the document: a frame that navigated since is not it
 *   (Firefox has none)
 */

/**
 * The frames of tab `tabId` that may receive a code for `origin`: each whose document and every
 * ancestor's document have that origin (`frameOfOrigin`), and only while the tab's top document,
 * as the browser reports it, has it too. A code is sent to these and to no other frame, so that
 * a frame of another origin (an advertisement, a widget, a page that frames the site) never
 * receives it, not even to refuse it. The top's origin is the browser's word; the ancestors are
 * read in each frame's own isolated world, which a page of another site, in another process,
 * cannot reach. A frame without the fill script (a page loaded before its site was granted)
 * gets it now (access.js `inject`).
 * @param {number} tabId
 * @param {string} origin
 * @returns {Promise<Frame[]>}
 */
export async function framesOf(tabId, origin) {
  const tab = await chrome.tabs.get(tabId).catch(() => null);
  if (originOf(tab?.url) !== origin) return [];
  const results = await chrome.scripting
    .executeScript({ target: { tabId, allFrames: true }, func: frameOfOrigin, args: [origin], injectImmediately: true })
    // A tab the extension may not script (closed since, or no web page) has no frame to fill.
    .catch(() => []);
  const ours = results.filter((r) => r.result === 'scripted' || r.result === 'bare');
  await inject(
    tabId,
    ours.map((r) => ({ frameId: r.frameId, scripted: r.result === 'scripted' })),
  );
  return ours.map(({ frameId, documentId }) => ({ frameId, ...(typeof documentId === 'string' && { documentId }) }));
}

/**
 * Sends `passcode` to the frames of tab `tabId` whose origin is `origin` (`framesOf`), or to
 * `frames` when the caller found them already, each on its own, to be filled there.
 * `display` marks privacyIDEA's short display codes.
 * @param {number} tabId
 * @param {string} origin
 * @param {string} passcode
 * @param {{display?: boolean, frames?: Frame[]}} [options]
 * @returns {Promise<boolean>} whether a frame filled it
 */
export async function fillTab(tabId, origin, passcode, { display = false, frames } = {}) {
  const { autoSubmit } = await settings();
  const message = { type: PageMessage.FILL_PASSCODE, origin, passcode, submit: autoSubmit, ...(display && { display }) };
  const replies = await Promise.all(
    (frames ?? (await framesOf(tabId, origin))).map((frame) =>
      chrome.tabs
        .sendMessage(tabId, message, frame)
        // A frame that navigated since it was found, or found no field, answers nothing.
        .catch(() => null),
    ),
  );
  return replies.some((reply) => reply?.filled === true);
}

/**
 * Hands the sign-in code of an approved push request (the server's, docs/protocol.md §5) to the
 * frames of the request's origin in every tab showing it. The content script checks the origin again, since a frame may have navigated
 * since.
 * @param {string} origin
 * @param {string} passcode
 */
export async function fillOrigin(origin, passcode) {
  await Promise.all((await tabsAt(origin)).map((tab) => fillTab(/** @type {number} */ (tab.id), origin, passcode)));
}

/**
 * The tabs whose page, as the browser reports it, has the origin `origin`.
 * @param {string} origin
 * @returns {Promise<chrome.tabs.Tab[]>}
 */
export async function tabsAt(origin) {
  return (await chrome.tabs.query({})).filter((tab) => tab.id !== undefined && originOf(tab.url) === origin);
}

/**
 * Fills a privacyIDEA display code into tab `tabId`, read again now, when its origin is one of
 * `trusted` (and `expected`, the site just confirmed, when given), and nowhere else.
 * @param {number} tabId
 * @param {string[]} trusted
 * @param {string} code
 * @param {string|null} [expected]
 * @returns {Promise<import('./store.js').PiFill>}
 */
export async function fillTrusted(tabId, trusted, code, expected = null) {
  const tab = await chrome.tabs.get(tabId).catch(() => null);
  const origin = originOf(tab?.url);
  if (!origin) return { origin: null, result: 'unfillable_tab' };
  if (!trusted.includes(origin) || (expected !== null && origin !== expected)) return { origin, result: 'unconfirmed_site' };
  const filled = await fillTab(tabId, origin, code, { display: true });
  return { origin, result: filled ? 'filled' : 'no_field' };
}
