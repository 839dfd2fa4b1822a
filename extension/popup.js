// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// The toolbar popup: pending sign-in requests, one at a time, and how recent answers ended
// (popup/requests.js; answering in popup/answer.js; privacyIDEA's code-to-phone codes in
// popup/pi-codes.js; privacyIDEA PIN tokens that wait for their PIN to poll, popup/pi-resume.js),
// and the everyday (TOTP/HOTP) codes with copy and fill (popup/codes.js).
// This entry reads storage, follows its changes and starts the clock.
// It only reads storage (store.js); the service worker checks, keeps and answers requests, so
// every answer here is a message to it.
import { Message, ask } from './messages.js';
import { closeDialogsFor } from './popup/answer.js';
import { codes, codesTick, refreshCodes, renderCodes } from './popup/codes.js';
import { findTarget } from './popup/common.js';
import { renderPiResume, resumeState } from './popup/pi-resume.js';
import { render, state, tick } from './popup/requests.js';
import { onChanged, readLocal, readSession } from './store.js';

// ---------------------------------------------------------------------------------------------
// Storage

onChanged((changes, area) => {
  if (area === 'session' && changes.pending) {
    state.pending = changes.pending.newValue ?? {};
    for (const id of Object.keys(changes.pending.oldValue ?? {})) if (!state.pending[id]) closeDialogsFor(id);
  }
  if (area === 'session' && changes.outcomes) state.outcomes = changes.outcomes.newValue ?? {};
  if (area === 'local' && changes.pushTokens) state.tokens = changes.pushTokens.newValue ?? {};
  if (area === 'local' && changes.piTokens) state.piTokens = changes.piTokens.newValue ?? {};
  if (area === 'session' && changes.piSeeds) resumeState.awake = Object.keys(changes.piSeeds.newValue ?? {});
  if (changes.piTokens || changes.piSeeds) {
    resumeState.piTokens = state.piTokens;
    renderPiResume();
  }
  if (changes.pending || changes.outcomes || changes.pushTokens || changes.piTokens) render();
  if (area === 'local' && changes.otpTokens) {
    codes.tokens = changes.otpTokens.newValue ?? {};
    renderCodes();
  }
  // Unlocked (or locked) elsewhere: the codes come back (or go).
  if ((area === 'local' && changes.secrets) || (area === 'session' && changes.vaultKey)) refreshCodes();
});

async function start() {
  const [session, local] = await Promise.all([
    readSession(['pending', 'outcomes', 'piSeeds']),
    readLocal(['pushTokens', 'otpTokens', 'piTokens']),
    findTarget().catch(() => {}),
  ]);
  state.pending = session.pending ?? {};
  state.outcomes = session.outcomes ?? {};
  state.tokens = local.pushTokens ?? {};
  codes.tokens = local.otpTokens ?? {};
  state.piTokens = local.piTokens ?? {};
  resumeState.piTokens = state.piTokens;
  resumeState.awake = Object.keys(session.piSeeds ?? {});
  renderPiResume();
  render({ focus: true });
  renderCodes();
  await refreshCodes();
  setInterval(() => {
    tick();
    codesTick();
  }, 1000);
  // Fetch what servers have that the worker may have missed, and where each request started as
  // the tabs are now; storage changes bring it here. Marked once done, for DevTools (and the
  // end-to-end tests) to tell a request shown before the refresh from one shown after it.
  ask({ type: Message.REQUESTS_REFRESH })
    .catch(() => {})
    .finally(() => {
      document.body.dataset.refreshed = '';
    });
}

start();
