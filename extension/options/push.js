// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// The options page's "Push tokens" section: the list of push tokens, with renaming, turning
// push requests on and off, and removal (which asks the worker to revoke the token at its
// server too). Tokens are added in push-add.js.
import { Message, ask } from '../messages.js';
import { dateTime } from '../time.js';
import { fillHosts, noticeText, twinNotes } from '../words.js';
import { $, $button, $dialog, find, fromTemplate, hostOf, itemKey, say } from './common.js';

/** @typedef {import('../store.js').PushToken} PushToken */

const tokenList = $('tokens');
const tokensStatus = $('tokens-status');
const removeDialog = $dialog('remove-dialog');

/**
 * tokenId → its list item, so that updates keep focus where it is.
 * @type {Map<string, HTMLElement>}
 */
const items = new Map();
/** @type {{[tokenId: string]: PushToken}} */
let tokensById = {};

/**
 * @param {PushToken} token
 * @param {{[tokenId: string]: {seconds: boolean}}} twins  words.js `twinNotes`
 */
function tokenItem(token, twins) {
  let item = items.get(token.tokenId);
  if (!item) {
    item = fromTemplate('token-template');
    const key = itemKey('token');
    item.dataset.tokenId = token.tokenId;
    /** @type {HTMLInputElement} */
    const toggle = find(item, '.token-enabled');
    toggle.id = `${key}-enabled`;
    /** @type {HTMLLabelElement} */ (find(item, '.token-enabled-label')).htmlFor = toggle.id;
    toggle.addEventListener('change', () => setEnabled(item.dataset.tokenId, toggle));
    find(item, '.token-remove').addEventListener('click', (event) =>
      confirmRemove(item.dataset.tokenId, /** @type {HTMLButtonElement} */ (event.currentTarget)),
    );
    /** @type {HTMLInputElement} */
    const nameInput = find(item, '.token-rename-name');
    nameInput.id = `${key}-name`;
    /** @type {HTMLLabelElement} */ (find(item, '.token-rename-label')).htmlFor = nameInput.id;
    find(item, '.token-rename-start').addEventListener('click', () => startTokenRename(item));
    find(item, '.token-rename-save').addEventListener('click', () => saveTokenRename(item));
    find(item, '.token-rename-cancel').addEventListener('click', () => endTokenRename(item));
    find(item, '.token-rename').addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && event.target === nameInput) {
        event.preventDefault();
        saveTokenRename(item);
      } else if (event.key === 'Escape') {
        event.preventDefault();
        endTokenRename(item);
      }
    });
    items.set(token.tokenId, item);
  }
  find(item, '.token-name').textContent = token.tokenName;
  find(item, '.badge').hidden = !token.masked && !token.pin?.required;
  find(item, '.token-user').textContent = token.user;
  find(item, '.token-issuer').textContent = token.issuer;
  find(item, '.token-server').textContent = token.server;
  find(item, '.token-device').textContent = token.deviceName;
  find(item, '.token-sites').textContent = fillHosts(token).join(', ');
  // To the second where another token of the same account was added the same minute.
  find(item, '.token-added').textContent = token.addedAt ? dateTime(token.addedAt, twins[token.tokenId]?.seconds) : 'Unknown';
  find(item, '.token-for').textContent = ` for ${token.tokenName} (${token.user} at ${token.issuer})`;
  /** @type {HTMLInputElement} */
  const toggle = find(item, '.token-enabled');
  if (!toggle.disabled) toggle.checked = token.enabled !== false;
  // Restored in another browser (docs/protocol.md §8): nothing to turn on here any more.
  const moved = find(item, '.token-moved');
  moved.hidden = !token.restoredElsewhereAt;
  find(item, '.switch-field').hidden = Boolean(token.restoredElsewhereAt);
  if (token.restoredElsewhereAt) {
    const when = new Date(token.restoredElsewhereAt).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
    moved.textContent = `Restored in another browser (noticed ${when}): ${token.issuer} now sends this token's sign-in requests there, and this browser can no longer answer them. Remove it here.`;
  }
  // What its server said about the account (docs/protocol.md §4, "Notices about a token").
  for (const kind of /** @type {const} */ (['wrong_passcodes', 'authenticator_added', 'failed_approvals'])) {
    const line = find(item, `.token-notice[data-kind="${kind}"]`);
    const at = token.notices?.[kind];
    const shown = Boolean(at) && token.ownNotices?.[kind] !== at;
    line.hidden = !shown;
    if (at && shown) line.textContent = noticeText(kind, token, dateTime(at)).message;
  }
  find(item, '.token-remove').setAttribute('aria-label', `Remove ${token.tokenName} (${token.user} at ${token.issuer})`);
  find(item, '.token-rename-start').setAttribute('aria-label', `Rename ${token.tokenName} (${token.user} at ${token.issuer})`);
  return item;
}

/** @param {HTMLElement} item */
function startTokenRename(item) {
  const token = tokensById[item.dataset.tokenId];
  if (!token) return;
  /** @type {HTMLInputElement} */
  const input = find(item, '.token-rename-name');
  input.value = token.tokenName;
  find(item, '.token-rename').hidden = false;
  find(item, '.token-head').hidden = true;
  find(item, '.token-rename-start').hidden = true;
  input.focus();
  input.select();
}

/** @param {HTMLElement} item */
function endTokenRename(item) {
  find(item, '.token-rename').hidden = true;
  find(item, '.token-head').hidden = false;
  find(item, '.token-rename-start').hidden = false;
  find(item, '.token-rename-start').focus();
}

/** @param {HTMLElement} item */
async function saveTokenRename(item) {
  /** @type {HTMLInputElement} */
  const input = find(item, '.token-rename-name');
  const name = input.value.trim();
  if (!name) {
    say(tokensStatus, 'Give the token a name.', 'error');
    input.focus();
    return;
  }
  try {
    await ask({ type: Message.TOKEN_RENAME, tokenId: item.dataset.tokenId, name });
    say(tokensStatus, `Renamed to ${name}.`, 'ok');
    endTokenRename(item);
  } catch (err) {
    say(tokensStatus, `The token could not be renamed: ${err.message}`, 'error');
  }
}

/** @param {{[tokenId: string]: PushToken}} tokens */
export function renderTokens(tokens) {
  tokensById = tokens;
  const list = Object.values(tokens).sort((a, b) => (a.addedAt ?? 0) - (b.addedAt ?? 0));
  for (const [id, item] of items) {
    if (!tokens[id]) {
      item.remove();
      items.delete(id);
    }
  }
  const twins = twinNotes(tokens, dateTime);
  list.forEach((token, index) => {
    const item = tokenItem(token, twins);
    if (tokenList.children[index] !== item) tokenList.insertBefore(item, tokenList.children[index] ?? null);
  });
  $('no-tokens').hidden = list.length > 0;
}

/**
 * @param {string} tokenId
 * @param {HTMLInputElement} toggle
 */
async function setEnabled(tokenId, toggle) {
  const enabled = toggle.checked;
  const token = tokensById[tokenId];
  const hadFocus = document.activeElement === toggle;
  toggle.disabled = true;
  try {
    await ask({ type: Message.TOKEN_ENABLE, tokenId, enabled });
    say(tokensStatus, `Push requests ${enabled ? 'on' : 'off'} for ${token?.tokenName ?? 'the token'}.`, 'ok');
  } catch (err) {
    toggle.checked = !enabled;
    say(tokensStatus, `Push requests for ${token?.tokenName ?? 'the token'} could not be turned ${enabled ? 'on' : 'off'}: ${err.message}`, 'error');
  } finally {
    toggle.disabled = false;
    if (hadFocus) toggle.focus();
  }
}

/** Counts the times the removal dialog was opened. */
let removals = 0;

/**
 * @param {string} tokenId
 * @param {HTMLElement} opener  the Remove button, which gets the focus back
 */
function confirmRemove(tokenId, opener) {
  const token = tokensById[tokenId];
  if (!token) return;
  $('remove-title').textContent = `Remove ${token.tokenName}?`;
  $('remove-text').textContent = token.restoredElsewhereAt
    ? `Only this browser's copy goes: the token stays active in the browser it was restored in.`
    : `You will no longer be able to approve sign-ins for ${token.user} at ${token.issuer} with this browser.`;
  const confirm = $button('remove-confirm');
  const cancel = $button('remove-cancel');
  const controller = new AbortController();
  const { signal } = controller;
  const session = ++removals;
  const done = () => {
    controller.abort();
    // Closed already (Escape) and perhaps opened again for another token: leave that one be.
    if (session !== removals) return;
    confirm.disabled = false;
    cancel.disabled = false;
    removeDialog.close();
  };
  cancel.addEventListener('click', () => {
    done();
    opener.focus();
  }, { signal });
  // Escape closes the dialog by itself (and focus goes back to the Remove button): the
  // listeners of this token go with it.
  removeDialog.addEventListener('close', () => controller.abort(), { signal });
  confirm.addEventListener('click', async () => {
    confirm.disabled = true;
    cancel.disabled = true;
    say(tokensStatus, `Removing ${token.tokenName}…`);
    let text;
    let kind = 'ok';
    try {
      const reply = await ask({ type: Message.TOKEN_REMOVE, tokenId });
      if (reply.restoredElsewhere) {
        text = `${token.tokenName} was removed from this browser. It stays active in the browser it was restored in.`;
      } else {
        text = reply.serverNotified
          ? `${token.tokenName} was removed, and its server ${hostOf(token.server)} revoked it.`
          : `${token.tokenName} was removed from this browser, but its server ${hostOf(token.server)} could not be told. Ask ${token.issuer} to revoke the token for ${token.user}.`;
        if (!reply.serverNotified) kind = 'error';
      }
    } catch (err) {
      text = `${token.tokenName} could not be removed: ${err.message}`;
      kind = 'error';
    }
    done();
    say(tokensStatus, text, kind);
    // The button that opened the dialog is gone when the token is: focus goes to the list.
    if (opener.isConnected) opener.focus();
    else $('tokens-heading').focus();
  }, { signal });
  removeDialog.showModal();
  cancel.focus();
}

