// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// privacyIDEA's code-to-phone codes in the popup: under the message of an approval that
// brought a code, where the worker filled it (or why not) and a button to fill it into the
// active tab, asking first about a site that is not the token's own.
import { Message, ask } from '../messages.js';
import { hostOf } from '../words.js';
import { $, confirmSite, find, findTarget, target } from './common.js';
import { renderOutcomes, state } from './requests.js';

/** @typedef {import('./requests.js').Reply} Reply */

/**
 * Under a code-to-phone code: where it was filled (or why not), and a button to fill it into
 * the active tab. The worker fills only a tab of the token's privacyIDEA server or of a site
 * confirmed for the token (the outcome's `trusted`); any other site is asked about first, as for
 * everyday codes.
 * @param {string} id
 * @param {Reply} outcome
 * @returns {HTMLElement[]}
 */
export function piFillParts(id, outcome) {
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
  if (target.origin && fillable(outcome) && !filledHere) {
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
 * Whether a code-to-phone code may still be offered for filling, as the worker marked it: the
 * newest one, while its sign-in can still be waiting for it (the worker refuses the others).
 * @param {Reply} outcome
 */
function fillable(outcome, now = Date.now()) {
  return typeof outcome.fillableUntil === 'number' && now < outcome.fillableUntil;
}

/**
 * @param {string} id
 * @param {Reply} outcome
 */
async function fillPiCode(id, outcome) {
  await findTarget();
  // The tab and the site the person is asked about: the worker fills only while the tab is
  // still there, so a page that navigates during the question gets neither the code nor the trust.
  const { tab, origin } = target;
  const token = state.piTokens[outcome.tokenId];
  const focusBack = () => find($('outcomes'), `[data-id="${CSS.escape(id)}"] button`)?.focus();
  if (!token || !origin) {
    state.fillNotes[id] = 'Codes can only be filled into web pages.';
    renderOutcomes();
    return;
  }
  const host = hostOf(origin);
  let confirmed = false;
  if (!(outcome.trusted ?? []).includes(origin)) {
    // The site to confirm is where the person signs in with this token, not privacyIDEA's own.
    const title = `Fill codes of ${token.label} (${token.issuer}) into ${host}? Only confirm if you sign in there with this privacyIDEA token.`;
    confirmed = await confirmSite(token, origin, title);
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
