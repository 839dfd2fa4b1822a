// SPDX-License-Identifier: MIT OR Apache-2.0
// Answering the request the popup shows: approve (with its number or option), deny or report,
// the PIN a token may ask for first, and the unlock prompt when the approval keys are sealed
// with the password. Every answer is a message to the service worker, which checks, signs and
// sends it.
import { Message, ask } from '../messages.js';
import { renderUnlock } from '../unlock.js';
import { $, target } from './common.js';
import { actionButtons, finished, firstAction, render, state } from './requests.js';

// ---------------------------------------------------------------------------------------------
// Answering

/** The request shown, if it can be answered now. */
function answerable() {
  const shown = state.pending[state.current];
  return shown && !state.busy && !state.done.has(shown.request.id) ? shown.request : null;
}

export function approve(number) {
  const request = answerable();
  if (!request) return;
  if (state.tokens[request.tokenId]?.pin?.required || piLocked(request)) askPin(request, number);
  else send(request, { decision: 'approve', ...(number != null && { number }) });
}

/**
 * Sends the answer to the worker and shows how it ended. Every answer button stays disabled
 * until the reply is in, so that no second click answers again; only an answer that could not
 * be delivered leaves the request answerable.
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
  let outcome;
  try {
    outcome = (await ask({ type: Message.REQUEST_ANSWER, requestId: request.id, ...answer })).outcome;
  } catch (err) {
    if (err.code === 'locked') {
      askUnlock(request, answer, progress);
      return;
    }
    outcome = { status: 'failed', reason: err.code ?? null, triesLeft: null };
  }
  state.replies[request.id] = { app: request.app, tokenId: request.tokenId, at: Date.now(), ...outcome };
  state.dismissed.delete(request.id);
  if (finished(outcome)) state.done.add(request.id);
  state.busy = false;
  $('progress').textContent = '';
  render();
  // The message of this answer (its dismiss button), not the next request's Approve nor a
  // code-to-phone code's Fill: a second press must neither answer nor fill.
  $('outcomes').querySelector(`[data-id="${CSS.escape(request.id)}"] button.icon`)?.focus();
}

// Unlock: the approval keys are sealed with the password ------------------------------------

/** Shows the unlock prompt under the request; once unlocked, the same answer goes again. */
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

let denying = null;
function deny() {
  denying = answerable();
  if (!denying) return;
  const dialog = $('deny-dialog');
  dialog.returnValue = '';
  dialog.showModal();
  $('deny-only').focus();
}

$('deny-dialog').addEventListener('close', () => {
  const request = denying;
  denying = null;
  const decision = $('deny-dialog').returnValue;
  if (request && (decision === 'deny' || decision === 'report') && answerable()?.id === request.id) {
    send(request, { decision }, decision === 'report' ? 'Reporting…' : 'Denying…');
  } else {
    $('deny').focus();
  }
});

// PIN ----------------------------------------------------------------------------------------

let tools = null;
/** The tools package (Argon2id for the PIN), loaded once a PIN token's request shows. */
export function loadTools() {
  tools ??= import('../tools.js').then(async (module) => {
    await module.ready;
    return module;
  });
  return tools;
}

/** Whether a request is a privacyIDEA challenge (privacyidea.js). */
const piRequest = (request) => request.id.startsWith('pi:');

/** A privacyIDEA challenge whose token asks for its PIN before an approval (the worker checks it). */
const piLocked = (request) => piRequest(request) && Boolean(state.piTokens[request.tokenId]?.pinCheck);

let unlocking = null; // { request, number } waiting for the PIN
function askPin(request, number) {
  unlocking = { request, number };
  const token = state.tokens[request.tokenId];
  const pi = state.piTokens[request.tokenId];
  $('pin-for').textContent = piLocked(request)
    ? `To approve with ${pi.label} (${pi.serial}).`
    : `To approve with ${token.tokenName} (${token.user}).`;
  $('pin').value = '';
  $('pin').disabled = false;
  $('pin-ok').disabled = false;
  $('pin-status').textContent = '';
  $('pin-dialog').showModal();
  $('pin').focus();
}

function closePin() {
  $('pin').value = '';
  unlocking = null;
  if ($('pin-dialog').open) $('pin-dialog').close();
}

$('pin').addEventListener('input', () => {
  const digits = $('pin').value.replace(/\D/g, '');
  if (digits !== $('pin').value) $('pin').value = digits;
});

$('pin-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const target = unlocking;
  const pin = $('pin').value;
  if (!target || state.busy) return;
  if (!/^\d{1,64}$/.test(pin)) {
    $('pin-status').textContent = 'Type your PIN (digits only).';
    $('pin').focus();
    return;
  }
  $('pin').value = '';
  if (piLocked(target.request)) {
    // privacyIDEA tokens: the worker checks the PIN before it signs the approval.
    closePin();
    const { request, number } = target;
    send(request, { decision: 'approve', ...(number != null && { number }), pin }, 'Checking the PIN…');
    return;
  }
  $('pin').disabled = true;
  $('pin-ok').disabled = true;
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
    $('pin').disabled = false;
    $('pin-ok').disabled = false;
    $('pin-status').textContent = `The PIN could not be checked: ${err.message}`;
    render();
    return;
  }
  closePin();
  state.busy = false;
  const { request, number } = target;
  send(request, { decision: 'approve', ...(number != null && { number }), keys });
});

$('pin-cancel').addEventListener('click', () => $('pin-dialog').close());
// Escape closes the dialog as well: the PIN never stays in the field.
$('pin-dialog').addEventListener('cancel', () => {
  $('pin').value = '';
});
$('pin-dialog').addEventListener('close', () => {
  $('pin').value = '';
  // Closed without an answer: back to the request.
  if (unlocking) {
    unlocking = null;
    firstAction()?.focus();
  }
});

/** A request that ended (expired, answered elsewhere) takes its open dialog with it. */
export function closeDialogsFor(id) {
  if (unlocking?.request.id === id && !state.busy) closePin();
  if (denying?.id === id) {
    denying = null;
    $('deny-dialog').close();
  }
}

$('approve').addEventListener('click', () => approve(null));
$('deny').addEventListener('click', deny);
