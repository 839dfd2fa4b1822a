// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// The options page's settings: the switches (each an `input[data-setting]`) and the name of
// this browser, which the add section shows and changes. Settings are the one thing pages
// write themselves (store.js).
import { saveSettings } from '../store.js';
import { $, $input, say } from './common.js';

/** @typedef {import('../store.js').Settings} Settings */

const deviceInput = $input('device-name');
const settingsStatus = $('settings-status');
const switches = [.../** @type {NodeListOf<HTMLInputElement>} */ (document.querySelectorAll('input[data-setting]'))];

/**
 * Settings changed here and not yet written: storage news must not flip them back meanwhile.
 * @type {Map<string, number>}
 */
const unwritten = new Map();
let writes = Promise.resolve();

/**
 * Saves one setting. Writes go one after the other: saveSettings reads, changes and writes the
 * whole object, so two at once could lose one.
 * @template {keyof Settings} K
 * @param {K} name
 * @param {Settings[K]} value
 */
export function saveSetting(name, value) {
  unwritten.set(name, (unwritten.get(name) ?? 0) + 1);
  const write = writes.then(() => saveSettings({ [name]: value }));
  writes = write.catch(() => {});
  return write.finally(() => {
    const left = unwritten.get(name) - 1;
    if (left > 0) unwritten.set(name, left);
    else unwritten.delete(name);
  });
}

/** What depends on other switches: buttons on a notification need the notification. */
function renderDependents() {
  $input('approveFromNotification').disabled = !$input('notifications').checked;
  $('paused').hidden = $input('pushEnabled').checked;
}

/** @param {Settings} current */
export function renderSettings(current) {
  for (const input of switches) {
    if (!unwritten.has(input.dataset.setting)) input.checked = Boolean(current[input.dataset.setting]);
  }
  renderDependents();
  if (document.activeElement !== deviceInput && !unwritten.has('deviceName')) {
    deviceInput.value = current.deviceName;
  }
}

for (const input of switches) {
  input.addEventListener('change', async () => {
    // The page's switches are named after the settings they turn on and off.
    const name = /** @type {keyof Settings} */ (input.dataset.setting);
    const label = input.labels[0].textContent;
    const value = input.checked;
    renderDependents();
    try {
      await saveSetting(name, value);
      say(settingsStatus, `${label}: ${value ? 'on' : 'off'}. Saved.`, 'ok');
    } catch (err) {
      input.checked = !value;
      renderDependents();
      say(settingsStatus, `${label} could not be saved: ${err.message}`, 'error');
    }
  });
}
