// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// The options page's everyday codes (ordinary TOTP/HOTP tokens): the list, with renaming,
// reordering and deletion, and how a code is named and described. Codes are added in
// codes-add.js; the worker keeps them (otp.js).
import { Message, ask } from '../messages.js';
import { byOrder } from '../store.js';
import { $, $dialog, find, fromTemplate, hostOf, itemKey, say } from './common.js';

/**
 * @typedef {import('../store.js').OtpToken} OtpToken
 * @typedef {import('../messages.js').NewOtpToken} NewOtpToken
 * @typedef {import('../dom.js').Focusable} Focusable
 */

const otpListStatus = $('otp-list-status');
const otpList = $('otp-tokens');

/**
 * How a code is named: its issuer and account, or what there is of them.
 * @param {{issuer?: string, account?: string}} token
 */
export const otpName = (token) => [token.issuer, token.account].filter(Boolean).join(' · ') || 'Unnamed code';

/**
 * What kind of code a token makes, in words.
 * @param {OtpToken|NewOtpToken} token
 */
export function otpKind(token) {
  const algorithm = token.algorithm.replace(/^SHA(\d)/, 'SHA-$1');
  const base = `${token.digits} digits · ${algorithm}`;
  return token.type === 'totp' ? `Time-based · ${base} · every ${token.period} s` : `Counter-based · ${base} · next counter ${token.counter}`;
}

/**
 * id → its list item, so that updates keep focus where it is.
 * @type {Map<string, HTMLElement>}
 */
const otpItems = new Map();
/** @type {string[]} */
let otpOrder = [];
/** @type {{[id: string]: OtpToken}} */
let otpById = {};

/** @param {OtpToken} token */
function otpItem(token) {
  let item = otpItems.get(token.id);
  if (!item) {
    item = fromTemplate('otp-template');
    const key = itemKey('otp');
    item.dataset.id = token.id;
    find(item, '.otp-rename-issuer').id = `${key}-issuer`;
    /** @type {HTMLLabelElement} */ (find(item, '.otp-rename-issuer-label')).htmlFor = `${key}-issuer`;
    find(item, '.otp-rename-account').id = `${key}-account`;
    /** @type {HTMLLabelElement} */ (find(item, '.otp-rename-account-label')).htmlFor = `${key}-account`;
    find(item, '.otp-rename-start').addEventListener('click', () => startRename(item));
    find(item, '.otp-rename-save').addEventListener('click', () => saveRename(item));
    find(item, '.otp-rename-cancel').addEventListener('click', () => endRename(item));
    find(item, '.otp-rename').addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && /** @type {Element} */ (event.target).matches('input')) {
        event.preventDefault();
        saveRename(item);
      } else if (event.key === 'Escape') {
        event.preventDefault();
        endRename(item);
      }
    });
    // Each listener is on a button: `currentTarget` is that button.
    /** @param {Event} event */
    const pressed = (event) => /** @type {HTMLButtonElement} */ (event.currentTarget);
    find(item, '.otp-up').addEventListener('click', (event) => queueMove(item.dataset.id, -1, pressed(event)));
    find(item, '.otp-down').addEventListener('click', (event) => queueMove(item.dataset.id, 1, pressed(event)));
    find(item, '.otp-delete').addEventListener('click', (event) => confirmDelete(item.dataset.id, pressed(event)));
    otpItems.set(token.id, item);
  }
  const name = otpName(token);
  find(item, '.otp-issuer').textContent = token.issuer || token.account;
  find(item, '.otp-account').textContent = token.issuer ? token.account : '';
  find(item, '.otp-kind').textContent = otpKind(token);
  find(item, '.otp-sites').textContent = token.sites.length
    ? `Fills into ${token.sites.map(hostOf).join(', ')}`
    : 'Not filled into any site yet.';
  find(item, '.otp-rename-start').setAttribute('aria-label', `Rename ${name}`);
  find(item, '.otp-up').setAttribute('aria-label', `Move ${name} up`);
  find(item, '.otp-down').setAttribute('aria-label', `Move ${name} down`);
  find(item, '.otp-delete').setAttribute('aria-label', `Delete ${name}`);
  return item;
}

/** @param {{[id: string]: OtpToken}} tokens */
export function renderOtp(tokens) {
  otpById = tokens;
  const list = byOrder(tokens);
  otpOrder = list.map((t) => t.id);
  for (const [id, item] of otpItems) {
    if (!tokens[id]) {
      item.remove();
      otpItems.delete(id);
    }
  }
  const focused = /** @type {Focusable} */ (document.activeElement);
  list.forEach((token, index) => {
    const item = otpItem(token);
    if (otpList.children[index] !== item) otpList.insertBefore(item, otpList.children[index] ?? null);
    /** @type {HTMLButtonElement} */ (find(item, '.otp-up')).disabled = index === 0;
    /** @type {HTMLButtonElement} */ (find(item, '.otp-down')).disabled = index === list.length - 1;
  });
  // Moving an item in the list drops the focus of its buttons: put it back.
  if (focused?.isConnected && document.activeElement !== focused && !focused.disabled) focused.focus();
  $('no-otp').hidden = list.length > 0;
}

/** @param {HTMLElement} item */
function startRename(item) {
  const token = otpById[item.dataset.id];
  if (!token) return;
  /** @type {HTMLInputElement} */ (find(item, '.otp-rename-issuer')).value = token.issuer;
  /** @type {HTMLInputElement} */ (find(item, '.otp-rename-account')).value = token.account;
  find(item, '.otp-rename').hidden = false;
  find(item, '.token-head').hidden = true;
  find(item, '.otp-rename-start').hidden = true;
  find(item, '.otp-rename-issuer').focus();
}

/** @param {HTMLElement} item */
function endRename(item) {
  find(item, '.otp-rename').hidden = true;
  find(item, '.token-head').hidden = false;
  find(item, '.otp-rename-start').hidden = false;
  find(item, '.otp-rename-start').focus();
}

/** @param {HTMLElement} item */
async function saveRename(item) {
  const id = item.dataset.id;
  const issuer = /** @type {HTMLInputElement} */ (find(item, '.otp-rename-issuer')).value.trim();
  const account = /** @type {HTMLInputElement} */ (find(item, '.otp-rename-account')).value.trim();
  if (!issuer && !account) {
    say(otpListStatus, 'Give the code an issuer or an account name.', 'error');
    find(item, '.otp-rename-issuer').focus();
    return;
  }
  try {
    await ask({ type: Message.OTP_RENAME, id, issuer, account });
    say(otpListStatus, `Renamed to ${otpName({ issuer, account })}.`, 'ok');
    endRename(item);
  } catch (err) {
    say(otpListStatus, `The code could not be renamed: ${err.message}`, 'error');
  }
}

// Moves run one after another: each computes the new order from the one before it, so quick
// presses must not start from the same old order.
let moving = Promise.resolve();
/**
 * @param {string} id
 * @param {-1|1} step  up or down
 * @param {HTMLButtonElement} button  the button pressed, which keeps the focus if it can
 */
function queueMove(id, step, button) {
  moving = moving.then(() => move(id, step, button));
}

/**
 * @param {string} id
 * @param {-1|1} step
 * @param {HTMLButtonElement} button
 */
async function move(id, step, button) {
  const at = otpOrder.indexOf(id);
  const to = at + step;
  if (at < 0 || to < 0 || to >= otpOrder.length) return;
  const ids = [...otpOrder];
  [ids[at], ids[to]] = [ids[to], ids[at]];
  const token = otpById[id];
  try {
    await ask({ type: Message.OTP_REORDER, ids });
    renderOtp({ ...otpById, ...Object.fromEntries(ids.map((x, order) => [x, { ...otpById[x], order }])) });
    say(otpListStatus, `${otpName(token)} is now number ${to + 1} of ${ids.length}.`, 'ok');
  } catch (err) {
    say(otpListStatus, `The codes could not be reordered: ${err.message}`, 'error');
  }
  // At the top or the bottom its button is disabled: the other one keeps the focus.
  const item = otpItems.get(id);
  /** @type {HTMLButtonElement} */
  const other = item?.querySelector(step < 0 ? '.otp-down' : '.otp-up');
  if (button.disabled) other?.focus();
  else button.focus();
}

/**
 * @param {string} id
 * @param {HTMLElement} opener  the Delete button, which gets the focus back
 */
function confirmDelete(id, opener) {
  const token = otpById[id];
  if (!token) return;
  const dialog = $dialog('otp-delete-dialog');
  const name = otpName(token);
  $('otp-delete-title').textContent = `Delete ${name}?`;
  $('otp-delete-text').textContent = `Its secret is deleted from this browser. Unless you have it elsewhere, you will need another way to sign in to ${token.issuer || 'its site'}.`;
  const controller = new AbortController();
  const { signal } = controller;
  $('otp-delete-cancel').addEventListener('click', () => dialog.close(), { signal });
  dialog.addEventListener(
    'close',
    () => {
      controller.abort();
      if (opener.isConnected) opener.focus();
      else $('otp-heading').focus();
    },
    { signal },
  );
  $('otp-delete-confirm').addEventListener(
    'click',
    async () => {
      try {
        await ask({ type: Message.OTP_DELETE, id });
        say(otpListStatus, `${name} was deleted.`, 'ok');
      } catch (err) {
        say(otpListStatus, `${name} could not be deleted: ${err.message}`, 'error');
      }
      const item = otpItems.get(id);
      if (item && !otpById[id]) item.remove();
      dialog.close();
    },
    { signal },
  );
  dialog.showModal();
  $('otp-delete-cancel').focus();
}
