// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// The PIN a push token's server requires (docs/protocol.md §6), chosen while the token is
// added: typed twice, digits only, with a warning before giving up that the link is used up.
import { $, $dialog, $input } from './common.js';

const pinDialog = $dialog('pin-dialog');

/**
 * Asks the person to choose a PIN for `token`, typed twice. Resolves with the PIN, or with
 * null when they stop (after being told that the link is used up).
 * @param {import('../messages.js').EnrolledToken} token
 * @returns {Promise<string|null>}
 */
export function choosePin(token) {
  const pin = $input('pin');
  const again = $input('pin-again');
  const error = $('pin-error');
  const fields = $('pin-fields');
  const leave = $('pin-leave');
  $('pin-intro').textContent =
    `${token.issuer} protects ${token.tokenName} for ${token.user} with a PIN. You will type it to approve each sign-in. ` +
    `It is never stored or sent anywhere, so if you forget it you need a new activation link; ${token.pin.maxTries} wrong PINs lock the token, even with right ones in between.`;
  $('pin-leave-text').textContent =
    `If you stop now, ${token.tokenName} is not added. The server has already used up this activation link, so to try again you need a new one from ${token.issuer}.`;
  pin.value = '';
  again.value = '';
  error.textContent = '';
  fields.hidden = false;
  leave.hidden = true;
  for (const input of [pin, again]) input.removeAttribute('aria-invalid');

  return new Promise((resolve) => {
    const controller = new AbortController();
    const { signal } = controller;
    /** @param {string|null} value */
    const finish = (value) => {
      controller.abort();
      pin.value = '';
      again.value = '';
      if (pinDialog.open) pinDialog.close();
      resolve(value);
    };
    const askToLeave = () => {
      fields.hidden = true;
      leave.hidden = false;
      $('pin-back').focus();
    };
    const back = () => {
      leave.hidden = true;
      fields.hidden = false;
      pin.focus();
    };
    /**
     * @param {HTMLInputElement} input
     * @param {string} text
     */
    const invalid = (input, text) => {
      input.setAttribute('aria-invalid', 'true');
      error.textContent = text;
      input.focus();
    };
    for (const input of [pin, again]) {
      input.addEventListener(
        'input',
        () => {
          // Digits only: anything else is dropped as it is typed or pasted.
          const digits = input.value.replace(/\D/g, '').slice(0, 8);
          if (digits !== input.value) input.value = digits;
          input.removeAttribute('aria-invalid');
        },
        { signal },
      );
    }
    $('pin-form').addEventListener(
      'submit',
      (event) => {
        event.preventDefault();
        if (!leave.hidden) return;
        for (const input of [pin, again]) input.removeAttribute('aria-invalid');
        if (!/^\d{4,8}$/.test(pin.value)) {
          invalid(pin, 'The PIN must be 4 to 8 digits.');
        } else if (again.value !== pin.value) {
          again.value = '';
          invalid(again, 'The two PINs are not the same. Type the PIN again.');
        } else {
          finish(pin.value);
        }
      },
      { signal },
    );
    $('pin-cancel').addEventListener('click', askToLeave, { signal });
    $('pin-back').addEventListener('click', back, { signal });
    $('pin-stop').addEventListener('click', () => finish(null), { signal });
    // Escape asks first, as Cancel does; Escape on the warning stops, as the browser closes a
    // dialog anyway when Escape comes twice in a row.
    pinDialog.addEventListener(
      'cancel',
      (event) => {
        if (leave.hidden) {
          event.preventDefault();
          askToLeave();
        }
      },
      { signal },
    );
    pinDialog.addEventListener('close', () => finish(null), { signal });
    pinDialog.showModal();
    pin.focus();
  });
}
