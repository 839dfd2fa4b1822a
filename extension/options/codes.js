// SPDX-License-Identifier: MIT OR Apache-2.0
// The options page's everyday codes (ordinary TOTP/HOTP tokens): the list, with renaming,
// reordering and deletion, and how a code is named and described. Codes are added in
// codes-add.js; the worker keeps them (otp.js).
import { Message, ask } from '../messages.js';
import { byOrder } from '../store.js';
import { $, hostOf, itemKey, say } from './common.js';

const otpListStatus = $('otp-list-status');
const otpList = $('otp-tokens');

export const otpName = (token) => [token.issuer, token.account].filter(Boolean).join(' · ') || 'Unnamed code';

export function otpKind(token) {
  const algorithm = token.algorithm.replace(/^SHA(\d)/, 'SHA-$1');
  const base = `${token.digits} digits · ${algorithm}`;
  return token.type === 'totp' ? `Time-based · ${base} · every ${token.period} s` : `Counter-based · ${base} · next counter ${token.counter}`;
}

/** id → its list item, so that updates keep focus where it is. */
const otpItems = new Map();
let otpOrder = [];
let otpById = {};

function otpItem(token) {
  let item = otpItems.get(token.id);
  if (!item) {
    item = $('otp-template').content.firstElementChild.cloneNode(true);
    const key = itemKey('otp');
    item.dataset.id = token.id;
    item.querySelector('.otp-rename-issuer').id = `${key}-issuer`;
    item.querySelector('.otp-rename-issuer-label').htmlFor = `${key}-issuer`;
    item.querySelector('.otp-rename-account').id = `${key}-account`;
    item.querySelector('.otp-rename-account-label').htmlFor = `${key}-account`;
    item.querySelector('.otp-rename-start').addEventListener('click', () => startRename(item));
    item.querySelector('.otp-rename-save').addEventListener('click', () => saveRename(item));
    item.querySelector('.otp-rename-cancel').addEventListener('click', () => endRename(item));
    item.querySelector('.otp-rename').addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && event.target.matches('input')) {
        event.preventDefault();
        saveRename(item);
      } else if (event.key === 'Escape') {
        event.preventDefault();
        endRename(item);
      }
    });
    item.querySelector('.otp-up').addEventListener('click', (event) => queueMove(item.dataset.id, -1, event.currentTarget));
    item.querySelector('.otp-down').addEventListener('click', (event) => queueMove(item.dataset.id, 1, event.currentTarget));
    item.querySelector('.otp-delete').addEventListener('click', (event) => confirmDelete(item.dataset.id, event.currentTarget));
    otpItems.set(token.id, item);
  }
  const name = otpName(token);
  item.querySelector('.otp-issuer').textContent = token.issuer || token.account;
  item.querySelector('.otp-account').textContent = token.issuer ? token.account : '';
  item.querySelector('.otp-kind').textContent = otpKind(token);
  item.querySelector('.otp-sites').textContent = token.sites.length
    ? `Fills into ${token.sites.map(hostOf).join(', ')}`
    : 'Not filled into any site yet.';
  item.querySelector('.otp-rename-start').setAttribute('aria-label', `Rename ${name}`);
  item.querySelector('.otp-up').setAttribute('aria-label', `Move ${name} up`);
  item.querySelector('.otp-down').setAttribute('aria-label', `Move ${name} down`);
  item.querySelector('.otp-delete').setAttribute('aria-label', `Delete ${name}`);
  return item;
}

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
  const focused = document.activeElement;
  list.forEach((token, index) => {
    const item = otpItem(token);
    if (otpList.children[index] !== item) otpList.insertBefore(item, otpList.children[index] ?? null);
    item.querySelector('.otp-up').disabled = index === 0;
    item.querySelector('.otp-down').disabled = index === list.length - 1;
  });
  // Moving an item in the list drops the focus of its buttons: put it back.
  if (focused?.isConnected && document.activeElement !== focused && !focused.disabled) focused.focus();
  $('no-otp').hidden = list.length > 0;
}

function startRename(item) {
  const token = otpById[item.dataset.id];
  if (!token) return;
  item.querySelector('.otp-rename-issuer').value = token.issuer;
  item.querySelector('.otp-rename-account').value = token.account;
  item.querySelector('.otp-rename').hidden = false;
  item.querySelector('.token-head').hidden = true;
  item.querySelector('.otp-rename-start').hidden = true;
  item.querySelector('.otp-rename-issuer').focus();
}

function endRename(item) {
  item.querySelector('.otp-rename').hidden = true;
  item.querySelector('.token-head').hidden = false;
  item.querySelector('.otp-rename-start').hidden = false;
  item.querySelector('.otp-rename-start').focus();
}

async function saveRename(item) {
  const id = item.dataset.id;
  const issuer = item.querySelector('.otp-rename-issuer').value.trim();
  const account = item.querySelector('.otp-rename-account').value.trim();
  if (!issuer && !account) {
    say(otpListStatus, 'Give the code an issuer or an account name.', 'error');
    item.querySelector('.otp-rename-issuer').focus();
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
function queueMove(id, step, button) {
  moving = moving.then(() => move(id, step, button));
}

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
  const other = item?.querySelector(step < 0 ? '.otp-down' : '.otp-up');
  if (button.disabled) other?.focus();
  else button.focus();
}

function confirmDelete(id, opener) {
  const token = otpById[id];
  if (!token) return;
  const dialog = $('otp-delete-dialog');
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
