// SPDX-License-Identifier: MIT OR Apache-2.0
// The options page's "Add a push token" section: adds a push token from an activation link,
// pasted, handed over in the page's address, or scanned from the QR code in another tab.
//
// Enrollment runs here, not in the service worker: the page redeems the link with the server
// (docs/protocol.md §3), asks for a PIN when the server requires one (§6, push-pin.js), and
// hands the finished token to the worker, the only writer of tokens.
import * as tools from '../tools.js';
import { Message, ask } from '../messages.js';
import { pushTokens } from '../store.js';
import { $, Problem, say } from './common.js';
import { choosePin } from './push-pin.js';
import { ENROLL_PREFIX, OTPAUTH, hideTabChoice, scan, tabLabel } from './scan.js';
import { saveSetting } from './settings.js';

const form = $('add-form');
const linkInput = $('link');
const deviceInput = $('device-name');
const addButton = $('add');
const scanButton = $('scan');
const addStatus = $('add-status');
const retryButton = $('retry-save');

const SERVER_TIMEOUT_MS = 20_000;

/** Why a link cannot be used, from the core's error code. */
function linkProblem(err) {
  switch (err?.code) {
    case 'expired':
      return 'This activation link has expired. Ask your organization for a new one.';
    case 'unsupported_version':
      return 'This activation link is for a newer version of PushOTP. Update the extension, or ask your organization for a link for this version.';
    case 'missing_parameter':
      return 'This activation link is incomplete: part of it is missing. Copy the whole link again.';
    case 'too_long':
      return 'This is too long to be an activation link. Copy only the link that starts with pushotp://enroll?';
    case 'wrong_scheme':
      return 'This is not a PushOTP activation link. It must start with pushotp://enroll?';
    case 'malformed_uri':
    case 'invalid_parameter':
    case 'invalid_base32':
      return 'This activation link is damaged: part of it is not as PushOTP expects. Copy the whole link again.';
    default:
      return `This activation link cannot be used (${err?.message ?? err}).`;
  }
}

/** Whether a device name fits the protocol's text rule (§ field rules). */
function deviceNameProblem(name) {
  if (name === '') return 'Give this browser a name, such as "Chrome on my laptop".';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) return 'The browser name cannot contain control characters.';
  if (new TextEncoder().encode(name).length > 256) return 'The browser name is too long.';
  return null;
}

/** Redeems the link with its server: the server's JSON answer, or a Problem. */
async function redeem(started) {
  const host = new URL(started.server).host;
  let reply;
  try {
    reply = await fetch(`${started.server}/api/v1/enroll`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(started.request),
      credentials: 'omit',
      cache: 'no-store',
      signal: AbortSignal.timeout(SERVER_TIMEOUT_MS),
    });
  } catch (err) {
    if (err?.name === 'TimeoutError') {
      throw new Problem(`The server ${host} did not answer in time. Try again later; the link has not been used.`);
    }
    throw new Problem(`Could not reach the server ${host}. Check your network connection and try again; the link has not been used.`);
  }
  if (reply.status === 401) {
    throw new Problem('This activation link was already used or has expired. Ask your organization for a new one.');
  }
  if (reply.status === 429) {
    throw new Problem(`The server ${host} is getting too many requests. Wait a minute and try again.`);
  }
  if (reply.status >= 500) {
    throw new Problem(`The server ${host} had a problem (error ${reply.status}). Try again later; the link has not been used.`);
  }
  let body = null;
  try {
    body = await reply.json();
  } catch {
    // Not JSON: said below.
  }
  if (!reply.ok) {
    const detail = typeof body?.message === 'string' ? `: ${body.message}` : '';
    throw new Problem(`The server ${host} refused to add the token (error ${reply.status}${detail}).`);
  }
  if (body === null || typeof body !== 'object') {
    throw new Problem(`The address ${host} in the link did not answer as a PushOTP server does.`);
  }
  return body;
}

/** The token of a pending, accepted enrollment that is not yet saved. */
let unsaved = null;

function warnBeforeLeaving(event) {
  event.preventDefault();
}

function holdUnsaved(token) {
  unsaved = token;
  window.addEventListener('beforeunload', warnBeforeLeaving);
}

function releaseUnsaved() {
  unsaved = null;
  window.removeEventListener('beforeunload', warnBeforeLeaving);
}

/** Where the focus was when the form became busy: disabling its controls drops the focus. */
let focusBeforeBusy = null;

function setBusy(busy) {
  if (busy && form.getAttribute('aria-busy') !== 'true') focusBeforeBusy = document.activeElement;
  form.setAttribute('aria-busy', String(busy));
  for (const element of [addButton, scanButton, linkInput, deviceInput]) element.disabled = busy;
  const lost = document.activeElement === document.body || document.activeElement === null;
  if (!busy && lost && focusBeforeBusy?.isConnected) focusBeforeBusy.focus();
}

/**
 * Adds the token of one activation link. Every outcome ends in a message in the add section;
 * once the server has accepted the link, the person is never left without knowing that it is
 * used up.
 */
async function enroll(link) {
  if (unsaved) {
    say(addStatus, `The server already accepted ${unsaved.tokenName}: save it first with "Try saving again", then add the next token.`, 'error');
    retryButton.focus();
    return;
  }
  linkInput.removeAttribute('aria-invalid');
  const deviceName = deviceInput.value.trim();
  const nameProblem = deviceNameProblem(deviceName);
  if (nameProblem) {
    deviceInput.setAttribute('aria-invalid', 'true');
    say(addStatus, nameProblem, 'error');
    deviceInput.focus();
    return;
  }
  if (link === '') {
    linkInput.setAttribute('aria-invalid', 'true');
    say(addStatus, 'Paste an activation link first, or scan its QR code.', 'error');
    linkInput.focus();
    return;
  }
  setBusy(true);
  say(addStatus, 'Adding the token…');
  try {
    await tools.ready;
    let started;
    try {
      started = tools.enrollRequest(link, deviceName, Date.now());
    } catch (err) {
      linkInput.setAttribute('aria-invalid', 'true');
      throw new Problem(linkProblem(err));
    }
    const known = (await pushTokens())[started.tokenId];
    if (known) {
      throw new Problem(`This activation link was already used: its token, ${known.tokenName} for ${known.user} at ${known.issuer}, is already in this browser.`);
    }
    const reply = await redeem(started);
    let token;
    try {
      token = tools.completeEnrollment(link, started.request, reply);
    } catch (err) {
      // The server may have spent the link, but its answer cannot be trusted.
      const why = err?.code === 'bad_tag'
        ? 'its answer did not verify, so it may have been changed on the way'
        : 'its answer was not as the protocol requires';
      throw new Problem(`The server ${new URL(started.server).host} accepted the link, but ${why}. The token was not added, and the link is probably used up: ask your organization for a new one, and use a network you trust.`);
    }
    // From here on the link is spent: the token exists only in this page until it is saved.
    token = { ...token, server: started.server, deviceName };
    holdUnsaved(token);
    if (token.pin.required) {
      const pin = await choosePin(token);
      if (pin === null) {
        releaseUnsaved();
        throw new Problem(`${token.tokenName} was not added, because no PIN was chosen. The activation link is used up now: ask ${token.issuer} for a new one to try again.`);
      }
      say(addStatus, 'Protecting the token with your PIN…');
      // Lets the message paint before the Argon2id work blocks the page for a moment.
      await new Promise((resolve) => setTimeout(resolve, 30));
      const masked = tools.maskKeys(token.keys.otp, token.keys.answer, pin);
      const keys = { ...token.keys };
      delete keys.otp;
      delete keys.answer;
      token = { ...token, keys, masked };
      holdUnsaved(token);
    }
    await save();
    linkInput.value = '';
  } catch (err) {
    let text = err instanceof Problem ? err.message : `The token could not be added: ${err?.message ?? err}.`;
    if (unsaved && !(err instanceof Problem)) {
      // Failed after the server accepted the link, before anything could be saved.
      text += ` The activation link is used up now: ask ${unsaved.issuer} for a new one to try again.`;
      releaseUnsaved();
    }
    say(addStatus, text, 'error');
  } finally {
    setBusy(false);
  }
}

/** Hands the accepted token to the service worker; on failure offers to try again. */
async function save() {
  const token = unsaved;
  try {
    await ask({ type: Message.TOKEN_ADD, token });
  } catch (err) {
    retryButton.hidden = false;
    throw new Problem(`The server accepted ${token.tokenName}, but PushOTP could not save it (${err.message}). Try saving again. If you close this page first, the token is lost and you need a new activation link.`);
  }
  releaseUnsaved();
  retryButton.hidden = true;
  const pin = token.masked ? ' It is protected by your PIN.' : '';
  say(addStatus, `Added ${token.tokenName} for ${token.user} at ${token.issuer}.${pin}`, 'ok');
}

retryButton.addEventListener('click', async () => {
  if (!unsaved) return;
  retryButton.disabled = true;
  say(addStatus, 'Saving the token…');
  try {
    await save();
    linkInput.value = '';
    linkInput.focus();
  } catch (err) {
    say(addStatus, err.message, 'error');
  } finally {
    retryButton.disabled = false;
  }
});

form.addEventListener('submit', (event) => {
  event.preventDefault();
  enroll(linkInput.value.trim());
});

linkInput.addEventListener('input', () => linkInput.removeAttribute('aria-invalid'));

deviceInput.addEventListener('change', async () => {
  const name = deviceInput.value.trim();
  if (deviceNameProblem(name)) return;
  deviceInput.removeAttribute('aria-invalid');
  try {
    await saveSetting('deviceName', name);
  } catch (err) {
    say(addStatus, `The browser name could not be saved: ${err.message}`, 'error');
  }
});

/** @type {import('./scan.js').ScanKind} */
const ENROLL_SCAN = {
  accepts: (text) => text.startsWith(ENROLL_PREFIX),
  wrong(tab, texts) {
    if (texts.some((text) => OTPAUTH.test(text))) {
      return `The QR code in ${tabLabel(tab)} is for a one-time code app (otpauth://), not a PushOTP activation link. Add it under Everyday codes.`;
    }
    return `The QR code in ${tabLabel(tab)} is not a PushOTP activation link.`;
  },
  what: 'the activation QR code',
  status: addStatus,
  button: scanButton,
  choice: $('tab-choice'),
  list: $('tab-list'),
  setBusy: (busy) => setBusy(busy),
  starting() {
    retryButton.hidden = true;
  },
  async use([link]) {
    linkInput.value = link;
    await enroll(link);
  },
};

scanButton.addEventListener('click', () => scan(ENROLL_SCAN));
$('tab-choice-cancel').addEventListener('click', () => {
  hideTabChoice(ENROLL_SCAN);
  say(addStatus, '');
  scanButton.focus();
});

tools.ready.catch((err) => {
  say(addStatus, `PushOTP could not load its enrollment tools: ${err.message}`, 'error');
  addButton.disabled = true;
  scanButton.disabled = true;
});

/**
 * A link handed over in the address (`options.html#enroll=<link, percent-encoded>`, as the demo
 * command opens the page) is filled in for the person to add; it leaves the address at once, so
 * that the secret is not kept in the tab's history.
 */
export function linkFromAddress() {
  const match = /^#enroll=(.+)$/.exec(location.hash);
  if (!match) return;
  history.replaceState(null, '', location.pathname);
  try {
    linkInput.value = decodeURIComponent(match[1]);
  } catch {
    return;
  }
  say(addStatus, 'An activation link was filled in. Check the name of this browser, then press Add.');
  addButton.focus();
}
