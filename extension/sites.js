// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// Which site an address belongs to, for the worker's fills (fill.js) and the pages: always as
// the browser reports it, never as a page or a message claims it.

/**
 * The origin of an http(s) address, or null.
 * @param {unknown} url
 * @returns {string|null}
 */
export function originOf(url) {
  try {
    const parsed = new URL(/** @type {string} */ (url));
    return /^https?:$/.test(parsed.protocol) ? parsed.origin : null;
  } catch {
    return null;
  }
}
