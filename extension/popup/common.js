// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// What the popup's parts share: element lookup, the tab that codes are filled into, and the
// question whether a site may get a token's codes.
import { request } from '../access.js';
import { $, $dialog } from '../dom.js';

export { $, $button, $dialog, $input, find, fromTemplate } from '../dom.js';

/**
 * The active tab the codes are filled into, and its origin (null when it is not a web page).
 * @type {{tab: chrome.tabs.Tab|null, origin: string|null}}
 */
export let target = { tab: null, origin: null };

export async function findTarget() {
  const [active] = await chrome.tabs.query({ active: true, currentWindow: true });
  const self = await chrome.tabs.getCurrent?.();
  let tab = active;
  // Shown in a tab or a window of its own (when the toolbar popup cannot open), the front tab
  // is this page: the page the person came from is the web page they used last.
  if (self && active?.id === self.id) {
    const tabs = await chrome.tabs.query({ windowType: 'normal' });
    tab = tabs
      .filter((t) => t.id !== self.id && /^https?:\/\//.test(t.url ?? ''))
      .sort((a, b) => (b.lastAccessed ?? 0) - (a.lastAccessed ?? 0))[0];
  }
  let origin = null;
  try {
    const url = new URL(tab?.url ?? '');
    if (/^https?:$/.test(url.protocol)) origin = url.origin;
  } catch {
    // Not a web page: nothing is filled into it.
  }
  target = { tab: tab ?? null, origin };
}

/**
 * The tab that shows a page of `origin`, if one is open: the one in front of this window, else
 * the one used last. Its title is the page's own, so it is only ever shown as text.
 * @param {string} origin
 * @returns {Promise<chrome.tabs.Tab|null>}
 */
export async function tabOf(origin) {
  const tabs = (await chrome.tabs.query({ windowType: 'normal' })).filter((tab) => {
    try {
      return new URL(tab.url ?? '').origin === origin;
    } catch {
      return false;
    }
  });
  return tabs.sort((a, b) => Number(b.active) - Number(a.active) || (b.lastAccessed ?? 0) - (a.lastAccessed ?? 0))[0] ?? null;
}

/**
 * Asks the person whether the active tab's site is the token's own. Confirmed, PushOTP asks the
 * browser for access to the site at once, within the click (the browser asks only then): its
 * button then shows on the site's code fields, and fills reach pages opened later. A person who
 * refuses that still gets this fill, in the tab the toolbar button was clicked on.
 * @param {{issuer: string, account?: string}} token
 * @param {string} origin
 * @param {string|null} [title]  the question, when it is not the everyday codes' one
 * @returns {Promise<boolean>}
 */
export function confirmSite(token, origin, title = null) {
  const issuer = token.issuer || token.account;
  const host = new URL(origin).host;
  $('site-title').textContent = title ?? `Fill codes of ${issuer} into ${host}? Only confirm if this is ${issuer}'s real site.`;
  $('site-access').textContent = `The first time, your browser asks you to let PushOTP act on ${host}, and on no other site.`;
  const dialog = $dialog('site-dialog');
  dialog.returnValue = '';
  dialog.showModal();
  $('site-cancel').focus();
  return new Promise((resolve) => {
    dialog.addEventListener(
      'close',
      () => {
        const confirmed = dialog.returnValue === 'fill';
        if (!confirmed) return resolve(false);
        request([origin]).then(() => resolve(true));
      },
      { once: true },
    );
  });
}
