// SPDX-License-Identifier: MIT OR Apache-2.0
// Which site a tab shows, for the worker's fills: always as the browser reports it, never as a
// page or a message claims it.
import { coded } from './messages.js';

/** The origin of an http(s) address, or null. */
export function originOf(url) {
  try {
    const parsed = new URL(url);
    return /^https?:$/.test(parsed.protocol) ? parsed.origin : null;
  } catch {
    return null;
  }
}

/**
 * The origin of the web page in tab `tabId`, for a fill. `expected` is the site the popup named
 * to the person: a tab that navigated away while the person was asked is refused with
 * `tab_changed`, and a confirmation (`confirmSite`) must name its site, so that only the site
 * the person saw is ever trusted. `expected` can only refuse; the origin returned is the tab's.
 * @returns {Promise<string>}
 */
export async function tabOrigin(tabId, expected = null, confirmSite = false) {
  const tab = await chrome.tabs.get(tabId).catch(() => null);
  const origin = originOf(tab?.url);
  if (!origin) throw coded('unfillable_tab', 'Codes can only be filled into web pages.');
  if (expected !== null && typeof expected !== 'string') throw coded('invalid_parameter', 'The site must be an origin.');
  if (confirmSite && expected === null) throw coded('invalid_parameter', 'A confirmation names the site it is for.');
  if (expected !== null && origin !== expected) throw coded('tab_changed', 'The tab moved on to another site: nothing was filled.');
  return origin;
}
