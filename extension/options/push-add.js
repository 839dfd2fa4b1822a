// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// The options page's "Add a push token" section: adds a push token from an activation link,
// pasted, handed over in the page's address, or scanned from the QR code in another tab.
//
// Enrollment runs in the service worker (`token.enroll`, enroll.js): it redeems the link with
// the server (docs/protocol.md §3) and saves the token. When the server requires a PIN (§6) the
// link is used up by then and the accepted token waits in the worker while the person chooses
// one (push-pin.js); `token.enrollFinish` masks the keys with it and saves the token. This page
// says how each step went.
import { request, serverOf } from '../access.js';
import * as tools from '../tools.js';
import { Message, ask } from '../messages.js';
import { fillSentence } from '../words.js';
import { $, $button, $input, Problem, insecureServer, say } from './common.js';
import { choosePin } from './push-pin.js';
import { ENROLL_PREFIX, OTPAUTH, hideTabChoice, scan, tabLabel } from './scan.js';
import { saveSetting } from './settings.js';

/**
 * @typedef {import('../messages.js').EnrolledToken} EnrolledToken
 * @typedef {import('../messages.js').Replies} Replies
 * @typedef {import('../messages.js').TokenEnroll} TokenEnroll
 * @typedef {import('../messages.js').TokenEnrollFinish} TokenEnrollFinish
 */

const form = $('add-form');
const linkInput = $input('link');
const deviceInput = $input('device-name');
const addButton = $button('add');
const scanButton = $button('scan');
const addStatus = $('add-status');
const retryButton = $button('retry-save');
const addConfirm = $('add-confirm');

/**
 * Why a link cannot be used, from the core's error code.
 * @param {{code?: string, message?: string}} err
 */
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
    case 'insecure_server':
      return insecureServer(linkInput.value, 'server');
    default:
      return `This activation link cannot be used (${err?.message ?? err}).`;
  }
}

/**
 * Whether the person gave this browser a name. The protocol's text rule for it (§ field rules:
 * no control or format characters; the field's `maxlength` keeps it within 256 bytes) is the
 * core's, which checks it with the link.
 * @param {string} name
 */
function deviceNameProblem(name) {
  if (name === '') return 'Give this browser a name, such as "Chrome on my laptop".';
  return null;
}

/**
 * An accepted enrollment that is not yet saved: the worker's handle, and what the page shows of
 * its token.
 * @type {{enrollment: string, token: EnrolledToken}|null}
 */
let unsaved = null;

/** @param {BeforeUnloadEvent} event */
function warnBeforeLeaving(event) {
  event.preventDefault();
}

/**
 * @param {string} enrollment
 * @param {EnrolledToken} token
 */
function holdUnsaved(enrollment, token) {
  unsaved = { enrollment, token };
  window.addEventListener('beforeunload', warnBeforeLeaving);
}

/** Forgets the accepted enrollment here; `drop` tells the worker to forget it too. */
function releaseUnsaved({ drop = false } = {}) {
  if (drop && unsaved) ask({ type: Message.TOKEN_ENROLL_CANCEL, enrollment: unsaved.enrollment }).catch(() => {});
  unsaved = null;
  window.removeEventListener('beforeunload', warnBeforeLeaving);
}

// A page closed with an accepted token unsaved gives it up; the worker forgets it.
window.addEventListener('pagehide', () => releaseUnsaved({ drop: true }));

/**
 * What a refusal of the worker means for the person, as a Problem; anything else is returned
 * as it is. A token the server accepted but the worker could not save is held for "Try saving
 * again".
 */
function enrollProblem(err) {
  const detail = err?.detail ?? {};
  const { host } = detail;
  switch (err?.code) {
    case 'invalid_link':
      // The link itself is parsed first; what the core then refuses as a message is the only
      // other thing it checks, the browser's name.
      if (detail.reason === 'invalid_message') {
        deviceInput.setAttribute('aria-invalid', 'true');
        return new Problem('The name of this browser holds characters that do not show (control or formatting characters). Type it again.');
      }
      linkInput.setAttribute('aria-invalid', 'true');
      return new Problem(linkProblem({ code: detail.reason, message: err.message }));
    case 'already_enrolled':
      return new Problem(`This activation link was already used: its token, ${detail.tokenName} for ${detail.user} at ${detail.issuer}, is already in this browser.`);
    case 'timeout':
      return new Problem(`The server ${host} did not answer in time. Try again later; the link has not been used.`);
    case 'unreachable':
      return new Problem(`Could not reach the server ${host}. Check your network connection and try again; the link has not been used.`);
    case 'link_used':
      return new Problem('This activation link was already used or has expired. Ask your organization for a new one. If the page that showed the link now asks you to confirm a code, someone else used the link: choose “It does not match” there.');
    case 'busy':
      return new Problem(`The server ${host} is getting too many requests. Wait a minute and try again.`);
    case 'server_error':
      return new Problem(`The server ${host} had a problem (error ${detail.status}). Try again later; the link has not been used.`);
    case 'refused': {
      const message = typeof detail.message === 'string' ? `: ${detail.message}` : '';
      return new Problem(`The server ${host} refused to add the token (error ${detail.status}${message}).`);
    }
    case 'not_a_server':
      return new Problem(`The address ${host} in the link did not answer as a PushOTP server does.`);
    case 'untrusted_answer': {
      // The server may have spent the link, but its answer cannot be trusted.
      const why = detail.reason === 'bad_tag'
        ? 'its answer did not verify, so it may have been changed on the way'
        : 'its answer was not as the protocol requires';
      return new Problem(`The server ${host} accepted the link, but ${why}. The token was not added, and the link is probably used up: ask your organization for a new one, and use a network you trust.`);
    }
    case 'unknown_enrollment':
      // Too late to save (it waited too long, or the worker dropped it): the link is spent.
      releaseUnsaved();
      retryButton.hidden = true;
      return new Problem('The token the server accepted is no longer waiting to be saved, so it was not added. The activation link is used up now: ask your organization for a new one.');
    case 'save_failed':
      holdUnsaved(detail.enrollment, detail.token);
      retryButton.hidden = false;
      return new Problem(`The server accepted ${detail.token.tokenName}, but PushOTP could not save it (${err.message}). Try saving again. If you close this page first, the token is lost and you need a new activation link.`);
    default:
      return err;
  }
}

/**
 * Asks the worker, turning its refusals into what they mean for the person.
 * @template {TokenEnroll|TokenEnrollFinish} M
 * @param {M} message
 * @returns {Promise<{ok: true} & Replies[M['type']]>}
 */
async function askWorker(message) {
  try {
    return await ask(message);
  } catch (err) {
    throw enrollProblem(err);
  }
}

/**
 * Says that a token was saved.
 * @param {EnrolledToken} token
 */
function added(token) {
  releaseUnsaved();
  retryButton.hidden = true;
  const pin = token.pin.required ? ' It is protected by your PIN.' : '';
  // Where its server declared login pages of its own, codes are typed there too: say where.
  const sites = fillSentence(token);
  say(addStatus, `Added ${token.tokenName} for ${token.user} at ${token.issuer}.${pin}${sites ? ` ${sites}` : ''}`, 'ok');
  showConfirmCode(token.confirmCode);
}

/**
 * Shows the comparison code of the enrollment (docs/protocol.md §3), or hides it (`null`). A
 * link made on the organization's own page ("Add a push authenticator") works only once the
 * person confirms there that the page shows this code; an administrator's link needs nothing.
 * @param {string|null} code  six digits
 */
function showConfirmCode(code) {
  addConfirm.hidden = code === null;
  addConfirm.textContent = '';
  if (code === null) return;
  const shown = document.createElement('strong');
  shown.className = 'confirm-code';
  shown.textContent = `${code.slice(0, 3)} ${code.slice(3)}`;
  addConfirm.append('If the page that showed the link asks you to confirm, check that it shows ', shown, ' before you confirm. If it shows another number, someone else used the link: choose “It does not match” there.');
}

/**
 * Where the focus was when the form became busy: disabling its controls drops the focus.
 * @type {HTMLElement|null}
 */
let focusBeforeBusy = null;

/** @param {boolean} busy */
function setBusy(busy) {
  // What has the focus on this page is one of its HTML elements.
  if (busy && form.getAttribute('aria-busy') !== 'true') focusBeforeBusy = /** @type {HTMLElement} */ (document.activeElement);
  form.setAttribute('aria-busy', String(busy));
  for (const element of [addButton, scanButton, linkInput, deviceInput]) element.disabled = busy;
  const lost = document.activeElement === document.body || document.activeElement === null;
  if (!busy && lost && focusBeforeBusy?.isConnected) focusBeforeBusy.focus();
}

/**
 * Adds the token of one activation link. Every outcome ends in a message in the add section;
 * once the server has accepted the link, the person is never left without knowing that it is
 * used up.
 * @param {string} link
 */
async function enroll(link) {
  if (unsaved) {
    say(addStatus, `The server already accepted ${unsaved.token.tokenName}: save it first with "Try saving again", then add the next token.`, 'error');
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
  // Within the click (the browser asks the person only then), PushOTP asks to reach the server
  // of a link the core accepts; what is wrong with any other, the worker says.
  const server = serverOf(() => tools.enrollRequest(link, deviceName, Date.now()).server);
  const allowed = request([server]);
  setBusy(true);
  showConfirmCode(null);
  say(addStatus, 'Adding the token…');
  try {
    if (!(await allowed)) {
      throw new Problem(`PushOTP needs access to ${server ? new URL(server).host : 'the server'} to receive this token's sign-in requests: the token was not added, and the link still works.`);
    }
    const reply = await askWorker({ type: Message.TOKEN_ENROLL, link, deviceName });
    // The login pages its server declared: asked at once, while the browser still counts the
    // click; where it does not any more, the Sites list offers them.
    if (reply.token.loginOrigins?.length) await request(reply.token.loginOrigins);
    // `added` is true or false: compared with true, the type check knows which reply it is.
    if (reply.added === true) {
      added(reply.token);
    } else {
      // The link is spent: the token waits in the worker for its PIN.
      const { token } = reply;
      holdUnsaved(reply.enrollment, token);
      // The page that showed the link may offer Confirm already: the code shows now.
      showConfirmCode(token.confirmCode);
      const pin = await choosePin(token);
      if (pin === null) {
        // Dropped, and removed at the server: nobody holds it, so nobody may confirm it.
        showConfirmCode(null);
        releaseUnsaved({ drop: true });
        throw new Problem(`${token.tokenName} was not added, because no PIN was chosen. The activation link is used up now: ask ${token.issuer} for a new one to try again.`);
      }
      say(addStatus, 'Protecting the token with your PIN…');
      added((await askWorker({ type: Message.TOKEN_ENROLL_FINISH, enrollment: reply.enrollment, pin })).token);
    }
    linkInput.value = '';
  } catch (err) {
    let text = err instanceof Problem ? err.message : `The token could not be added: ${err?.message ?? err}.`;
    if (unsaved && !(err instanceof Problem)) {
      // Failed after the server accepted the link, before anything could be saved.
      text += ` The activation link is used up now: ask ${unsaved.token.issuer} for a new one to try again.`;
      showConfirmCode(null);
      releaseUnsaved({ drop: true });
    }
    say(addStatus, text, 'error');
  } finally {
    setBusy(false);
  }
}

retryButton.addEventListener('click', async () => {
  if (!unsaved) return;
  retryButton.disabled = true;
  say(addStatus, 'Saving the token…');
  try {
    added((await askWorker({ type: Message.TOKEN_ENROLL_FINISH, enrollment: unsaved.enrollment })).token);
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
  say(addStatus, `PushOTP could not load its QR code reader: ${err.message}`, 'error');
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
