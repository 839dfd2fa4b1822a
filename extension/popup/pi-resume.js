// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// privacyIDEA tokens with a PIN that cannot poll yet in this browser session: their device key
// comes from a seed masked with the PIN (docs/privacyidea.md, "PIN"), and privacyIDEA asks
// for a signed poll. After a browser restart, or a lock, each is listed with a PIN field; the
// worker polls with the key that PIN gives (`pi.resume`) and, when privacyIDEA accepts it,
// keeps polling for the rest of the session.
import { Message, ask } from '../messages.js';
import { $, find, fromTemplate } from './common.js';

export const resumeState = {
  /** @type {{[serial: string]: import('../store.js').PiToken}} */
  piTokens: {},
  /** Serials whose seed this session holds (session storage `piSeeds`, its keys only). */
  /** @type {string[]} */
  awake: [],
};

/** @param {import('../store.js').PiToken} token */
const asksForPin = (token) => Boolean(token.pin || token.appForceUnlock);

/** Lists the PIN tokens that cannot poll now, keeping a form that is in use. */
export function renderPiResume() {
  const list = $('pi-resume-list');
  const asleep = Object.values(resumeState.piTokens).filter((t) => t.enabled && asksForPin(t) && !resumeState.awake.includes(t.serial));
  for (const item of [...list.children]) {
    if (!asleep.some((t) => t.serial === /** @type {HTMLElement} */ (item).dataset.serial)) item.remove();
  }
  for (const token of asleep) {
    if (find(list, `li[data-serial="${CSS.escape(token.serial)}"]`)) continue;
    list.append(tokenForm(token));
  }
  $('pi-resume').hidden = asleep.length === 0;
}

/** @param {import('../store.js').PiToken} token */
function tokenForm(token) {
  const item = fromTemplate('pi-resume-template');
  item.dataset.serial = token.serial;
  const id = `pi-resume-${token.serial.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  /** @type {HTMLLabelElement} */
  const label = find(item, 'label');
  /** @type {HTMLInputElement} */
  const input = find(item, 'input');
  /** @type {HTMLButtonElement} */
  const button = find(item, 'button');
  const status = find(item, '.pi-resume-status');
  label.textContent = `PIN of ${token.label || token.serial} (${token.issuer})`;
  label.htmlFor = id;
  input.id = id;
  input.addEventListener('input', () => {
    const digits = input.value.replace(/\D/g, '');
    if (digits !== input.value) input.value = digits;
  });
  find(item, 'form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const pin = input.value;
    if (!/^\d{1,64}$/.test(pin)) {
      status.textContent = 'Type the PIN (digits only).';
      input.focus();
      return;
    }
    input.value = '';
    input.disabled = true;
    button.disabled = true;
    status.textContent = 'Asking privacyIDEA…';
    try {
      await ask({ type: Message.PI_RESUME, serial: token.serial, pin });
      status.textContent = '';
    } catch (err) {
      status.textContent = err.message;
      input.disabled = false;
      button.disabled = false;
      input.focus();
    }
  });
  return item;
}
