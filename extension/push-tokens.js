// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// Keeping push tokens in the service worker: adding one (its approval keys into the vault),
// changing, forgetting, and moving the keys of tokens from earlier versions into the vault.
// Every step runs in the worker's storage queue.
import { forget, note } from './inbox.js';
import { coded } from './messages.js';
import { serial } from './queue.js';
import { deletePushToken, pending, pushTokens, savePushToken, savePushTokens } from './store.js';
import { updateSecrets } from './vault.js';
import { mayFill, toolsReady } from './worker-tools.js';
import { MAX_SITES } from './fill.js';

/** @typedef {import('./store.js').PushToken} PushToken */

/**
 * Runs a token change in the same queue as the request steps.
 * @param {string} tokenId
 * @param {(token: PushToken) => PushToken} change
 */
export function updateToken(tokenId, change) {
  return serial(async () => {
    const token = (await pushTokens())[tokenId];
    if (!token) throw coded('unknown_token', 'No such token.');
    await savePushToken(change(token));
  });
}

/**
 * The person confirms `origin`, named by a request of token `tokenId` waiting now, as a site
 * where the sign-in codes of the token's approvals are typed (protocol §4, "Where the sign-in code
 * goes"): it joins the
 * token's `sites` (at most MAX_SITES, web origins only), and the token's waiting requests
 * naming it lose their `foreign` mark.
 * @param {unknown} tokenId
 * @param {unknown} origin
 */
export async function confirmSite(tokenId, origin) {
  await toolsReady();
  return serial(async () => {
    const token = typeof tokenId === 'string' ? (await pushTokens())[tokenId] : undefined;
    if (!token) throw coded('unknown_token', 'No such token.');
    // Only a site the person was shown, in a request of this token.
    const named = Object.entries(await pending()).filter(
      ([, p]) => p.kind === 'push' && p.request.tokenId === tokenId && /** @type {import('./store.js').PushRequest} */ (p.request).origin === origin,
    );
    if (!named.length || typeof origin !== 'string') throw coded('invalid_parameter', 'No request of this token waiting now names that site.');
    const sites = token.sites ?? [];
    if (sites.length >= MAX_SITES) throw coded('invalid_parameter', 'This token has too many sites.');
    const changed = sites.includes(origin) ? token : { ...token, sites: [...sites, origin] };
    // Listed now, it fills unless it is no web origin as browsers write one (the core's rule).
    if (!mayFill(changed, origin)) throw coded('invalid_parameter', 'That is not a web site.');
    await savePushToken(changed);
    for (const [id] of named) await note(id, { foreign: false });
  });
}

/**
 * Keeps a newly enrolled token (replacing one with the same id). `K_otp` and `K_ans` of a token
 * without PIN go into the vault (which must then be unlocked); the token keeps `K_req` and
 * `K_chan` only, so that its requests are received and checked while the vault is locked.
 * @param {PushToken} token
 */
export function addToken(token) {
  return serial(async () => {
    const { otp, answer, ...clear } = token.keys;
    if (!token.pin.required) {
      await updateSecrets((s) => ({ ...s, push: { ...s.push, [token.tokenId]: { otp, answer } } }));
    }
    await savePushToken({ ...token, keys: clear });
  });
}

/**
 * Forgets a token, its approval keys and its pending requests. While the vault is locked the
 * sealed keys stay behind; they are dropped at the next import.
 * @param {string} tokenId
 */
export async function forgetToken(tokenId) {
  await serial(async () => {
    await deletePushToken(tokenId);
    await updateSecrets((s) => {
      delete s.push[tokenId];
      return s;
    }).catch((err) => {
      if (err.code !== 'locked') throw err;
    });
  });
  // After the token: a request arriving meanwhile finds no token and is dropped.
  await forget('push', tokenId);
}

/**
 * Moves the approval keys that tokens enrolled by earlier versions keep in clear into the
 * vault, once. The secrets are written before the tokens lose their keys, so that an
 * interruption loses nothing; running it again finishes the work.
 */
export function migrateKeys() {
  return serial(async () => {
    const tokens = await pushTokens();
    const old = Object.values(tokens).filter((t) => !t.pin?.required && t.keys?.otp && t.keys?.answer);
    if (old.length === 0) return;
    await updateSecrets((s) => {
      for (const t of old) s.push[t.tokenId] ??= { otp: /** @type {string} */ (t.keys.otp), answer: /** @type {string} */ (t.keys.answer) };
      return s;
    });
    for (const t of old) {
      const { otp, answer, ...clear } = t.keys;
      tokens[t.tokenId] = { ...t, keys: clear };
    }
    await savePushTokens(tokens);
  });
}
