// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// Keeping push tokens in the service worker: adding one (its approval keys into the vault),
// changing, forgetting, and moving the keys of tokens from earlier versions into the vault.
// Every step runs in the worker's storage queue.
import { forget } from './inbox.js';
import { coded } from './messages.js';
import { serial } from './queue.js';
import { deletePushToken, pushTokens, savePushToken, savePushTokens } from './store.js';
import { updateSecrets } from './vault.js';

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
