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
