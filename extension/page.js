// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// What a page's content script may ask the service worker (messages.js `FromPage`): which
// ordinary tokens the person confirmed for the page's origin, to fill one's code into the asking
// frame, and that the page waits for a privacyIDEA push. The origin is the one the browser
// reports for the sender, never one the page claims, and nothing else a content script sends is
// answered. A code is made only for a frame whose every ancestor has its origin (fill.js
// `framesOf`).
import { admit, fillTab, framesOf } from './fill.js';
import { FromPage } from './messages.js';
import { pageWaiting } from './privacyidea.js';
import { byOrder, otpTokens } from './store.js';

/** @param {chrome.runtime.MessageSender} sender */
function senderOrigin(sender) {
  return typeof sender.origin === 'string' && /^https?:\/\//.test(sender.origin) ? sender.origin : null;
}

/**
 * Answers one content-script message. `codeOf(id)` gives the token's current code (the next
 * one for HOTP, its counter saved first).
 * @param {import('./messages.js').FromContent} message
 * @param {chrome.runtime.MessageSender} sender
 * @param {(id: string) => Promise<string>} codeOf
 */
export async function onPageMessage(message, sender, codeOf) {
  const origin = senderOrigin(sender);
  const tab = sender.tab;
  if (!origin || tab?.id === undefined) return { ok: false, error: { code: 'forbidden', message: 'no page origin' } };
  if (message?.type === FromPage.PI_WAITING) {
    // Only a top frame's word names its tab as where a sign-in waits: a framed page's is no
    // sign of the tab's own site.
    return { ok: true, polling: await pageWaiting(origin, sender.frameId === 0 ? tab.id : null) };
  }
  const tokens = await otpTokens();
  switch (message?.type) {
    case FromPage.TOKENS: {
      const confirmed = byOrder(tokens).filter((t) => t.sites?.includes(origin));
      return { ok: true, tokens: confirmed.map(({ id, issuer, account }) => ({ id, issuer, account })) };
    }
    case FromPage.FILL: {
      // A page gets only the codes of tokens confirmed for its origin: it cannot confirm one.
      const token = typeof message.id === 'string' && Object.hasOwn(tokens, message.id) ? tokens[message.id] : null;
      admit(origin, token?.sites ?? [], [], false);
      // The asking frame, and every frame above it, must be of its origin before a code is
      // made: a confirmed site framed by another page (which may have lured the click) gets
      // none, and no HOTP counter moves for it. Checked anew here, not taken from the asking
      // script, whose word is not proof: the tab's top origin as the browser reports it, the
      // frame's ancestors read in the frame itself. The document id pins the frame until the
      // code is sent.
      const frames = (await framesOf(tab.id, origin)).filter(
        (f) => f.frameId === sender.frameId && (sender.documentId === undefined || f.documentId === sender.documentId),
      );
      if (!frames.length) return { ok: false, error: { code: 'framed', message: 'This frame is inside a page of another site.' } };
      const passcode = await codeOf(message.id);
      return { ok: true, filled: await fillTab(tab.id, origin, passcode, { frames }) };
    }
    default:
      return { ok: false, error: { code: 'forbidden', message: 'not an extension page' } };
  }
}
