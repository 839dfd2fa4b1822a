// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// Answering the request the popup shows: approve (with its number or option), deny or report,
// the PIN a token may ask for first, and the unlock prompt when the approval keys are sealed
// with the password. Every answer is a message to the service worker, which checks, signs and
// sends it.
import { Message, ask } from '../messages.js';
import { renderUnlock } from '../unlock.js';
import { triedMessage } from '../words.js';
import { $, $button, $dialog, $input, find, target } from './common.js';
import { actionButtons, finished, focusRequest, oneClick, picked, render, state } from './requests.js';

/**
 * @typedef {import('../store.js').PushRequest} PushRequest
 * @typedef {import('../store.js').PiChallenge} PiChallenge
 * @typedef {import('../store.js').Outcome} Outcome
 * @typedef {PushRequest|PiChallenge} Request
 * @typedef {import('../messages.js').RequestAnswer} RequestAnswer
 * @typedef {Omit<RequestAnswer, 'type'|'requestId'>} Answer  what the person decided, to send
 * @typedef {number|string|null} Choice  the number (push) or presence option (privacyIDEA) picked
 */

// ---------------------------------------------------------------------------------------------
// Answering

/**
 * The request shown, if it can be answered now.
 * @returns {Request|null}
 */
function answerable() {
  const shown = state.pending[state.current];
  return shown && !state.busy && !state.done.has(shown.request.id) ? shown.request : null;
}

/**
 * Whether a request is a privacyIDEA challenge: the worker marks each request's kind.
 * @param {Request} request
 */
const piRequest = (request) => state.pending[request.id]?.kind === 'privacyidea';

/**
 * Whether approving needs the PIN first, as the worker marked the request; asked for only while
 * its token is here to name (the worker refuses an answer for a removed token).
 * @param {Request} request
 */
function pinFirst(request) {
  const token = piRequest(request) ? state.piTokens[request.tokenId] : state.tokens[request.tokenId];
  return state.pending[request.id]?.pin === true && token != null;
}

/**
 * Approve: with the number (or option) picked, where the request has choices, unless it started
 * in this browser (its approval carries the login page's binding instead).
 * @param {Choice} number
 */
export function approve(number) {
  const request = answerable();
  if (!request) return;
  const numberless = oneClick(state.pending[request.id]);
  if (!numberless && request.choices?.length && number == null) return;
  if (!numberless && /** @type {PushRequest} */ (request).numberEntry === 'type' && number == null) return;
  if (pinFirst(request)) askPin(request, number);
  else send(request, { decision: 'approve', ...(number != null && { number }) });
}

/**
 * Sends the answer to the worker and shows how it ended. Every answer button stays disabled
 * until the reply is in, so that no second click answers again; only an answer that could not
 * be delivered leaves the request answerable.
 * @param {Request} request
 * @param {Answer} answer
 * @param {string} [progress]
 */
async function send(request, answer, progress = 'Sending your answer…') {
  // A privacyIDEA approval may bring a code to type (code-to-phone): the worker fills it into
  // the tab the person approved from, if that tab is one of the token's trusted sites.
  if (piRequest(request) && answer.decision === 'approve' && target.origin && target.tab?.id != null) {
    answer = { ...answer, tabId: target.tab.id };
  }
  state.busy = true;
  $('progress').textContent = progress;
  for (const button of actionButtons()) button.disabled = true;
  /** @type {Pick<Outcome, 'status'|'reason'|'triesLeft'> & Partial<Outcome>} */
  let outcome;
  try {
    outcome = (await ask({ type: Message.REQUEST_ANSWER, requestId: request.id, ...answer })).outcome;
  } catch (err) {
    if (err.code === 'locked') {
      askUnlock(request, answer, progress);
      return;
    }
    if (err.code === 'page_gone') {
      // Shown as started in this browser, its sign-in page went away: nothing was sent, and the
      // worker shows it again as a sign-in from elsewhere, with its number.
      state.gone.add(request.id);
      state.busy = false;
      $('progress').textContent = '';
      render();
      focusRequest();
      return;
    }
    outcome = { status: 'failed', reason: err.code ?? null, triesLeft: null };
  }
  if (outcome.pending && answer.decision === 'approve') {
    // A wrong PIN, counted; the request still waits: the PIN is asked again in place.
    state.busy = false;
    $('progress').textContent = '';
    render();
    if (state.current === request.id) askPin(request, answer.number ?? null, `${triedMessage(outcome)}. Type it again.`);
    return;
  }
  state.replies[request.id] = { app: request.app, tokenId: request.tokenId, at: Date.now(), ...outcome };
  state.dismissed.delete(request.id);
  if (finished(outcome)) state.done.add(request.id);
  state.busy = false;
  $('progress').textContent = '';
  render();
  // The next request's heading, or the message of this answer (its dismiss button); never an
  // answer nor a code-to-phone code's Fill: a second press must neither answer nor fill.
  if (!$('request').hidden) focusRequest();
  else find($('outcomes'), `[data-id="${CSS.escape(request.id)}"] button.icon`)?.focus();
}

// Unlock: the approval keys are sealed with the password ------------------------------------

/**
 * Shows the unlock prompt under the request; once unlocked, the same answer goes again.
 * @param {Request} request
 * @param {Answer} answer
 * @param {string} progress
 */
function askUnlock(request, answer, progress) {
  state.busy = false;
  $('progress').textContent = '';
  render();
  const again = () => {
    if (state.current === request.id && !state.done.has(request.id)) send(request, answer, progress);
  };
  // One prompt at a time: when the codes below already show one, that one unlocks for both.
  const shared = $('unlock');
  if (shared?.checkVisibility() && shared.querySelector('form')) {
    document.addEventListener('unlocked', again, { once: true });
    shared.querySelector('input')?.focus();
    return;
  }
  const box = $('request-unlock');
  box.hidden = false;
  renderUnlock(box, {
    onUnlocked: () => {
      box.hidden = true;
      box.replaceChildren();
      again();
      document.dispatchEvent(new Event('unlocked'));
    },
  });
}

// Deny, then Report or not -------------------------------------------------------------------

/** @type {Request|null} */
let denying = null;
function deny() {
  denying = answerable();
  if (!denying) return;
  const dialog = $dialog('deny-dialog');
  dialog.returnValue = '';
  dialog.showModal();
  // A sign-in that did not start in this browser is most likely someone else's: Report stands
  // out. The focus stays on No, so that Enter pressed a moment too late reports nothing.
  $('deny-report').classList.toggle('prominent', !state.pending[denying.id]?.bound);
  $('deny-only').focus();
}

$dialog('deny-dialog').addEventListener('close', () => {
  const request = denying;
  denying = null;
  const decision = $dialog('deny-dialog').returnValue;
  if (request && (decision === 'deny' || decision === 'report') && answerable()?.id === request.id) {
    send(request, { decision }, decision === 'report' ? 'Reporting…' : 'Denying…');
  } else {
    $('deny').focus();
  }
});

// PIN ----------------------------------------------------------------------------------------

/** @type {Promise<typeof import('../tools.js')>|null} */
let tools = null;
/** The tools package (Argon2id for the PIN), loaded once a PIN token's request shows. */
export function loadTools() {
  tools ??= import('../tools.js').then(async (module) => {
    await module.ready;
    return module;
  });
  return tools;
}

/** @type {{request: Request, number: Choice}|null} */
let unlocking = null; // { request, number } waiting for the PIN
/**
 * @param {Request} request
 * @param {Choice} number
 * @param {string} [status]  what to say above the field (the last try's wrong PIN)
 */
function askPin(request, number, status = '') {
  unlocking = { request, number };
  const token = state.tokens[request.tokenId];
  const pi = state.piTokens[request.tokenId];
  $('pin-for').textContent = piRequest(request)
    ? `To approve with ${pi.label} (${pi.serial}).`
    : `To approve with ${token.tokenName} (${token.user}).`;
  $input('pin').value = '';
  $input('pin').disabled = false;
  $button('pin-ok').disabled = false;
  $('pin-status').textContent = '';
  // After a wrong PIN: said above the field, and read out with it.
  const tried = state.pending[request.id]?.tried;
  const note = status || (tried ? `${triedMessage(tried)}. Type it again.` : '');
  $('pin-tried').textContent = note;
  $('pin-tried').hidden = !note;
  $dialog('pin-dialog').showModal();
  $input('pin').focus();
}

function closePin() {
  $input('pin').value = '';
  unlocking = null;
  if ($dialog('pin-dialog').open) $dialog('pin-dialog').close();
}

$input('pin').addEventListener('input', () => {
  const digits = $input('pin').value.replace(/\D/g, '');
  if (digits !== $input('pin').value) $input('pin').value = digits;
});

$('pin-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const target = unlocking;
  const pin = $input('pin').value;
  if (!target || state.busy) return;
  if (!/^\d{1,64}$/.test(pin)) {
    $('pin-status').textContent = 'Type your PIN (digits only).';
    $input('pin').focus();
    return;
  }
  $input('pin').value = '';
  if (piRequest(target.request)) {
    // privacyIDEA tokens: the worker checks the PIN before it signs the approval.
    closePin();
    const { request, number } = target;
    send(request, { decision: 'approve', ...(number != null && { number }), pin }, 'Checking the PIN…');
    return;
  }
  $input('pin').disabled = true;
  $button('pin-ok').disabled = true;
  $('pin-status').textContent = 'Checking…';
  state.busy = true;
  for (const button of actionButtons()) button.disabled = true;
  let keys;
  try {
    const { unmaskKeys } = await loadTools();
    // Argon2id blocks for a moment: let "Checking…" show first.
    await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve)));
    keys = unmaskKeys(state.tokens[target.request.tokenId].masked, pin);
  } catch (err) {
    state.busy = false;
    $input('pin').disabled = false;
    $button('pin-ok').disabled = false;
    $('pin-status').textContent = `The PIN could not be checked: ${err.message}`;
    render();
    return;
  }
  closePin();
  state.busy = false;
  const { request, number } = target;
  send(request, { decision: 'approve', ...(number != null && { number }), keys });
});

$('pin-cancel').addEventListener('click', () => $dialog('pin-dialog').close());
// Escape closes the dialog as well: the PIN never stays in the field.
$dialog('pin-dialog').addEventListener('cancel', () => {
  $input('pin').value = '';
});
$dialog('pin-dialog').addEventListener('close', () => {
  $input('pin').value = '';
  // Closed without an answer: back to the request.
  if (unlocking) {
    unlocking = null;
    $('approve').focus();
  }
});

/** A request that ended (expired, answered elsewhere) takes its open dialog with it. */
export function closeDialogsFor(id) {
  if (unlocking?.request.id === id && !state.busy) closePin();
  if (denying?.id === id) {
    denying = null;
    $dialog('deny-dialog').close();
  }
}

$('approve').addEventListener('click', () => approve(picked()));
$('deny').addEventListener('click', deny);
