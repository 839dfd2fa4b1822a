// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// Adding everyday codes on the options page: from an otpauth:// or otpauth-migration:// link
// (pasted, or scanned from the QR code in another tab, with a preview of what will be added),
// or typed in field by field. The core parses and checks them; the worker stores them.
import * as tools from '../tools.js';
import { Message, ask } from '../messages.js';
import { $, $button, $form, $input, $select, Problem, say } from './common.js';
import { otpKind, otpName } from './codes.js';
import { ENROLL_PREFIX, OTPAUTH, hideTabChoice, scan, tabLabel } from './scan.js';

/** @typedef {import('../messages.js').NewOtpToken} NewOtpToken */

const otpLinkForm = $('otp-link-form');
const otpLinkInput = $input('otp-link');
const otpStatus = $('otp-status');
const otpPreview = $('otp-preview');
const otpManualForm = $form('otp-manual-form');

/**
 * What a core error code means for a typed-in or scanned code.
 * @param {{code?: string, message?: string}} err
 */
function otpProblem(err) {
  switch (err?.code) {
    case 'empty_secret':
    case 'missing_secret':
      return 'The secret key is missing.';
    case 'invalid_base32':
      return 'The secret key is not valid: it may only contain the letters A to Z and the digits 2 to 7.';
    case 'too_long':
      return 'The secret key is too long.';
    case 'invalid_digits':
      return 'Codes must have 6 to 10 digits.';
    case 'invalid_period':
      return 'The period must be a whole number of seconds, at least 1.';
    case 'unknown_algorithm':
      return 'The algorithm must be SHA-1, SHA-256 or SHA-512.';
    case 'unknown_token_type':
      return 'The code must be time-based (TOTP) or counter-based (HOTP).';
    case 'missing_counter':
      return 'A counter-based (HOTP) link needs its counter.';
    case 'wrong_scheme':
      return 'This is not a one-time code link. It must start with otpauth:// or otpauth-migration://.';
    case 'malformed_uri':
      return 'This link is damaged: part of it is not as expected. Copy the whole link again.';
    case 'invalid_migration':
      return 'This Google Authenticator export link is damaged. Export the codes again.';
    case 'invalid_parameter':
      return `A value is not valid (${err.message}).`;
    case 'locked':
      return 'PushOTP is locked. Unlock it first, then add the codes again.';
    default:
      return `The code cannot be added (${err?.message ?? err}).`;
  }
}

/**
 * The tokens of one otpauth:// or otpauth-migration:// link (the core's parsers).
 * @param {string} link
 * @returns {NewOtpToken[]}
 */
function tokensOf(link) {
  if (/^otpauth-migration:/i.test(link)) return tools.importMigration(link).tokens;
  return [tools.parseUri(link)];
}

/** @param {boolean} busy */
function setOtpBusy(busy) {
  otpLinkForm.setAttribute('aria-busy', String(busy));
  for (const element of [$button('otp-link-add'), $button('otp-scan'), otpLinkInput]) element.disabled = busy;
}

/**
 * Codes found in a link or a QR code, waiting for "Add all".
 * @type {NewOtpToken[]}
 */
let proposed = [];

function hidePreview() {
  proposed = [];
  otpPreview.hidden = true;
  $('otp-preview-list').replaceChildren();
}

/**
 * Shows the codes that will be added, for the person to add them all or cancel.
 * @param {NewOtpToken[]} tokens
 */
function propose(tokens) {
  proposed = tokens;
  $('otp-preview-label').textContent =
    tokens.length === 1 ? 'This code will be added:' : `These ${tokens.length} codes will be added:`;
  $('otp-preview-list').replaceChildren(
    ...tokens.map((token) => {
      const item = document.createElement('li');
      item.textContent = `${otpName(token)} (${otpKind(token)})`;
      return item;
    }),
  );
  $('otp-preview-add').textContent = tokens.length === 1 ? 'Add it' : `Add all ${tokens.length}`;
  otpPreview.hidden = false;
  say(otpStatus, '');
  $('otp-preview-add').focus();
}

/**
 * Hands tokens to the worker and says what happened.
 * @param {NewOtpToken[]} tokens
 */
async function addOtp(tokens) {
  say(otpStatus, 'Adding…');
  try {
    const { ids, skipped } = await ask({ type: Message.OTP_ADD, tokens });
    const parts = [];
    if (ids.length > 0) parts.push(ids.length === 1 ? 'Added 1 code.' : `Added ${ids.length} codes.`);
    if (skipped.length > 0) {
      parts.push(`Already here, not added again: ${skipped.map(otpName).join(', ')}.`);
    }
    say(otpStatus, parts.join(' '), ids.length > 0 ? 'ok' : 'error');
    return true;
  } catch (err) {
    say(otpStatus, otpProblem(err), 'error');
    return false;
  }
}

/**
 * The codes of several links (from a QR code scan or pasted), or a message saying why not.
 * @param {string[]} links
 */
function collect(links) {
  const tokens = [];
  for (const link of links) {
    try {
      tokens.push(...tokensOf(link));
    } catch (err) {
      throw new Problem(otpProblem(err));
    }
  }
  return tokens;
}

otpLinkForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  hidePreview();
  const link = otpLinkInput.value.trim();
  otpLinkInput.removeAttribute('aria-invalid');
  if (link === '') {
    otpLinkInput.setAttribute('aria-invalid', 'true');
    say(otpStatus, 'Paste an otpauth:// link first, or scan its QR code.', 'error');
    otpLinkInput.focus();
    return;
  }
  let tokens;
  try {
    await tools.ready;
    tokens = collect([link]);
  } catch (err) {
    otpLinkInput.setAttribute('aria-invalid', 'true');
    say(otpStatus, err instanceof Problem ? err.message : otpProblem(err), 'error');
    otpLinkInput.focus();
    return;
  }
  if (tokens.length === 0) {
    say(otpStatus, 'This export link holds no codes.', 'error');
  } else if (tokens.length === 1) {
    if (await addOtp(tokens)) otpLinkInput.value = '';
  } else {
    otpLinkInput.value = '';
    propose(tokens);
  }
});

$('otp-preview-add').addEventListener('click', async () => {
  const tokens = proposed;
  hidePreview();
  if (tokens.length > 0) await addOtp(tokens);
  otpLinkInput.focus();
});
$('otp-preview-cancel').addEventListener('click', () => {
  hidePreview();
  say(otpStatus, 'Nothing was added.');
  otpLinkInput.focus();
});

/** @type {import('./scan.js').ScanKind} */
const OTP_SCAN = {
  accepts: (text) => OTPAUTH.test(text),
  wrong(tab, texts) {
    if (texts.some((text) => text.startsWith(ENROLL_PREFIX))) {
      return `The QR code in ${tabLabel(tab)} is a PushOTP activation link: add it under "Add a push token".`;
    }
    return `The QR code in ${tabLabel(tab)} is not a one-time code (otpauth://).`;
  },
  what: 'the one-time code QR code',
  status: otpStatus,
  button: $button('otp-scan'),
  choice: $('otp-tab-choice'),
  list: $('otp-tab-list'),
  setBusy: setOtpBusy,
  use(links) {
    try {
      const tokens = collect(links);
      if (tokens.length === 0) say(otpStatus, 'The QR code holds no codes.', 'error');
      else propose(tokens);
    } catch (err) {
      say(otpStatus, err.message, 'error');
    }
  },
};

$('otp-scan').addEventListener('click', () => {
  hidePreview();
  scan(OTP_SCAN);
});
$('otp-tab-choice-cancel').addEventListener('click', () => {
  hideTabChoice(OTP_SCAN);
  say(otpStatus, '');
  $('otp-scan').focus();
});

// Typed in ------------------------------------------------------------------------------------

$('otp-type').addEventListener('change', () => {
  const hotp = $select('otp-type').value === 'hotp';
  $('otp-period-field').hidden = hotp;
  $('otp-counter-field').hidden = !hotp;
});

/**
 * The field a core error code is about.
 * @type {{[code: string]: string}}
 */
const FIELD_OF = {
  empty_secret: 'otp-secret',
  missing_secret: 'otp-secret',
  invalid_base32: 'otp-secret',
  too_long: 'otp-secret',
  invalid_digits: 'otp-digits',
  invalid_period: 'otp-period',
};

otpManualForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  for (const input of otpManualForm.querySelectorAll('input')) input.removeAttribute('aria-invalid');
  /**
   * @param {string} id
   * @param {string} text
   */
  const invalid = (id, text) => {
    $(id).setAttribute('aria-invalid', 'true');
    say(otpStatus, text, 'error');
    $(id).focus();
  };
  const issuer = $input('otp-issuer').value.trim();
  const account = $input('otp-account').value.trim();
  if (!issuer && !account) return invalid('otp-issuer', 'Give the code an issuer or an account name, so that you can tell it apart.');
  // The select offers the two types only.
  const type = /** @type {'totp'|'hotp'} */ ($select('otp-type').value);
  const number = (/** @type {string} */ id) => (/^\d+$/.test($input(id).value.trim()) ? Number($input(id).value.trim()) : NaN);
  const digits = number('otp-digits');
  if (!Number.isInteger(digits)) return invalid('otp-digits', otpProblem({ code: 'invalid_digits' }));
  /** @type {NewOtpToken} */
  const token = { type, issuer, account, secret: $input('otp-secret').value, algorithm: $select('otp-algorithm').value, digits };
  if (type === 'totp') {
    token.period = number('otp-period');
    if (!Number.isInteger(token.period) || token.period < 1) return invalid('otp-period', otpProblem({ code: 'invalid_period' }));
  } else {
    token.counter = number('otp-counter');
    if (!Number.isSafeInteger(token.counter)) return invalid('otp-counter', 'The counter must be a whole number, 0 or more.');
  }
  let parsed;
  try {
    await tools.ready;
    // The core's own checks and canonical form: the token as a link and back.
    parsed = tools.parseUri(tools.formatUri(token));
  } catch (err) {
    return invalid(FIELD_OF[err?.code] ?? 'otp-secret', otpProblem(err));
  }
  if (await addOtp([parsed])) {
    otpManualForm.reset();
    $('otp-type').dispatchEvent(new Event('change'));
    $('otp-issuer').focus();
  }
});
