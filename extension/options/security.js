// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// The options page's "Security and backup" section: the password that seals the tokens'
// secrets, the auto-lock time, locking now, and encrypted export and import. Passwords are
// turned into keys here (Argon2id, tools module); the worker gets only keys and does the rest.
import { request } from '../access.js';
import * as tools from '../tools.js';
import { Message, ask } from '../messages.js';
import { onChanged, saveSettings } from '../store.js';
import { keyFor, renderUnlock } from '../unlock.js';
import { otpName } from './codes.js';
import { $, $button, $input, $select, say } from './common.js';

/** @typedef {import('../store.js').Kdf} Kdf */

const MIN_PASSWORD = 8;

/**
 * A fresh salt and the core's costs for a new password or export, with the key for `password`
 * under them.
 * @param {string} password
 * @returns {Promise<{kdf: Kdf, key: string}>}
 */
async function newKey(password) {
  await tools.ready;
  const kdf = /** @type {Kdf} */ (tools.newKdf());
  return { kdf, key: await keyFor(password, kdf) };
}

/**
 * The two typed passwords, or the problem with them.
 * @param {HTMLInputElement} first
 * @param {HTMLInputElement} second
 * @returns {{password?: string, problem?: string}}
 */
function typedTwice(first, second) {
  if (first.value.length < MIN_PASSWORD) return { problem: `The password must have at least ${MIN_PASSWORD} characters.` };
  if (first.value !== second.value) return { problem: 'The two passwords differ.' };
  return { password: first.value };
}

/** @type {import('../messages.js').Replies['vault.status']|null} */
let current = null;

/** The render in progress: renders run one after the other. */
let rendering = Promise.resolve();

/**
 * Shows the vault's state. A lock and an unlock in quick succession (here and in the worker)
 * start renders that overlap: run one after the other, so that the last one shows the state as
 * it is now and the status line compares with what was last shown.
 */
function renderState() {
  rendering = rendering.then(renderStateNow, renderStateNow);
  return rendering;
}

async function renderStateNow() {
  const before = current;
  current = await ask({ type: Message.VAULT_STATUS });
  const { protected: isProtected, locked } = current;
  // A lock or an unlock, here or elsewhere (the popup, auto-lock), replaces what the status line
  // said: "Locked." must not stay once unlocked.
  if (before?.protected && isProtected && before.locked !== locked) {
    say($('password-status'), locked ? 'Locked.' : 'Unlocked.', 'ok');
  }
  $('vault-state').textContent = !isProtected
    ? 'No password: the secrets of your tokens are stored unencrypted in this browser profile.'
    : locked
      ? 'Locked: the secrets of your tokens are encrypted with your password.'
      : 'Unlocked: the secrets of your tokens are encrypted with your password.';
  $('vault-unlock').hidden = !locked;
  if (locked && !$('vault-unlock').firstChild) renderUnlock($('vault-unlock'), { onUnlocked: renderState });
  if (!locked) $('vault-unlock').replaceChildren();
  $('password-save').textContent = isProtected ? 'Change password' : 'Set password';
  $('password-remove').hidden = !isProtected;
  $('password-first').hidden = isProtected;
  $('lock-now').hidden = !isProtected || locked;
  $select('auto-lock').value = String(current.autoLockMinutes);
}

$('password-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const status = $('password-status');
  const { password, problem } = typedTwice($input('new-password'), $input('new-password-again'));
  if (problem) return say(status, problem, 'error');
  say(status, 'Encrypting…');
  try {
    const { key, kdf } = await newKey(password);
    await ask({ type: Message.VAULT_SET_PASSWORD, key, kdf });
    $input('new-password').value = '';
    $input('new-password-again').value = '';
    say(status, 'Password saved. The secrets are encrypted with it.', 'ok');
  } catch (err) {
    say(status, err.code === 'locked' ? 'Unlock first.' : `The password could not be set: ${err.message}`, 'error');
  }
  return renderState();
});

$('password-remove').addEventListener('click', async () => {
  const status = $('password-status');
  try {
    await ask({ type: Message.VAULT_REMOVE_PASSWORD });
    say(status, 'Password removed. The secrets are stored unencrypted.', 'ok');
  } catch (err) {
    say(status, err.code === 'locked' ? 'Unlock first.' : `The password could not be removed: ${err.message}`, 'error');
  }
  return renderState();
});

$('lock-now').addEventListener('click', async () => {
  await ask({ type: Message.VAULT_LOCK });
  return renderState();
});

$select('auto-lock').addEventListener('change', async () => {
  await saveSettings({ autoLockMinutes: Number($select('auto-lock').value) });
  say($('password-status'), 'Auto-lock time saved.', 'ok');
});

/** pushotp-export-YYYY-MM-DD.json, today's local date. */
function exportName(now = new Date()) {
  const pad = (/** @type {number} */ n) => String(n).padStart(2, '0');
  return `pushotp-export-${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}.json`;
}

$('export-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const status = $('export-status');
  const { password, problem } = typedTwice($input('export-password'), $input('export-password-again'));
  if (problem) return say(status, problem, 'error');
  say(status, 'Encrypting…');
  try {
    const { key, kdf } = await newKey(password);
    const { file } = await ask({ type: Message.VAULT_EXPORT, key, kdf });
    const url = URL.createObjectURL(new Blob([JSON.stringify(file, null, 2)], { type: 'application/json' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = exportName();
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    $input('export-password').value = '';
    $input('export-password-again').value = '';
    return say(status, `Exported to ${link.download}.`, 'ok');
  } catch (err) {
    return say(status, err.code === 'locked' ? 'Unlock first to export.' : `Export failed: ${err.message}`, 'error');
  }
});

/** `n token(s)`. */
const tokens = (/** @type {number} */ n) => (n === 1 ? '1 token' : `${n} tokens`);

/**
 * A name from the file, shown as text: what the rules refused in it (control and format
 * characters) shows as U+FFFD, and a long one is cut.
 * @param {string} name
 */
const shownName = (name) => {
  const visible = name.replace(/[\p{Cc}\p{Cf}]/gu, '\uFFFD');
  return visible.length > 64 ? `${visible.slice(0, 63)}…` : visible;
};

/**
 * A token the import refused, named as the page names tokens, with the rule it broke.
 * @param {import('../vault.js').ImportRefusal} t
 */
const refusal = (t) => `${shownName(t.kind === 'otp' ? otpName(t) : t.tokenName || 'Unnamed push token')} (${t.reason})`;

/**
 * What an import did, and why it added fewer tokens than the file holds.
 * @param {import('../vault.js').ImportCounts} counts
 */
function importSummary({ added, present, unreadable, invalid, unreachable, restoredElsewhere, refused }) {
  const reasons = [];
  if (present > 0) {
    if (added === 0 && unreadable + invalid.length + unreachable + restoredElsewhere + refused === 0) {
      reasons.push(present === 1 ? 'the one in the file is already here' : present === 2 ? 'both are already here' : `all ${present} are already here`);
    } else {
      reasons.push(`${present === 1 ? '1 was' : `${present} were`} already here`);
    }
  }
  if (unreadable > 0) reasons.push(`${unreadable === 1 ? '1 entry' : `${unreadable} entries`} of the file could not be read`);
  if (invalid.length > 0) {
    const which = invalid.map(refusal).join('; ');
    reasons.push(`${invalid.length === 1 ? '1 was not added because it breaks' : `${invalid.length} were not added because they break`} the rules every new token meets: ${which}`);
  }
  const push = (/** @type {number} */ n) => (n === 1 ? '1 push token was' : `${n} push tokens were`);
  if (unreachable > 0) reasons.push(`${push(unreachable)} not added because its server could not be reached; import the file again when it can be`);
  if (restoredElsewhere > 0) reasons.push(`${push(restoredElsewhere)} not added because another browser restored it after this file was made; use that browser, or export from it`);
  if (refused > 0) reasons.push(`${push(refused)} not added because its server refused it (removed or revoked there)`);
  if (added === 0 && reasons.length === 0) return 'Added 0 tokens: the file holds none.';
  return `Added ${tokens(added)}${reasons.length ? `: ${reasons.join('; ')}` : ''}.`;
}

/**
 * Imports `file` with `key`, and says how it went. A file whose push tokens are restored at a
 * server PushOTP may not reach yet imports nothing: the person is offered to allow it (the
 * button's click is what the browser needs before it asks), and then it is imported.
 * @param {object} file
 * @param {string} key
 */
async function importWith(file, key) {
  const status = $('import-status');
  const allow = $button('import-allow');
  allow.hidden = true;
  try {
    const counts = await ask({ type: Message.VAULT_IMPORT, file, key });
    const missing = counts.unreadable + counts.invalid.length + counts.unreachable + counts.restoredElsewhere + counts.refused;
    return say(status, importSummary(counts), missing === 0 ? 'ok' : 'error');
  } catch (err) {
    if (err.code !== 'no_access') throw err;
    const servers = /** @type {string[]} */ (err.detail.servers);
    say(status, `${err.message} Press Allow access, and your browser asks you.`, 'error');
    allow.hidden = false;
    allow.onclick = async () => {
      allow.disabled = true;
      // Within the click: the browser asks the person now.
      const granted = await request(servers);
      allow.disabled = false;
      if (!granted) return say(status, `PushOTP still may not reach ${servers.map((o) => new URL(o).host).join(', ')}: nothing was imported.`, 'error');
      say(status, 'Importing…');
      await importWith(file, key).catch((e) => say(status, `Import failed: ${e.message}`, 'error'));
    };
  }
}

$('import-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const status = $('import-status');
  $button('import-allow').hidden = true;
  const chosen = $input('import-file').files[0];
  if (!chosen) return say(status, 'Choose an export file.', 'error');
  let file;
  try {
    file = JSON.parse(await chosen.text());
    if (file?.format !== 'pushotp-export' || typeof file.kdf?.salt !== 'string') throw new Error('format');
  } catch {
    return say(status, 'This is not a PushOTP export file.', 'error');
  }
  const password = $input('import-password').value;
  if (!password) return say(status, "Type the file's password.", 'error');
  say(status, 'Checking…');
  try {
    await tools.ready;
    const key = await keyFor(password, file.kdf);
    $input('import-password').value = '';
    await importWith(file, key);
  } catch (err) {
    const text = {
      wrong_password: 'Wrong password for this file.',
      locked: 'Unlock first to import.',
      invalid_file: 'This is not a PushOTP export file.',
    }[err.code];
    return say(status, text ?? `Import failed: ${err.message}`, 'error');
  }
});

onChanged((changes) => {
  if (changes.vaultKey || changes.secrets || changes.settings) renderState();
});

renderState();
