// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// The unlock prompt for password-protected secrets, shared by the popup and the options page:
// the page turns the typed password into the key (Argon2id in the tools module, which the
// service worker does not load) and sends only the key to the worker, which tries it.
import { Message, ask } from './messages.js';

/** @type {Promise<typeof import('./tools.js')>|null} */
let tools = null;
function loadTools() {
  tools ??= import('./tools.js').then(async (module) => {
    await module.ready;
    return module;
  });
  return tools;
}

/**
 * The key for `password` under the stored salt and costs.
 * @param {string} password
 * @param {import('./store.js').Kdf} kdf
 * @returns {Promise<string>}
 */
export async function keyFor(password, kdf) {
  const { deriveKey } = await loadTools();
  // Argon2id blocks for a moment: let "Checking…" show first.
  await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve)));
  const { salt, memoryKib, iterations, parallelism } = kdf;
  return deriveKey(password, salt, { memoryKib, iterations, parallelism });
}

let count = 0;

/**
 * Fills `container` with a password field and an Unlock button. `onUnlocked` runs once the
 * worker accepted the password.
 * @param {HTMLElement} container
 * @param {{onUnlocked?: () => void}} [options]
 */
export function renderUnlock(container, { onUnlocked = () => {} } = {}) {
  const id = `unlock-password-${++count}`;
  const form = document.createElement('form');
  form.className = 'unlock-form';
  form.noValidate = true;
  const label = document.createElement('label');
  label.htmlFor = id;
  label.textContent = 'Password';
  const intro = document.createElement('p');
  intro.className = 'lead';
  intro.textContent = 'PushOTP is locked. Type your password to unlock it.';
  const input = document.createElement('input');
  input.id = id;
  input.type = 'password';
  input.autocomplete = 'current-password';
  const button = document.createElement('button');
  button.type = 'submit';
  button.className = 'primary';
  button.textContent = 'Unlock';
  const status = document.createElement('p');
  status.className = 'unlock-status';
  status.setAttribute('role', 'status');
  status.setAttribute('aria-live', 'polite');
  form.append(intro, label, input, button, status);
  container.replaceChildren(form);
  loadTools();

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const password = input.value;
    if (!password) {
      status.textContent = 'Type your password.';
      input.focus();
      return;
    }
    input.disabled = true;
    button.disabled = true;
    status.textContent = 'Checking…';
    try {
      const { kdf } = await ask({ type: Message.VAULT_STATUS });
      if (kdf) await ask({ type: Message.VAULT_UNLOCK, key: await keyFor(password, kdf) });
      input.value = '';
      status.textContent = '';
      onUnlocked();
    } catch (err) {
      status.textContent = err.code === 'wrong_password' ? 'Wrong password.' : `Could not unlock: ${err.message}`;
      input.disabled = false;
      button.disabled = false;
      input.select();
      input.focus();
    }
  });
  input.focus();
  return form;
}
