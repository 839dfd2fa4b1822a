// SPDX-License-Identifier: MIT OR Apache-2.0
// The content script of every page: fills a passcode the service worker hands over after an
// approval, into this frame's one-time-code field, and only when this frame's origin is the one
// the request came from. A classic script (content scripts cannot be modules), so it is wrapped
// to keep its names out of the page's isolated world.
(() => {
  const FILL_PASSCODE = 'fill.passcode';
  const HINT = /(one.?time|otp|totp|passcode|2fa|mfa|verification.?code|security.?code|auth.?code)/i;

  function visible(input) {
    if (input.disabled || input.readOnly || input.type === 'hidden') return false;
    const box = input.getBoundingClientRect();
    return box.width > 0 && box.height > 0 && getComputedStyle(input).visibility !== 'hidden';
  }

  function describe(input) {
    const label = input.labels?.[0]?.textContent ?? '';
    return [input.name, input.id, input.placeholder, input.getAttribute('aria-label'), label].join(' ');
  }

  /** The field a person would type the passcode into, or null. */
  function passcodeField() {
    const inputs = [...document.querySelectorAll('input')].filter(visible);
    return (
      inputs.find((i) => i.autocomplete === 'one-time-code') ??
      inputs.find((i) => /^(text|tel|number|password)$/.test(i.type) && HINT.test(describe(i))) ??
      null
    );
  }

  /** Sets the value as typing would, so that frameworks watching input events see it. */
  function type(input, value) {
    input.focus();
    const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
    setter.call(input, value);
    input.dispatchEvent(new Event('input', { bubbles: true }));
    input.dispatchEvent(new Event('change', { bubbles: true }));
  }

  chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
    if (sender.id !== chrome.runtime.id || message?.type !== FILL_PASSCODE) return false;
    if (message.origin !== location.origin || !/^\d{6,10}$/.test(message.passcode ?? '')) {
      sendResponse({ filled: false });
      return false;
    }
    const field = passcodeField();
    if (!field) {
      sendResponse({ filled: false });
      return false;
    }
    type(field, message.passcode);
    field.dataset.pushotpFilled = 'true';
    if (message.submit) field.form?.requestSubmit();
    sendResponse({ filled: true });
    return false;
  });
})();
