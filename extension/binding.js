// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// Whether a sign-in request started in this browser. A push request of a server that binds its
// login pages commits to the binding of the page load it was started from (`bindingHash`,
// docs/protocol.md); the login page carries that binding in a meta tag that only a script of
// its own origin can read. The worker looks for it in the frames of the request's origin, and
// only there: each frame whose document, and every document above it, has that origin
// (fill.js `framesOf`), read by the content script (content.js), never in a page that frames the
// login page, nor in a sandboxed copy of it. The tab where it is found is the one shown to the
// person ("Started in this browser"); an approval carries the binding read again at that moment
// (push.js), so that a page that went away meanwhile is never vouched for.
//
// privacyIDEA servers take no binding: for their challenges the same words are a local hint,
// given while a sign-in page of the token's server or of a site confirmed for it says that it
// waits for a push (pi-page.js, privacyidea.js `pageWaiting`).
import { framesOf, tabsAt } from './fill.js';
import { PageMessage } from './messages.js';
import { originOf } from './sites.js';
import { bindingMatches, toolsReady } from './worker-tools.js';

/**
 * @typedef {import('./store.js').Bound} Bound
 * @typedef {import('./store.js').PushRequest} PushRequest
 */

/** How long a frame has to answer: one that does not (a page busy or hung) has no binding. */
const READ_TIMEOUT_MS = 1_000;
/** Longest tab title kept: the page's own words, shown only as text. */
const TITLE_CHARS = 200;
/**
 * How long a privacyIDEA sign-in page's word that it waits counts: the page repeats it every
 * 10 s while it waits (pi-page.js `HINT_EVERY_MS`).
 */
const PI_WAITING_MS = 25_000;

/**
 * The tab `tabId` as `Bound`, when the browser still reports it at `origin`.
 * @param {number} tabId
 * @param {string} origin
 * @returns {Promise<Bound|null>}
 */
async function boundTab(tabId, origin) {
  const tab = await chrome.tabs.get(tabId).catch(() => null);
  if (!tab || originOf(tab.url) !== origin) return null;
  return { tabId, title: (tab.title ?? '').trim().slice(0, TITLE_CHARS), origin };
}

/**
 * The tabs showing a page of `origin`, the one in front first, then the one used last.
 * @param {string} origin
 */
async function tabsOf(origin) {
  const tabs = await tabsAt(origin);
  return tabs.sort((a, b) => Number(b.active) - Number(a.active) || (b.lastAccessed ?? 0) - (a.lastAccessed ?? 0));
}

/**
 * @template T
 * @param {Promise<T>} promise
 * @returns {Promise<T|null>}
 */
function withinReadTime(promise) {
  return Promise.race([promise, new Promise((resolve) => setTimeout(() => resolve(null), READ_TIMEOUT_MS))]);
}

/**
 * The binding of `request` in tab `tabId`: read in each frame of the request's origin, and
 * kept only when it is the one the request commits to (the core's `bindingMatches`).
 * @param {number} tabId
 * @param {PushRequest} request
 * @returns {Promise<string|null>}
 */
async function bindingIn(tabId, request) {
  const frames = await framesOf(tabId, request.origin);
  /** @type {import('./messages.js').BindingRead} */
  const message = { type: PageMessage.BINDING_READ, origin: request.origin };
  const replies = await Promise.all(
    frames.map((frame) =>
      // A frame without the content script (loaded before the extension) has nothing to say.
      withinReadTime(chrome.tabs.sendMessage(tabId, message, frame)).catch(() => null),
    ),
  );
  for (const reply of replies) {
    const binding = reply?.binding;
    if (typeof binding === 'string' && matches(request, binding)) return binding;
  }
  return null;
}

/**
 * @param {PushRequest} request
 * @param {string} binding
 */
function matches(request, binding) {
  try {
    return bindingMatches(request, binding);
  } catch {
    // A request the core cannot read commits to nothing.
    return false;
  }
}

/**
 * Where `request`'s login page is open in this browser, and its binding: the tab of its origin
 * whose page carries the binding the request commits to. Null for a request that commits to
 * none (a server that binds no page), and when no page here has its binding.
 * @param {PushRequest} request
 * @returns {Promise<(Bound & {binding: string})|null>}
 */
export async function findBinding(request) {
  if (typeof request?.bindingHash !== 'string' || typeof request.origin !== 'string' || !originOf(request.origin)) return null;
  await toolsReady();
  const tabs = await tabsOf(request.origin);
  const found = await Promise.all(tabs.map((tab) => bindingIn(/** @type {number} */ (tab.id), request)));
  for (const [i, binding] of found.entries()) {
    if (binding === null) continue;
    // The browser's word on the tab's address, read after the binding: a tab that moved on to
    // another site meanwhile is not the page.
    const bound = await boundTab(/** @type {number} */ (tabs[i].id), request.origin);
    if (bound) return { ...bound, binding };
  }
  return null;
}

/** @type {Map<number, {origin: string, at: number}>} tab id → the privacyIDEA page that waits */
const piWaiting = new Map();

/**
 * Notes that the page of `origin` in tab `tabId` waits for a privacyIDEA push (a hint
 * privacyidea.js heeded). Kept in memory only: the page repeats it while it waits, which keeps
 * the worker awake.
 * @param {string} origin
 * @param {number} tabId
 */
export function notePiWaiting(origin, tabId, now = Date.now()) {
  piWaiting.set(tabId, { origin, at: now });
  for (const [id, { at }] of piWaiting) if (at < now - PI_WAITING_MS) piWaiting.delete(id);
}

/**
 * The tab whose sign-in page waits for a privacyIDEA push now, at one of `origins` (a token's
 * server and the sites confirmed for it), the latest first; null when none does.
 * @param {string[]} origins
 * @returns {Promise<Bound|null>}
 */
export async function piWaitingTab(origins, now = Date.now()) {
  const recent = [...piWaiting.entries()]
    .filter(([, { origin, at }]) => origins.includes(origin) && at >= now - PI_WAITING_MS)
    .sort(([, a], [, b]) => b.at - a.at);
  for (const [tabId, { origin }] of recent) {
    const bound = await boundTab(tabId, origin);
    if (bound) return bound;
  }
  return null;
}
