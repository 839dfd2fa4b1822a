// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// Ordinary TOTP/HOTP tokens in the service worker: adding, renaming, reordering and deleting
// them, their codes, and filling a code into a login page. Names, parameters, counters and sites
// are kept in `otpTokens` (store.js); the secrets only in the vault (vault.js). Every write runs
// in the worker's storage queue.
import { hotp, ready, totp, totpCodes } from './core.js';
import { admit, fillTab, tabOrigin } from './fill.js';
import { coded } from './messages.js';
import { serial } from './queue.js';
import { randomB64url } from './sealing.js';
import { otpTokens, saveOtpTokens } from './store.js';
import { secrets, touch, updateSecrets } from './vault.js';
import { checkOtpNames, checkOtpToken, toolsReady } from './worker-tools.js';

/** A new random id: 16 bytes, base64url without padding. */
const newId = () => randomB64url(16);

/**
 * Checks one token to add (the page's parser checked it already; this is the worker's own
 * check, the core's) and splits it into the stored metadata and its secret, normalised as the
 * core reads it, so that the same key typed two ways is one token.
 * @param {unknown} token
 * @returns {{meta: Omit<import('./store.js').OtpToken, 'id'|'order'|'addedAt'>, secret: string}}
 */
function checked(token) {
  const { secret, ...meta } = checkOtpToken(token);
  return { meta, secret };
}

/**
 * Adds tokens; the whole batch is checked before anything is stored. Tokens already kept (same
 * issuer, account and secret), or repeated within the batch, are skipped and reported.
 * @returns {Promise<{ids: string[], skipped: {issuer: string, account: string}[]}>}
 */
export async function add(tokens) {
  if (!Array.isArray(tokens) || tokens.length === 0 || tokens.length > 1000) {
    throw coded('invalid_parameter', 'No tokens to add.');
  }
  await toolsReady();
  const batch = tokens.map(checked);
  return serial(async () => {
    const stored = await otpTokens();
    const keys = await secrets();
    const key = (issuer, account, secret) => JSON.stringify([issuer, account, secret]);
    // Kept secrets compare as they are: each was stored as `checked` normalised it (an import
    // checks and normalises them the same way).
    const known = new Set(Object.values(stored).map((t) => key(t.issuer, t.account, keys.otp[t.id] ?? '')));
    let order = Math.max(-1, ...Object.values(stored).map((t) => t.order)) + 1;
    const ids = [];
    const skipped = [];
    const added = {};
    const now = Date.now();
    for (const { meta, secret } of batch) {
      const k = key(meta.issuer, meta.account, secret);
      if (known.has(k)) {
        skipped.push({ issuer: meta.issuer, account: meta.account });
        continue;
      }
      known.add(k);
      const id = newId();
      stored[id] = /** @type {import('./store.js').OtpToken} */ ({ id, ...meta, order: order++, addedAt: now });
      added[id] = secret;
      ids.push(id);
    }
    if (ids.length > 0) {
      // The secrets first: a token listed without its secret could not make codes.
      await updateSecrets((all) => ({ ...all, otp: { ...all.otp, ...added } }));
      await saveOtpTokens(stored);
    }
    return { ids, skipped };
  });
}

/**
 * Changes a token's issuer and account names, checked and trimmed by the core as for a new
 * token (`invalid_parameter`).
 * @param {string} id
 * @param {unknown} issuer
 * @param {unknown} account
 */
export async function rename(id, issuer, account) {
  await toolsReady();
  return serial(async () => {
    const stored = await otpTokens();
    const token = stored[id];
    if (!token) throw coded('unknown_token', 'No such token.');
    const names = checkOtpNames(issuer, account);
    stored[id] = { ...token, issuer: names.issuer, account: names.account };
    await saveOtpTokens(stored);
  });
}

/** Puts the tokens in the order of `ids`, which must name every token once. */
export function reorder(ids) {
  return serial(async () => {
    const stored = await otpTokens();
    const all = Object.keys(stored);
    if (!Array.isArray(ids) || ids.length !== all.length || new Set(ids).size !== ids.length || !ids.every((id) => stored[id])) {
      throw coded('invalid_parameter', 'The new order must name every token once.');
    }
    ids.forEach((id, index) => {
      stored[id] = { ...stored[id], order: index };
    });
    await saveOtpTokens(stored);
  });
}

/** Deletes a token and its secret. */
export function remove(id) {
  return serial(async () => {
    const stored = await otpTokens();
    if (!stored[id]) throw coded('unknown_token', 'No such token.');
    await updateSecrets((all) => {
      const otp = { ...all.otp };
      delete otp[id];
      return { ...all, otp };
    });
    delete stored[id];
    await saveOtpTokens(stored);
  });
}

/** The current code and seconds left of every TOTP token at `at` (ms). Throws `locked`. */
export async function codes(at = Date.now()) {
  if (!Number.isFinite(at) || at < 0) throw coded('invalid_parameter', 'The time is out of range.');
  await ready;
  const [stored, keys] = await Promise.all([otpTokens(), secrets()]);
  const listed = Object.values(stored).filter((token) => token.type === 'totp' && keys.otp[token.id]);
  // One call into the core for the whole list: crossing into WebAssembly costs more than a
  // code. The codes come back as numbers, without their leading zeros.
  const numbers = totpCodes(listed.map((token) => ({ ...token, secret: keys.otp[token.id] })), at);
  const step = Math.floor(at / 1000);
  const result = {};
  listed.forEach((token, i) => {
    result[token.id] = {
      code: String(numbers[i]).padStart(token.digits, '0'),
      secondsLeft: token.period - (step % token.period),
    };
  });
  // Codes on screen are activity: the auto-lock countdown starts again.
  await touch();
  return result;
}

/** Inside the queue: the HOTP code of the token's counter, the counter moved on and saved first. */
async function nextInQueue(id) {
  const stored = await otpTokens();
  const token = stored[id];
  if (!token) throw coded('unknown_token', 'No such token.');
  if (token.type !== 'hotp') throw coded('invalid_parameter', 'Only HOTP tokens have a next code.');
  const secret = (await secrets()).otp[id];
  if (!secret) throw coded('unknown_token', 'The secret of this token is missing.');
  const code = hotp({ ...token, secret }, token.counter);
  // Saved before the code leaves: after a restart the next code is a new one.
  stored[id] = { ...token, counter: token.counter + 1 };
  await saveOtpTokens(stored);
  await touch();
  return code;
}

/** The next HOTP code of a token; its counter is saved before the code is returned. */
export async function next(id) {
  await ready;
  return serial(() => nextInQueue(id));
}

/** A token's code to fill: TOTP the current one, HOTP the next one (its counter saved first). */
export async function currentCode(id) {
  await ready;
  return serial(async () => {
    const token = (await otpTokens())[id];
    if (!token) throw coded('unknown_token', 'No such token.');
    if (token.type === 'hotp') return nextInQueue(id);
    const secret = (await secrets()).otp[id];
    if (!secret) throw coded('unknown_token', 'The secret of this token is missing.');
    return totp({ ...token, secret }, Date.now());
  });
}

/**
 * Fills a token's code (TOTP: the current one; HOTP: the next one) into the tab `tabId`, whose
 * origin must be one of the token's sites; with `confirmSite` it is added to them first.
 * `expected` is the site the popup named to the person: a tab that navigated away while the
 * person was asked is refused with `tab_changed`, so that only the site the person saw is ever
 * trusted. The origin filled is always the tab's own, read here.
 * @returns {Promise<{filled: boolean, code: string}>}
 */
export async function fill(id, tabId, confirmSite = false, expected = null) {
  await ready;
  const origin = await tabOrigin(tabId, expected, confirmSite);
  const code = await serial(async () => {
    const stored = await otpTokens();
    const token = stored[id];
    if (!token) throw coded('unknown_token', 'No such token.');
    const sites = admit(origin, token.sites, token.sites, confirmSite);
    if (sites) {
      stored[id] = { ...token, sites };
      await saveOtpTokens(stored);
    }
    if (token.type === 'hotp') return nextInQueue(id);
    const secret = (await secrets()).otp[id];
    if (!secret) throw coded('unknown_token', 'The secret of this token is missing.');
    return totp({ ...token, secret }, Date.now());
  });
  return { filled: await fillTab(tabId, origin, code), code };
}
