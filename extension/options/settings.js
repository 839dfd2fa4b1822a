// SPDX-License-Identifier: MIT OR Apache-2.0
// The options page's settings: the switches (each an `input[data-setting]`) and the name of
// this browser, which the add section shows and changes. Settings are the one thing pages
// write themselves (store.js).
import { saveSettings } from '../store.js';
import { $, say } from './common.js';

const deviceInput = $('device-name');
const settingsStatus = $('settings-status');
const switches = [...document.querySelectorAll('input[data-setting]')];

/** Settings changed here and not yet written: storage news must not flip them back meanwhile. */
const unwritten = new Map();
let writes = Promise.resolve();

/**
 * Saves one setting. Writes go one after the other: saveSettings reads, changes and writes the
 * whole object, so two at once could lose one.
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
  $('approveFromNotification').disabled = !$('notifications').checked;
  $('paused').hidden = $('pushEnabled').checked;
}

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
    const name = input.dataset.setting;
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
