// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// What every section of the options page shares: element lookup, the status messages, the
// error whose text is written for the person, and the ids of list items.
export { hostOf } from '../words.js';
export { $, $button, $dialog, $form, $input, $select, find, fromTemplate } from '../dom.js';

/**
 * A message for a person; `kind` is `error`, `ok` or `''` (progress).
 * @param {HTMLElement} element
 * @param {string} text
 * @param {string} [kind]
 */
export function say(element, text, kind = '') {
  element.textContent = text;
  element.className = kind ? `status ${kind}` : 'status';
}

/**
 * Why a link whose server the core refused as `insecure_server` (plain http:// to another
 * computer) cannot be used, naming that server's host as the link gives it in `param`.
 * @param {string} link
 * @param {string} param  `server` (PushOTP) or `url` (privacyIDEA)
 */
export function insecureServer(link, param) {
  let server = 'its server';
  try {
    const host = new URL(new URL(link.trim()).searchParams.get(param) ?? '').host;
    if (host) server = `the server ${host}`;
  } catch {
    // The core parsed the link; one the browser cannot read is told without the host.
  }
  return `This link names ${server} over plain http://, which anyone on the network could read and change. Ask your organization for a link whose server address starts with https://.`;
}

/** An error whose message is written for the person, not for developers. */
export class Problem extends Error {}

let itemCount = 0;

/**
 * A page-wide unique prefix for the ids inside one list item (`token-1`, `otp-2`), so that
 * each item's labels point at its own fields.
 * @param {string} prefix
 */
export function itemKey(prefix) {
  return `${prefix}-${++itemCount}`;
}
