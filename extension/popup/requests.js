// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// The popup's sign-in requests: the carousel of pending requests (push requests and
// privacyIDEA challenges), one at a time, with their live times, the warning when another site
// asked than the active tab's, and the messages saying how recent answers ended. Answering is in
// answer.js; a privacyIDEA code-to-phone code's fill in pi-codes.js.
import { request } from '../access.js';
import { createMap } from '../map.js';
import { Message, ask } from '../messages.js';
import { inOrder } from '../store.js';
import { ago, dateTime, expiresIn, secondsLeft } from '../time.js';
import { getDomain } from '../vendor/tldts.js';
import { BOUND_NOTE, UNBOUND_WARNING, hostOf, hostParts, outcomeMessage, placeName, triedMessage, twinNotes } from '../words.js';
import { closeDialogsFor, loadTools } from './answer.js';
import { $, $button, find, tabOf, target } from './common.js';
import { piFillParts } from './pi-codes.js';

/**
 * @typedef {import('../store.js').Pending} Pending
 * @typedef {import('../store.js').PushRequest} PushRequest
 * @typedef {import('../store.js').PiChallenge} PiChallenge
 * @typedef {import('../store.js').Outcome} Outcome
 * @typedef {import('../store.js').PushToken} PushToken
 * @typedef {import('../store.js').PiToken} PiToken
 * @typedef {import('../dom.js').Focusable} Focusable
 * @typedef {Pick<Outcome, 'status'|'reason'|'triesLeft'|'at'|'app'|'tokenId'> & Partial<Outcome>} Reply
 *   How an answer ended, as the popup knows it before storage has the worker's outcome.
 */

/**
 * @type {{
 *   pending: {[requestId: string]: Pending},
 *   outcomes: {[requestId: string]: Outcome},
 *   tokens: {[tokenId: string]: PushToken},
 *   piTokens: {[serial: string]: PiToken},
 *   replies: {[requestId: string]: Reply},
 *   dismissed: Set<string>,
 *   done: Set<string>,
 *   current: string|null,
 *   index: number,
 *   busy: boolean,
 *   fillNotes: {[requestId: string]: string},
 *   picked: {id: string, choice: number|string}|null,
 *   gone: Set<string>,
 * }}
 */
export const state = {
  pending: {}, // session storage `pending` (store.js)
  outcomes: {}, // session storage `outcomes`
  tokens: {}, // local storage `pushTokens`
  piTokens: {}, // local storage `piTokens` (privacyIDEA)
  replies: {}, // outcomes from the worker's replies, until storage has them
  dismissed: new Set(), // outcomes the person closed here
  done: new Set(), // requests answered from here (not shown again whatever storage says)
  current: null, // id of the request shown
  index: 0, // its position, to move on to the next one when it goes
  busy: false, // an answer (or a PIN check) is under way
  fillNotes: {}, // request id → what the last "Fill" press of a privacyIDEA code ended in, when the worker kept nothing
  picked: null, // the number (or option) picked for a request, sent only by Approve
  gone: new Set(), // requests shown as started here whose sign-in page was gone when approved
};

/**
 * Whether the request approves with one press, without its number: a push request that started
 * in this browser (binding.js), whose approval carries its login page's binding. A privacyIDEA
 * challenge's presence option is asked for all the same: its server takes no binding.
 * @param {Pending|undefined} item
 */
export const oneClick = (item) => item?.kind === 'push' && item.bound != null;

/** Requests the person can still answer, oldest first. */
function visible(now = Date.now()) {
  return inOrder(state.pending)
    .map((p) => ({ ...p, id: p.request.id }))
    .filter(({ id, request }) => !state.done.has(id) && !finished(state.outcomes[id]) && secondsLeft(request.expiresAt, now) > 0);
}

/**
 * An outcome that ends its request: anything but a failure to deliver the answer.
 * @param {{status: Outcome['status'], pending?: boolean}|null|undefined} outcome
 */
export const finished = (outcome) => outcome != null && outcome.status !== 'failed' && !outcome.pending;

// ---------------------------------------------------------------------------------------------
// Rendering

/** @param {{focus?: boolean}} [options] */
export function render({ focus = false } = {}) {
  const focused = /** @type {Focusable} */ (document.activeElement);
  const movable = leftBehind(focused);
  const list = visible();
  let position = list.findIndex((p) => p.id === state.current);
  if (position < 0) position = Math.min(state.index, list.length - 1);
  const shown = list[position] ?? null;
  state.index = Math.max(position, 0);
  // A request whose sign-in page appeared or went away shows again, with or without its number.
  const changed = shown?.id !== state.current || $('request').dataset.id !== shown?.id || $('request').dataset.bound !== boundKey(shown);
  state.current = shown?.id ?? null;

  if (!shown) delete $('request').dataset.id;
  $('empty').hidden = shown != null;
  $('request').hidden = shown == null;
  renderTabWarning(shown?.request ?? null);
  if (shown) {
    if (changed) showRequest(shown);
    else {
      // A site the person just confirmed for the token takes the warning away in place.
      if (!shown.foreign) $('site-warning').hidden = true;
      // The tab it started in, as the worker last found it (its title may have changed).
      showStarted(shown);
    }
    $('pager').hidden = list.length < 2;
    $('position').textContent = list.length > 1 ? `${position + 1} of ${list.length}` : '';
    $button('prev').disabled = position === 0;
    $button('next').disabled = position === list.length - 1;
    for (const button of actionButtons()) button.disabled = state.busy;
    showPicked();
    showTried(shown);
    $('page-gone').hidden = !state.gone.has(shown.id) || shown.bound != null;
    // A request that appears (or that the carousel moves to) takes the focus to its heading,
    // never to an answer: a key pressed a moment too late must not answer it.
    if (focus || (changed && movable)) focusRequest();
  }
  tick();
  keepFocus(focused);
}

/** @param {Pending|null|undefined} item */
const boundKey = (item) => (item ? (item.bound ? 'yes' : 'no') : undefined);

/** @param {Pending & {id: string}} shown */
function showRequest(shown) {
  const { id, request, kind, foreign } = shown;
  $('site-warning').hidden = !foreign;
  showStarted(shown);
  if (kind === 'privacyidea') showPiRequest(id, /** @type {PiChallenge} */ (request));
  else showPushRequest(id, /** @type {PushRequest} */ (request), Boolean(foreign), oneClick(shown));
  $('request').dataset.bound = /** @type {string} */ (boundKey(shown));
}

/**
 * Where the request started: in this browser, in the tab named (its title, the page's own
 * words, and its origin), with the way to that tab; or the warning that it did not, with Deny
 * as the prominent choice.
 * @param {Pending} item
 */
function showStarted({ bound }) {
  $('bound').hidden = !bound;
  $('unbound').hidden = Boolean(bound);
  $('bound-note').textContent = `${BOUND_NOTE}:`;
  $('unbound').textContent = UNBOUND_WARNING;
  if (bound) {
    const title = bound.title.length > TITLE_CHARS ? `${bound.title.slice(0, TITLE_CHARS - 1)}…` : bound.title;
    $('bound-title').textContent = title ? `“${title}”` : 'a tab without a title';
    $('bound-origin').textContent = bound.origin;
  }
  // Said with the heading, which takes the focus when a request shows.
  $('app').setAttribute('aria-describedby', bound ? 'bound-note bound-title bound-origin' : 'unbound');
  // Approve stands out only where the sign-in started here; elsewhere Deny does. Their order
  // stays, so that the keyboard finds Approve where it always is.
  $button('approve').classList.toggle('primary', Boolean(bound));
  $button('deny').classList.toggle('prominent', !bound);
}

// The tab the request started in, brought to the front.
$('go-to-tab').addEventListener('click', async () => {
  const bound = state.pending[state.current ?? '']?.bound;
  if (!bound) return;
  const tab = await chrome.tabs.update(bound.tabId, { active: true }).catch(() => null);
  if (tab) await chrome.windows.update(tab.windowId, { focused: true }).catch(() => {});
});

/**
 * A push request (push.js): the sign-in page, IP address and place it came from, the account,
 * and its numbers to pick from when it has them. `foreign`: it names a site its token does not
 * serve, where an approval fills nothing, and the popup says so.
 * @param {string} id
 * @param {PushRequest} request
 * @param {boolean} foreign
 * @param {boolean} bound  it started in this browser: approved without its number
 */
function showPushRequest(id, request, foreign, bound) {
  showWebFacts(true);
  const token = state.tokens[request.tokenId];
  if (foreign) {
    const server = token ? hostOf(token.server) : 'its server';
    $('site-warning-text').textContent = `Approving will not type the code at ${hostOf(request.origin)}: ${server} never named that site as one of its sign-in pages. If you did not start this sign-in there, deny it.`;
    $('confirm-site').textContent = `Type this token's codes at ${hostOf(request.origin)} from now on`;
  }
  $('request').dataset.id = id;
  delete $('request').dataset.kind;
  $('pick').textContent = 'Pick the number shown on the sign-in page';
  $('app').textContent = request.app;
  $('lead').textContent = `Sign-in to ${request.app}`;
  showHost(request.origin);
  $('origin').title = request.origin;
  $('ip').textContent = request.clientIp;
  $('place').textContent = placeName(request.place);
  $('map').replaceChildren(...(request.place ? [createMap(request.place)] : []));
  $('map').hidden = !request.place;
  // Another token of the same account would read the same: what tells them apart follows.
  const twin = token ? twinNotes(state.tokens, dateTime)[token.tokenId]?.text : null;
  $('account').textContent = token ? [token.tokenName, token.user, twin].filter(Boolean).join(' · ') : 'Unknown token';

  showChoices(bound ? [] : (request.choices ?? []));
  showTyped(!bound && request.numberEntry === 'type');
  showWhere(id, request, bound);
  $('request-unlock').hidden = true;
  if (token?.pin?.required) loadTools();
}

/**
 * The sign-in page's host, its registrable domain emphasised (words.js `hostParts`); the
 * private section of the Public Suffix List counts, so that `evil.github.io` stands out whole.
 * @param {string} origin
 */
function showHost(origin) {
  const { before, domain, after } = hostParts(origin, (host) => getDomain(host, { allowPrivateDomains: true }));
  const strong = document.createElement('strong');
  strong.className = 'domain';
  strong.textContent = domain;
  $('origin').replaceChildren(before, ...(domain ? [strong] : []), after);
}

/** The page, IP address and place rows: a privacyIDEA challenge has none of them. */
/** @param {boolean} shown */
function showWebFacts(shown) {
  for (const id of ['origin', 'ip', 'place']) {
    $(id).hidden = !shown;
    // The row's label, an HTML element as every element of the popup but the map.
    /** @type {HTMLElement} */ ($(id).previousElementSibling).hidden = !shown;
  }
  if (!shown) $('map').replaceChildren();
  if (!shown) $('map').hidden = true;
}

/**
 * A privacyIDEA challenge (privacyidea.js): its title and question as the server signed them,
 * the token's serial, and its presence options when it asks for one.
 * @param {string} id
 * @param {PiChallenge} request
 */
function showPiRequest(id, request) {
  const token = state.piTokens[request.tokenId];
  $('request').dataset.id = id;
  $('request').dataset.kind = 'privacyidea';
  $('app').textContent = request.app;
  $('lead').textContent = request.question;
  showWebFacts(false);
  $('account').textContent = `${token?.label ?? 'Unknown token'} · ${request.serial}`;
  $('pick').textContent = 'Pick the option shown on the sign-in page';
  showChoices(request.choices ?? []);
  showTyped(false);
  $('where').hidden = true;
}

/** Longest tab title said in full. */
const TITLE_CHARS = 60;

/**
 * Where the number to pick is, since the popup may cover it: the sign-in page's site, and its
 * tab's title where a tab of that site is open, but never for a request whose server binds its
 * sign-in pages and which did not start here: its number is on a page elsewhere, not in
 * whichever tab of that site this browser has.
 * @param {string} id
 * @param {PushRequest} request
 * @param {boolean} bound  no number is asked for
 */
function showWhere(id, request, bound) {
  const where = $('where');
  const site = `The number is on the sign-in page of ${hostOf(request.origin)}`;
  where.hidden = bound || (!request.choices?.length && request.numberEntry !== 'type');
  where.textContent = `${site}.`;
  if (where.hidden || typeof request.bindingHash === 'string') return;
  tabOf(request.origin)
    .then((tab) => {
      const title = tab?.title?.trim();
      if (!title || state.current !== id) return;
      const short = title.length > TITLE_CHARS ? `${title.slice(0, TITLE_CHARS - 1)}…` : title;
      where.textContent = `${site}, in the tab “${short}”.`;
    })
    .catch(() => {});
}

/**
 * The numbers (or presence options) to pick from. Pressing one picks it, and only Approve
 * sends it: a stray click or key press on a number answers nothing.
 * @param {(number|string)[]} choices
 */
function showChoices(choices) {
  $('pick').hidden = choices.length === 0;
  $('numbers').hidden = choices.length === 0;
  $('numbers').replaceChildren(
    ...choices.map((choice) => {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'number';
      button.textContent = String(choice);
      button.setAttribute('aria-pressed', 'false');
      button.addEventListener('click', () => pick(choice));
      return button;
    }),
  );
  $('progress').textContent = '';
}

/**
 * The field for the number of a request that asks for it to be typed (docs/protocol.md §4,
 * "Number matching"): empty for each request shown. The number is sent only by Approve.
 * @param {boolean} shown
 */
function showTyped(shown) {
  $('typed').hidden = !shown;
  typedInput().value = '';
  showTypedValidity();
}

/** @returns {HTMLInputElement} */
function typedInput() {
  return /** @type {HTMLInputElement} */ ($('typed-number'));
}

/** Whether the shown request asks for its number to be typed. */
function typedShown() {
  const item = state.pending[state.current ?? ''];
  return !oneClick(item) && /** @type {PushRequest|undefined} */ (item?.request)?.numberEntry === 'type';
}

/**
 * The number typed for the shown request, or null before it is one the sign-in page can show:
 * two digits, 10 to 99 (docs/protocol.md §4, "Number matching"). Anything else is never sent.
 */
function typedNumber() {
  const value = typedInput().value;
  return /^[1-9][0-9]$/.test(value) ? Number(value) : null;
}

/**
 * Marks the field invalid, and says why, while what is typed can no longer become a number of
 * the sign-in page (a leading 0); one digit of a number that can is only unfinished.
 */
function showTypedValidity() {
  const invalid = /^0/.test(typedInput().value);
  typedInput().setAttribute('aria-invalid', String(invalid));
  $('typed-hint').hidden = !invalid;
}

// Only digits go in, at most two; Approve waits for a number of 10 to 99.
typedInput().addEventListener('input', () => {
  const input = typedInput();
  const digits = input.value.replace(/[^0-9]/g, '').slice(0, 2);
  if (digits !== input.value) input.value = digits;
  showTypedValidity();
  showPicked();
});

/** The shown request's choices, as it has them. */
function choicesShown() {
  const item = state.pending[state.current];
  return oneClick(item) ? [] : (item?.request.choices ?? []);
}

/**
 * Picks a number (or option) of the shown request, without sending it.
 * @param {number|string} choice
 */
function pick(choice) {
  if (!state.current || state.busy) return;
  state.picked = { id: state.current, choice };
  showPicked();
  $('progress').textContent = `You picked ${choice}. Approve sends it.`;
}

/** The choice picked (or the number typed) for the shown request, or null. */
export function picked() {
  if (typedShown()) return typedNumber();
  return state.picked?.id === state.current ? state.picked.choice : null;
}

/**
 * A wrong PIN the server counted and kept the request open for: how many tries are left.
 * @param {Pending} shown
 */
function showTried({ tried }) {
  $('tried').hidden = !tried;
  $('tried').textContent = tried ? `${triedMessage(tried)}. Approve to type it again.` : '';
}

/** Marks the picked number; Approve waits for one where there are numbers to pick from. */
function showPicked() {
  const choice = picked();
  for (const button of $('numbers').querySelectorAll('button')) {
    button.setAttribute('aria-pressed', String(choice != null && button.textContent === String(choice)));
  }
  $button('approve').disabled = state.busy || ((choicesShown().length > 0 || typedShown()) && choice == null);
}

/** The controls that answer, or make an answer: disabled while one is on its way. */
export function actionButtons() {
  return [...$('numbers').querySelectorAll('button'), typedInput(), $button('approve'), $button('deny')];
}

/** Moves the focus to the shown request's heading, which answers nothing. */
export function focusRequest() {
  if (!$('request').hidden) $('app').focus();
}

/**
 * Whether the focus was where a new request should take it from: nowhere, or on a control of
 * the request shown before (not, say, in the codes' search field).
 * @param {Focusable|null} focused
 */
function leftBehind(focused) {
  return !focused || focused === document.body || $('request').contains(focused);
}

/**
 * A focused control that went away (or got disabled or hidden) leaves the focus on something useful.
 * @param {Focusable|null} focused
 */
function keepFocus(focused) {
  const active = /** @type {Focusable} */ (document.activeElement);
  if (!focused || focused === document.body || document.querySelector('dialog[open]')) return;
  if (active !== document.body && !active.disabled && active.checkVisibility()) return;
  if (!$('request').hidden) focusRequest();
  else $('outcomes').querySelector('button')?.focus();
}

/** Live times of the shown request; requests that ran out leave the carousel. */
export function tick() {
  const now = Date.now();
  for (const [id, { request }] of Object.entries(state.pending)) {
    if (secondsLeft(request.expiresAt, now) === 0 && !state.outcomes[id] && !state.replies[id] && !state.done.has(id)) {
      // The worker removes it too and writes the same outcome; until then, say it here.
      state.replies[id] = { status: 'expired', reason: null, triesLeft: null, at: now, app: request.app, tokenId: request.tokenId };
      closeDialogsFor(id);
      queueMicrotask(render);
    }
  }
  renderOutcomes(now);
  const shown = state.pending[state.current];
  if (!shown) return;
  $('arrived').textContent = ago(shown.receivedAt, now);
  $('expires').textContent = expiresIn(shown.request.expiresAt, now);
}

/** How long the message of an answer shows, and when it starts to fade. */
const OUTCOME_SHOW_MS = 60_000;
const OUTCOME_FADE_MS = 45_000;

/**
 * The latest outcome the person has not dismissed, while it is recent (or its code-to-phone code
 * can still be filled): older messages say nothing about what is waiting now.
 * @returns {[string, Reply]|undefined}
 */
function latestOutcome(now = Date.now()) {
  const all = { ...state.replies, ...state.outcomes };
  const [latest] = Object.entries(all)
    .filter(([id]) => !state.dismissed.has(id))
    .sort(([, a], [, b]) => b.at - a.at);
  if (!latest) return undefined;
  const [, outcome] = latest;
  return Math.max(outcome.at + OUTCOME_SHOW_MS, outcome.fillableUntil ?? 0) > now ? latest : undefined;
}

let outcomeKeys = '';
/**
 * The message of the latest answer, with how long ago it was: above "No sign-in requests are
 * waiting", or a small line under a waiting request, which always comes first.
 */
export function renderOutcomes(now = Date.now()) {
  const box = $('outcomes');
  const waiting = !$('request').hidden;
  if (waiting && box.previousElementSibling !== $('request')) $('request').after(box);
  if (!waiting && box.nextElementSibling !== $('empty')) $('empty').before(box);
  box.classList.toggle('below', waiting);
  const latest = latestOutcome(now);
  // The fill button of a code-to-phone code names the active tab: a new one renders again.
  const keys = JSON.stringify([latest, target.origin, state.fillNotes]);
  if (keys !== outcomeKeys) {
    outcomeKeys = keys;
    const hadFocus = box.contains(document.activeElement);
    box.replaceChildren(...(latest ? [outcomeBox(...latest)] : []));
    if (hadFocus && document.activeElement === document.body) focusRequest();
  }
  const shown = box.firstElementChild;
  if (!latest || !shown) return;
  const [, outcome] = latest;
  shown.classList.toggle('fading', now - outcome.at >= OUTCOME_FADE_MS && !(outcome.fillableUntil > now));
  find(shown, 'time').textContent = ago(outcome.at, now);
}

/**
 * @param {string} id
 * @param {Reply} outcome
 */
function outcomeBox(id, outcome) {
  const { text, tone } = outcomeMessage(outcome, { pin: state.tokens[outcome.tokenId]?.pin?.required });
  const box = document.createElement('div');
  box.className = `outcome ${tone}`;
  box.dataset.id = id;
  const message = document.createElement('p');
  message.textContent = text;
  const time = document.createElement('time');
  time.className = 'outcome-time';
  time.dateTime = new Date(outcome.at).toISOString();
  time.title = new Date(outcome.at).toLocaleTimeString();
  const body = document.createElement('div');
  body.className = 'outcome-body';
  body.append(message, time);
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
}

/** @param {string} id */
function dismiss(id) {
  state.dismissed.add(id);
  // The worker forgets it too; nothing is lost if it cannot.
  ask({ type: Message.OUTCOME_DISMISS, requestId: id }).catch(() => {});
  render();
  if (document.activeElement === document.body) {
    if ($('request').hidden) $('outcomes').querySelector('button')?.focus();
    else focusRequest();
  }
}

/**
 * The warning on a request that another site asked for than the one in the active tab.
 * @param {((PushRequest|PiChallenge) & {origin?: string})|null} request  a privacyIDEA challenge names
 *   no origin
 */
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
// Navigation

/** @param {-1|1} step */
function move(step) {
  const list = visible();
  const at = list.findIndex((p) => p.id === state.current);
  const next = list[at + step];
  if (!next) return;
  state.current = next.id;
  state.index = at + step;
  render();
}

// The person vouches for the site a request of the token named: its codes are typed there from
// now on (the worker checks that a waiting request of the token names it).
$('confirm-site').addEventListener('click', () => {
  const item = state.pending[/** @type {string} */ ($('request').dataset.id)];
  if (!item) return;
  const { tokenId, origin } = /** @type {PushRequest} */ (item.request);
  // Within the click, the browser may ask the person to let PushOTP act on the site.
  request([origin]);
  ask({ type: Message.TOKEN_CONFIRM_SITE, tokenId, origin }).catch(() => {});
});
$('prev').addEventListener('click', () => move(-1));
$('next').addEventListener('click', () => move(1));

/** Digits typed lately, and when the last one was: typing a number picks it. */
let typed = { digits: '', at: 0 };
const TYPING_PAUSE_MS = 1500;

/**
 * A digit key: where the shown request asks for its number to be typed, the digit goes into
 * that field; else, once the digits typed end with one of the shown request's choices, that
 * choice is picked and the focus goes to Approve, which sends it. Nothing is sent by typing.
 * @param {string} digit
 * @returns {boolean} whether the key was for the number
 */
function typeDigit(digit) {
  // A number to type: the digits go into its field, which the keyboard then stays in.
  if (typedShown() && !state.busy && !$('request').hidden) {
    const input = typedInput();
    input.focus();
    if (input.value.length < 2) input.value += digit;
    showPicked();
    return true;
  }
  const choices = choicesShown().map(String);
  if (!choices.length || state.busy || $('request').hidden) return false;
  const now = Date.now();
  typed = { digits: (now - typed.at > TYPING_PAUSE_MS ? '' : typed.digits) + digit, at: now };
  // The longest choice the digits end with ("37" rather than "7" where both are offered).
  const match = choices.filter((c) => typed.digits.endsWith(c)).sort((a, b) => b.length - a.length)[0];
  if (match === undefined) return true;
  typed = { digits: '', at: 0 };
  const choice = choicesShown().find((c) => String(c) === match);
  pick(choice);
  $button('approve').focus();
  return true;
}

document.addEventListener('keydown', (event) => {
  // The target is an element, or the document itself, which has no `matches`.
  const element = /** @type {Partial<Element>} */ (event.target);
  if (document.querySelector('dialog[open]') || element.matches?.('input, textarea')) return;
  if (event.altKey || event.ctrlKey || event.metaKey) return;
  if (event.key === 'ArrowLeft') move(-1);
  else if (event.key === 'ArrowRight') move(1);
  else if (!(/^[0-9]$/.test(event.key) && typeDigit(event.key))) return;
  event.preventDefault();
});
