// SPDX-License-Identifier: MIT OR Apache-2.0
// The toolbar popup: pending sign-in requests, one at a time, how recent answers ended, and the
// everyday (TOTP/HOTP) codes with copy and fill.
// It only reads storage (and follows its changes); the service worker checks, keeps and answers
// requests, so every answer here is a message to it.
import { createMap } from './map.js';
import { Message, ask } from './messages.js';
import { originOf } from './sites.js';
import { byOrder, inOrder } from './store.js';
import { ago, expiresIn, secondsLeft } from './time.js';
import { renderUnlock } from './unlock.js';
import { hostOf, outcomeMessage, placeName } from './words.js';

const $ = (id) => document.getElementById(id);

const state = {
  pending: {}, // chrome.storage.session `pending`
  outcomes: {}, // chrome.storage.session `outcomes`
  tokens: {}, // chrome.storage.local `pushTokens`
  piTokens: {}, // chrome.storage.local `piTokens` (privacyIDEA)
  replies: {}, // outcomes from the worker's replies, until storage has them
  dismissed: new Set(), // outcomes the person closed here
  done: new Set(), // requests answered from here (not shown again whatever storage says)
  current: null, // id of the request shown
  index: 0, // its position, to move on to the next one when it goes
  busy: false, // an answer (or a PIN check) is under way
  fillNotes: {}, // request id → what the last "Fill" press of a privacyIDEA code ended in, when the worker kept nothing
};

/** Requests the person can still answer, oldest first. */
function visible(now = Date.now()) {
  return inOrder(state.pending)
    .map((p) => ({ ...p, id: p.request.id }))
    .filter(({ id, request }) => !state.done.has(id) && !finished(state.outcomes[id]) && secondsLeft(request.expiresAt, now) > 0);
}

/** An outcome that ends its request: anything but a failure to deliver the answer. */
const finished = (outcome) => outcome != null && outcome.status !== 'failed';

// ---------------------------------------------------------------------------------------------
// Rendering

function render({ focus = false } = {}) {
  const focused = document.activeElement;
  const list = visible();
  let position = list.findIndex((p) => p.id === state.current);
  if (position < 0) position = Math.min(state.index, list.length - 1);
  const shown = list[position] ?? null;
  state.index = Math.max(position, 0);
  const changed = shown?.id !== state.current || $('request').dataset.id !== shown?.id;
  state.current = shown?.id ?? null;

  if (!shown) delete $('request').dataset.id;
  $('empty').hidden = shown != null;
  $('request').hidden = shown == null;
  renderTabWarning(shown?.request ?? null);
  if (shown) {
    if (changed) showRequest(shown);
    $('pager').hidden = list.length < 2;
    $('position').textContent = list.length > 1 ? `${position + 1} of ${list.length}` : '';
    $('prev').disabled = position === 0;
    $('next').disabled = position === list.length - 1;
    for (const button of actionButtons()) button.disabled = state.busy;
    if (focus || (changed && document.activeElement === document.body)) firstAction()?.focus();
  }
  tick();
  renderOutcomes();
  keepFocus(focused);
}

function showRequest({ id, request, kind }) {
  if (kind === 'privacyidea') return showPiRequest(id, request);
  showWebFacts(true);
  const token = state.tokens[request.tokenId];
  $('request').dataset.id = id;
  delete $('request').dataset.kind;
  $('pick').textContent = 'Pick the number shown on the sign-in page';
  $('app').textContent = request.app;
  $('lead').textContent = `Sign-in to ${request.app}`;
  $('origin').textContent = hostOf(request.origin);
  $('origin').title = request.origin;
  $('ip').textContent = request.clientIp;
  $('place').textContent = placeName(request.place);
  $('map').replaceChildren(...(request.place ? [createMap(request.place)] : []));
  $('map').hidden = !request.place;
  $('account').textContent = token ? `${token.tokenName} · ${token.user}` : 'Unknown token';

  const choices = request.choices ?? [];
  $('pick').hidden = choices.length === 0;
  $('numbers').hidden = choices.length === 0;
  $('numbers').replaceChildren(
    ...choices.map((number) => {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'number';
      button.textContent = String(number);
      button.addEventListener('click', () => approve(number));
      return button;
    }),
  );
  $('approve').hidden = choices.length > 0;
  $('progress').textContent = '';
  $('request-unlock').hidden = true;
  if (token?.pin?.required) loadTools();
}

/** The page, IP address and place rows: a privacyIDEA challenge has none of them. */
function showWebFacts(shown) {
  for (const id of ['origin', 'ip', 'place']) {
    $(id).hidden = !shown;
    $(id).previousElementSibling.hidden = !shown;
  }
  if (!shown) $('map').replaceChildren();
  if (!shown) $('map').hidden = true;
}

/**
 * A privacyIDEA challenge (privacyidea.js): its title and question as the server signed them,
 * the token's serial, and its presence options when it asks for one.
 */
function showPiRequest(id, request) {
  const token = state.piTokens[request.tokenId];
  $('request').dataset.id = id;
  $('request').dataset.kind = 'privacyidea';
  $('app').textContent = request.app;
  $('lead').textContent = request.question;
  showWebFacts(false);
  $('account').textContent = `${token?.label ?? 'Unknown token'} · ${request.serial}`;
  const choices = request.choices ?? [];
  $('pick').textContent = 'Pick the option shown on the sign-in page';
  $('pick').hidden = choices.length === 0;
  $('numbers').hidden = choices.length === 0;
  $('numbers').replaceChildren(
    ...choices.map((option) => {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'number';
      button.textContent = option;
      button.addEventListener('click', () => approve(option));
      return button;
    }),
  );
  $('approve').hidden = choices.length > 0;
  $('progress').textContent = '';
}

function actionButtons() {
  return [...$('numbers').querySelectorAll('button'), $('approve'), $('deny')];
}

/** The first button that answers the shown request: a number, or Approve. */
function firstAction() {
  return actionButtons().find((button) => !button.closest('[hidden]') && !button.hidden);
}

/** A focused control that went away (or got disabled or hidden) leaves the focus on something useful. */
function keepFocus(focused) {
  const active = document.activeElement;
  if (!focused || focused === document.body || document.querySelector('dialog[open]')) return;
  if (active !== document.body && !active.disabled && active.checkVisibility()) return;
  const fallback = !$('request').hidden ? firstAction() : $('outcomes').querySelector('button');
  if (fallback && !fallback.disabled) fallback.focus();
}

/** Live times of the shown request; requests that ran out leave the carousel. */
function tick() {
  const now = Date.now();
  for (const [id, { request }] of Object.entries(state.pending)) {
    if (secondsLeft(request.expiresAt, now) === 0 && !state.outcomes[id] && !state.replies[id] && !state.done.has(id)) {
      // The worker removes it too and writes the same outcome; until then, say it here.
      state.replies[id] = { status: 'expired', reason: null, triesLeft: null, at: now, app: request.app, tokenId: request.tokenId };
      closeDialogsFor(id);
      queueMicrotask(render);
    }
  }
  const shown = state.pending[state.current];
  if (!shown) return;
  $('arrived').textContent = ago(shown.receivedAt, now);
  $('expires').textContent = expiresIn(shown.request.expiresAt, now);
}

let outcomeKeys = '';
function renderOutcomes() {
  const all = { ...state.replies, ...state.outcomes };
  const list = Object.entries(all)
    .filter(([id]) => !state.dismissed.has(id))
    .sort(([, a], [, b]) => b.at - a.at)
    .slice(0, 3);
  // The fill button of a code-to-phone code names the active tab: a new one renders again.
  const keys = JSON.stringify([list, target.origin, state.fillNotes]);
  if (keys === outcomeKeys) return;
  outcomeKeys = keys;
  $('outcomes').replaceChildren(
    ...list.map(([id, outcome]) => {
      const { text, tone } = outcomeMessage(outcome, { pin: state.tokens[outcome.tokenId]?.pin?.required });
      const box = document.createElement('div');
      box.className = `outcome ${tone}`;
      box.dataset.id = id;
      const message = document.createElement('p');
      message.textContent = text;
      const body = document.createElement('div');
      body.className = 'outcome-body';
      body.append(message);
      // privacyIDEA's code-to-phone mode: the code to type at the sign-in page.
      if (outcome.displayCode) {
        const code = document.createElement('strong');
        code.className = 'display-code';
        code.textContent = outcome.displayCode;
        message.append(` ${outcome.displayMessage ?? 'Enter the code to log in'}: `, code);
        body.append(...piFillParts(id, outcome));
      }
      const close = document.createElement('button');
      close.type = 'button';
      close.className = 'icon';
      close.textContent = '×';
      close.setAttribute('aria-label', 'Dismiss this message');
      close.addEventListener('click', () => dismiss(id));
      box.append(body, close);
      return box;
    }),
  );
}

function dismiss(id) {
  state.dismissed.add(id);
  // The worker forgets it too; nothing is lost if it cannot.
  ask({ type: Message.OUTCOME_DISMISS, requestId: id }).catch(() => {});
  render();
  if (document.activeElement === document.body) ($('outcomes').querySelector('button') ?? firstAction())?.focus();
}

// ---------------------------------------------------------------------------------------------
// Answering

/** The request shown, if it can be answered now. */
function answerable() {
  const shown = state.pending[state.current];
  return shown && !state.busy && !state.done.has(shown.request.id) ? shown.request : null;
}

function approve(number) {
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

/**
 * The `unlock` placeholder that other parts of the popup show while locked hosts the same
 * prompt. On success the document gets an `unlocked` event (and session storage's `vaultKey`
 * changes), so that they render again without it.
 */
function hostUnlock() {
  const spot = $('unlock');
  if (spot && !spot.querySelector('form')) {
    spot.replaceChildren();
    renderUnlock(spot, { onUnlocked: () => document.dispatchEvent(new Event('unlocked')) });
  }
}
new MutationObserver(hostUnlock).observe(document.body, { childList: true, subtree: true });
hostUnlock();

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
function loadTools() {
  tools ??= import('./tools.js').then(async (module) => {
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
function closeDialogsFor(id) {
  if (unlocking?.request.id === id && !state.busy) closePin();
  if (denying?.id === id) {
    denying = null;
    $('deny-dialog').close();
  }
}

// ---------------------------------------------------------------------------------------------
// Navigation

function move(step) {
  const list = visible();
  const at = list.findIndex((p) => p.id === state.current);
  const next = list[at + step];
  if (!next) return;
  state.current = next.id;
  state.index = at + step;
  render();
}

$('prev').addEventListener('click', () => move(-1));
$('next').addEventListener('click', () => move(1));
$('approve').addEventListener('click', () => approve(null));
$('deny').addEventListener('click', deny);

document.addEventListener('keydown', (event) => {
  if (document.querySelector('dialog[open]') || event.target.matches?.('input, textarea')) return;
  if (event.altKey || event.ctrlKey || event.metaKey) return;
  if (event.key === 'ArrowLeft') move(-1);
  else if (event.key === 'ArrowRight') move(1);
  else return;
  event.preventDefault();
});

// ---------------------------------------------------------------------------------------------
// Everyday codes

const RING = 2 * Math.PI * 10;
const SEARCH_FROM = 6;

const codes = {
  tokens: {}, // chrome.storage.local `otpTokens`
  values: {}, // id → { code, secondsLeft } of TOTP tokens, from the worker
  shown: {}, // id → the HOTP code shown after "Show next code" or a fill
  items: new Map(), // id → list item
  locked: false,
  asking: false, // an OTP_CODES call is on its way
};

/** The active tab the codes are filled into, and its origin (null when it is not a web page). */
let target = { tab: null, origin: null };

async function findTarget() {
  const [active] = await chrome.tabs.query({ active: true, currentWindow: true });
  const self = await chrome.tabs.getCurrent?.();
  let tab = active;
  // Shown in a tab or a window of its own (when the toolbar popup cannot open), the front tab
  // is this page: the page the person came from is the web page they used last.
  if (self && active?.id === self.id) {
    const tabs = await chrome.tabs.query({ windowType: 'normal' });
    tab = tabs
      .filter((t) => t.id !== self.id && /^https?:\/\//.test(t.url ?? ''))
      .sort((a, b) => (b.lastAccessed ?? 0) - (a.lastAccessed ?? 0))[0];
  }
  let origin = null;
  try {
    const url = new URL(tab?.url ?? '');
    if (/^https?:$/.test(url.protocol)) origin = url.origin;
  } catch {
    // Not a web page: nothing is filled into it.
  }
  target = { tab: tab ?? null, origin };
}

/** "123456" → "123 456"; "12345678" → "1234 5678". */
function grouped(code) {
  const half = Math.floor(code.length / 2);
  return `${code.slice(0, half)} ${code.slice(half)}`;
}

const nameOf = (token) => [token.issuer, token.account].filter(Boolean).join(' ');

function codeItem(token) {
  let item = codes.items.get(token.id);
  if (!item) {
    item = $('code-template').content.firstElementChild.cloneNode(true);
    item.dataset.id = token.id;
    item.querySelector('.code-next').addEventListener('click', () => showNext(item.dataset.id));
    item.querySelector('.code-copy').addEventListener('click', () => copy(item.dataset.id));
    item.querySelector('.code-fill').addEventListener('click', () => fillCode(item.dataset.id));
    codes.items.set(token.id, item);
  }
  const name = nameOf(token);
  item.querySelector('.code-issuer').textContent = token.issuer || token.account;
  item.querySelector('.code-account').textContent = token.issuer ? token.account : '';
  item.querySelector('.code-copy').setAttribute('aria-label', `Copy the code of ${name}`);
  item.querySelector('.code-fill').setAttribute('aria-label', `Fill the code of ${name}`);
  item.querySelector('.code-next').setAttribute('aria-label', `Show next code of ${name}`);
  return item;
}

/** The code shown for a token, or null. */
function codeOf(token) {
  return token.type === 'totp' ? (codes.values[token.id]?.code ?? null) : (codes.shown[token.id] ?? null);
}

function paintCode(item, token) {
  const code = codeOf(token);
  const value = item.querySelector('.code-value');
  const text = code ? grouped(code) : token.type === 'totp' ? '··· ···' : '';
  if (value.textContent !== text) value.textContent = text;
  const ring = item.querySelector('.ring');
  const hotp = token.type === 'hotp';
  // An SVG element has no `hidden` property: the attribute itself.
  ring.toggleAttribute('hidden', hotp || !codes.values[token.id]);
  item.querySelector('.code-next').hidden = !hotp;
  item.querySelector('.code-copy').disabled = !code;
  item.querySelector('.code-fill').disabled = !target.origin;
  if (!hotp && codes.values[token.id]) {
    const left = codes.values[token.id].secondsLeft;
    ring.setAttribute('aria-label', `${left} ${left === 1 ? 'second' : 'seconds'} left`);
    ring.querySelector('.ring-left').style.strokeDashoffset = String(RING * (1 - left / token.period));
  }
}

function renderCodes() {
  const list = byOrder(codes.tokens);
  for (const [id, item] of codes.items) {
    if (!codes.tokens[id]) {
      item.remove();
      codes.items.delete(id);
    }
  }
  const search = $('code-search');
  search.hidden = codes.locked || list.length < SEARCH_FROM;
  const words = search.hidden ? [] : search.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
  const matching = list.filter((t) => {
    const text = `${t.issuer} ${t.account}`.toLowerCase();
    return words.every((word) => text.includes(word));
  });
  $('unlock').hidden = !codes.locked;
  $('code-list').hidden = codes.locked;
  $('no-codes').hidden = codes.locked || list.length > 0;
  $('no-match').hidden = codes.locked || list.length === 0 || matching.length > 0;
  const listElement = $('code-list');
  for (const item of codes.items.values()) item.hidden = true;
  matching.forEach((token, index) => {
    const item = codeItem(token);
    item.hidden = false;
    if (listElement.children[index] !== item) listElement.insertBefore(item, listElement.children[index] ?? null);
    paintCode(item, token);
  });
}

/** Whether the codes are on screen, so that asking for them every second is worth it. */
function codesVisible() {
  return document.visibilityState === 'visible' && !codes.locked && Object.values(codes.tokens).some((t) => t.type === 'totp');
}

/** One OTP_CODES call; none while the last one is still on its way. */
async function refreshCodes() {
  if (codes.asking) return;
  codes.asking = true;
  try {
    codes.values = (await ask({ type: Message.OTP_CODES })).codes;
    codes.locked = false;
  } catch (err) {
    if (err.code === 'locked') codes.locked = true;
    else $('codes-status').textContent = `The codes could not be computed: ${err.message}`;
  } finally {
    codes.asking = false;
  }
  renderCodes();
}

function codesTick() {
  if (codesVisible()) refreshCodes();
}

async function showNext(id) {
  const token = codes.tokens[id];
  if (!token) return;
  try {
    codes.shown[id] = (await ask({ type: Message.OTP_NEXT, id })).code;
    $('codes-status').textContent = '';
  } catch (err) {
    if (err.code === 'locked') codes.locked = true;
    $('codes-status').textContent = `No code: ${err.message}`;
  }
  renderCodes();
}

async function copy(id) {
  const token = codes.tokens[id];
  const code = token && codeOf(token);
  if (!code) return;
  try {
    await navigator.clipboard.writeText(code);
    $('codes-status').textContent = `Copied the code of ${nameOf(token)}.`;
  } catch (err) {
    $('codes-status').textContent = `The code could not be copied: ${err.message}`;
  }
}

/** Asks the person whether the active tab's site is the token's own. */
function confirmSite(token, host, title = null) {
  const issuer = token.issuer || token.account;
  $('site-title').textContent = title ?? `Fill codes of ${issuer} into ${host}? Only confirm if this is ${issuer}'s real site.`;
  const dialog = $('site-dialog');
  dialog.returnValue = '';
  dialog.showModal();
  $('site-cancel').focus();
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'fill'), { once: true });
  });
}

async function fillCode(id) {
  const token = codes.tokens[id];
  const fillButton = codes.items.get(id)?.querySelector('.code-fill');
  await findTarget();
  // The tab and the site the person is asked about, kept across the question.
  const { tab, origin } = target;
  if (!token || !origin) {
    $('codes-status').textContent = 'Codes can only be filled into web pages.';
    return;
  }
  const host = hostOf(origin);
  let confirmed = false;
  if (!token.sites.includes(origin)) {
    confirmed = await confirmSite(token, host);
    fillButton?.focus();
    if (!confirmed) {
      $('codes-status').textContent = `Nothing was filled into ${host}.`;
      return;
    }
    // The person confirmed the site they saw: a tab that navigated elsewhere meanwhile gets
    // neither the code nor the trust (the worker adds whatever origin the tab has when asked).
    const now = await chrome.tabs.get(tab.id).catch(() => null);
    if (originOf(now?.url) !== origin) {
      $('codes-status').textContent = `Nothing was filled: the tab is no longer on ${host}.`;
      return;
    }
  }
  try {
    const reply = await ask({ type: Message.OTP_FILL, id, tabId: tab.id, origin, ...(confirmed && { confirmSite: true }) });
    if (token.type === 'hotp') codes.shown[id] = reply.code;
    $('codes-status').textContent = reply.filled
      ? `Filled the code of ${nameOf(token)} into ${host}.`
      : `No code field was found in ${host}. Copy the code instead.`;
  } catch (err) {
    if (err.code === 'locked') codes.locked = true;
    $('codes-status').textContent =
      err.code === 'tab_changed' ? `Nothing was filled: the tab is no longer on ${host}.` : `The code could not be filled: ${err.message}`;
  }
  renderCodes();
}

// privacyIDEA's code-to-phone codes ----------------------------------------------------------

/** How long a code-to-phone code is offered for filling (privacyidea.js refuses older ones). */
const PI_CODE_MS = 2 * 60_000;

/** Whether a privacyIDEA token's codes may go to `origin`: its server's own, or a site confirmed for it. */
function piTrusted(token, origin) {
  try {
    if (new URL(token.url).origin === origin) return true;
  } catch {
    // A token without a usable address trusts only its confirmed sites.
  }
  return (token.sites ?? []).includes(origin);
}

/**
 * Under a code-to-phone code: where it was filled (or why not), and a button to fill it into
 * the active tab. The worker fills only a tab of the token's privacyIDEA server or of a site
 * confirmed for the token; any other site is asked about first, as for everyday codes.
 */
function piFillParts(id, outcome) {
  const parts = [];
  const { fill } = outcome;
  const host = fill?.origin ? hostOf(fill.origin) : null;
  const note = state.fillNotes[id] ?? {
    filled: `Filled into ${host}.`,
    no_field: `No code field was found in ${host}.`,
    unconfirmed_site: `Not filled into ${host}: it is neither this token's privacyIDEA server nor a site you confirmed for it.`,
  }[fill?.result];
  if (note) {
    const p = document.createElement('p');
    p.className = 'fill-note';
    p.textContent = note;
    parts.push(p);
  }
  const filledHere = fill?.result === 'filled' && fill.origin === target.origin;
  if (target.origin && fillable(id, outcome) && !filledHere) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'fill-code';
    button.textContent = `Fill into ${hostOf(target.origin)}`;
    button.setAttribute('aria-label', `Fill the code into ${hostOf(target.origin)}`);
    button.addEventListener('click', () => fillPiCode(id, outcome));
    parts.push(button);
  }
  return parts;
}

/**
 * Whether a code-to-phone code may still be offered for filling: the newest one, while its
 * sign-in can still be waiting for it (the worker refuses older ones too).
 */
function fillable(id, outcome, now = Date.now()) {
  if (!/^\d+$/.test(outcome.displayCode ?? '') || now - outcome.at > PI_CODE_MS) return false;
  const all = { ...state.replies, ...state.outcomes };
  return !Object.entries(all).some(([other, o]) => other !== id && o.displayCode && o.at > outcome.at);
}

async function fillPiCode(id, outcome) {
  await findTarget();
  // The tab and the site the person is asked about: the worker fills only while the tab is
  // still there, so a page that navigates during the question gets neither the code nor the trust.
  const { tab, origin } = target;
  const token = state.piTokens[outcome.tokenId];
  const focusBack = () => $('outcomes').querySelector(`[data-id="${CSS.escape(id)}"] button`)?.focus();
  if (!token || !origin) {
    state.fillNotes[id] = 'Codes can only be filled into web pages.';
    renderOutcomes();
    return;
  }
  const host = hostOf(origin);
  let confirmed = false;
  if (!piTrusted(token, origin)) {
    // The site to confirm is where the person signs in with this token, not privacyIDEA's own.
    const title = `Fill codes of ${token.label} (${token.issuer}) into ${host}? Only confirm if you sign in there with this privacyIDEA token.`;
    confirmed = await confirmSite(token, host, title);
    if (!confirmed) {
      state.fillNotes[id] = `Nothing was filled into ${host}.`;
      renderOutcomes();
      focusBack();
      return;
    }
  }
  // The worker records how it went in the outcome; its change renders the note.
  delete state.fillNotes[id];
  try {
    await ask({ type: Message.PI_FILL, requestId: id, tabId: tab.id, origin, ...(confirmed && { confirmSite: true }) });
  } catch (err) {
    state.fillNotes[id] =
      err.code === 'tab_changed' ? `Nothing was filled: the tab is no longer on ${host}.` : `The code could not be filled: ${err.message}`;
  }
  renderOutcomes();
  focusBack();
}

$('code-search').addEventListener('input', renderCodes);
$('open-options').addEventListener('click', () => chrome.runtime.openOptionsPage());
document.addEventListener('visibilitychange', codesTick);

/** The warning on a request that another site asked for than the one in the active tab. */
function renderTabWarning(request) {
  const warning = $('tab-warning');
  // privacyIDEA challenges name no sign-in page: there is nothing to compare the tab with.
  const other = request?.origin && target.origin && target.origin !== request.origin;
  warning.hidden = !other;
  if (other) {
    warning.textContent = `This tab (${hostOf(target.origin)}) is not the site that asked (${hostOf(request.origin)}). If you did not start this sign-in here, deny it.`;
  }
}

// ---------------------------------------------------------------------------------------------
// Storage

chrome.storage.onChanged.addListener((changes, area) => {
  if (area === 'session' && changes.pending) {
    state.pending = changes.pending.newValue ?? {};
    for (const id of Object.keys(changes.pending.oldValue ?? {})) if (!state.pending[id]) closeDialogsFor(id);
  }
  if (area === 'session' && changes.outcomes) state.outcomes = changes.outcomes.newValue ?? {};
  if (area === 'local' && changes.pushTokens) state.tokens = changes.pushTokens.newValue ?? {};
  if (area === 'local' && changes.piTokens) state.piTokens = changes.piTokens.newValue ?? {};
  if (changes.pending || changes.outcomes || changes.pushTokens || changes.piTokens) render();
  if (area === 'local' && changes.otpTokens) {
    codes.tokens = changes.otpTokens.newValue ?? {};
    renderCodes();
  }
  // Unlocked (or locked) elsewhere: the codes come back (or go).
  if ((area === 'local' && changes.secrets) || (area === 'session' && changes.vaultKey)) refreshCodes();
});
document.addEventListener('unlocked', () => refreshCodes());

async function start() {
  const [session, local] = await Promise.all([
    chrome.storage.session.get(['pending', 'outcomes']),
    chrome.storage.local.get(['pushTokens', 'otpTokens', 'piTokens']),
    findTarget().catch(() => {}),
  ]);
  state.pending = session.pending ?? {};
  state.outcomes = session.outcomes ?? {};
  state.tokens = local.pushTokens ?? {};
  codes.tokens = local.otpTokens ?? {};
  state.piTokens = local.piTokens ?? {};
  render({ focus: true });
  renderCodes();
  await refreshCodes();
  setInterval(() => {
    tick();
    codesTick();
  }, 1000);
  // Fetch what servers have that the worker may have missed; storage changes bring it here.
  chrome.runtime.sendMessage({ type: Message.REQUESTS_REFRESH }).catch(() => {});
}

start();
