// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// Push tokens moving between browsers (docs/protocol.md §8). An imported token is restored at
// its server before it is kept: the server moves it to new request and channel keys, and the
// copy approves at once (its passcodes are bound to each request). The browser it came from
// is refused from then on with `restored_elsewhere`, tagged under the old request key; it
// checks that tag before it gives the token up, so that nobody but the server can make it.
import { ready, restoredKeys, restoreTag } from './core.js';
import { serial } from './queue.js';
import { randomB64url } from './sealing.js';
import { pushTokens, readLocal, savePushToken, writeLocal } from './store.js';
import { isRestoredElsewhere, toolsReady } from './worker-tools.js';

const RESTORE_TIMEOUT_MS = 15_000;

/** @typedef {import('./store.js').PushToken} PushToken */

/**
 * Why an imported token was not restored: its server could not be reached (or failed; the same
 * restore can be sent again), it was restored in another browser after the export was made, or
 * the server refused it (removed, revoked) or answered with a tag that does not verify.
 * @typedef {'unreachable'|'restored_elsewhere'|'refused'} Refusal
 */

/**
 * The nonce of the restore of `tokenId`: the one of an earlier restore whose answer never
 * arrived, so that the server answers it again, or a new one, kept until the answer arrives.
 * @param {string} tokenId
 */
function nonceFor(tokenId) {
  return serial(async () => {
    const { restores = {} } = await readLocal(['restores']);
    if (!restores[tokenId]) {
      restores[tokenId] = randomB64url(16);
      await writeLocal({ restores });
    }
    return restores[tokenId];
  });
}

/**
 * Forgets the nonces of restores that are over: answered and kept, or refused for good.
 * Runs inside the storage queue.
 * @param {string[]} tokenIds
 */
export async function forgetRestores(tokenIds) {
  const { restores = {} } = await readLocal(['restores']);
  for (const id of tokenIds) delete restores[id];
  await writeLocal({ restores });
}

/**
 * Restores an imported push token at its server (protocol §8): the token with its new request
 * and channel keys, or why not.
 * @param {PushToken} token  as the export file holds it
 * @returns {Promise<{token: PushToken}|{refused: Refusal}>}
 */
export async function restoreToken(token) {
  await ready;
  const { tokenId } = token;
  const nonce = await nonceFor(tokenId);
  // Protocol version 2 (docs/protocol.md): the `v` of every message.
  const body = { v: 2, tokenId, nonce, tag: restoreTag(token.keys.channel, tokenId, nonce) };
  let reply;
  let answer;
  try {
    reply = await fetch(`${token.server}/api/v1/devices/restore`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      cache: 'no-store',
      signal: AbortSignal.timeout(RESTORE_TIMEOUT_MS),
    });
    answer = await reply.json();
  } catch {
    return { refused: 'unreachable' };
  }
  if (reply.status === 410 && answer?.error === 'restored_elsewhere') return { refused: 'restored_elsewhere' };
  if (reply.status >= 500) return { refused: 'unreachable' };
  if (!reply.ok) return { refused: 'refused' };
  let keys;
  try {
    keys = restoredKeys(token.keys.channel, tokenId, nonce, answer.v, answer.tokenId, answer.counter, answer.tag);
  } catch {
    return { refused: 'refused' };
  }
  const [request, channel] = keys;
  // The answer's `counter` is 0 (protocol §8): approval passcodes are bound to the request, so
  // the copy has nothing to catch up with.
  return { token: { ...token, keys: { ...token.keys, request, channel } } };
}

/**
 * `server` refused its token `tokenId` because another browser restored it (protocol §8). If
 * `tag` proves that under the token's request key, the token is marked: it receives and
 * answers nothing more here, and the options page says why. Returns whether it was marked. A
 * server speaks only for its own tokens: about another server's token it changes nothing.
 * @param {string} server
 * @param {string} tokenId
 * @param {unknown} tag
 */
export async function restoredElsewhere(server, tokenId, tag) {
  // A rare event: its check is in the larger module, loaded now if it is not yet.
  await toolsReady();
  return serial(async () => {
    const token = (await pushTokens())[tokenId];
    if (!token || token.server !== server) return false;
    if (token.restoredElsewhereAt) return true;
    if (typeof tag !== 'string' || !isRestoredElsewhere(token.keys.request, tokenId, tag)) {
      console.warn(`PushOTP: ignored an unproven "restored elsewhere" for token ${tokenId}`);
      return false;
    }
    await savePushToken({ ...token, restoredElsewhereAt: Date.now() });
    return true;
  });
}
