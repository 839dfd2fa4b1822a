// SPDX-License-Identifier: MIT OR Apache-2.0
// What the extension keeps, and where. Every page and the service worker read and write through
// these functions so that the shapes below are the only ones in storage.
//
// chrome.storage.local (survives restarts):
//   pushTokens  { [tokenId]: PushToken }
//   otpTokens   { [id]: OtpToken }         ordinary TOTP/HOTP tokens, without their secrets
//   secrets     the tokens' secrets, read and written only by the worker (vault.js)
//   piTokens    { [serial]: PiToken }      privacyIDEA push tokens (privacyidea.js); their
//                                          device keys are in IndexedDB `pushotp-privacyidea`
//   settings    Settings
// chrome.storage.session (memory only, cleared when the browser closes):
//   pending     { [requestId]: Pending }   requests shown in the popup; privacyIDEA
//                                          challenges have `kind: 'privacyidea'` (privacyidea.js)
//   seen        { [requestId]: expiresAt } ids already accepted, so a replay is never shown twice
//   outcomes    { [requestId]: Outcome }   how recent answers ended, for the popup's messages
//   vaultKey    the key of the password-protected secrets while unlocked (vault.js)
//   lockAt      ms, when the auto-lock removes `vaultKey`

/**
 * @typedef {object} PushToken  A token enrolled from an activation link (docs/protocol.md §3).
 * @property {string} tokenId
 * @property {string} server       base URL, no trailing slash
 * @property {string} tokenName
 * @property {string} user
 * @property {string} issuer
 * @property {string} deviceName
 * @property {{type: 'hotp'|'totp', algorithm: string, digits: number, counter?: number, period?: number}} otp
 *   For HOTP, `counter` is the next counter to use; it is saved before a passcode leaves.
 * @property {{required: boolean, maxTries: number}} pin
 * @property {{request: string, channel: string}} keys
 *   base64url. `K_otp` and `K_ans` are in the vault (vault.js), or, when the token is
 *   PIN-protected, in `masked`.
 * @property {object} [masked]     the PIN-masked keys (§6), as `maskKeys` returns them
 * @property {boolean} enabled      push requests on for this token
 * @property {number} addedAt       ms
 */

/**
 * @typedef {object} OtpToken  An ordinary token from an otpauth:// URI, a migration QR code or
 *   typed in. Its base32 secret is in the vault (vault.js), never here.
 * @property {string} id           random, base64url
 * @property {string} issuer
 * @property {string} account
 * @property {'totp'|'hotp'} type
 * @property {'SHA1'|'SHA256'|'SHA512'} algorithm
 * @property {number} digits
 * @property {number} [period]     TOTP, seconds
 * @property {number} [counter]    HOTP: the counter of the next code; saved before a code is shown
 * @property {string[]} sites      origins the person confirmed for filling this token's codes
 * @property {number} order        position in the list, ascending
 * @property {number} addedAt      ms
 */

/**
 * @typedef {object} Settings
 * @property {boolean} pushEnabled              push requests on overall
 * @property {boolean} notifications            announce requests with a browser notification
 * @property {boolean} approveFromNotification  Approve/Deny buttons on the notification
 * @property {boolean} autoSubmit               submit the login form after filling the passcode
 * @property {string} deviceName                sent at enrollment
 * @property {number} autoLockMinutes           lock the password-protected secrets after this
 *   long without use; 0 never
 */

/**
 * @typedef {object} Pending  A checked request waiting for the person.
 * @property {object} request      the request as the server sent it (§4), already verified
 * @property {number} receivedAt   ms
 * @property {'socket'|'poll'|'webpush'} via
 */

/**
 * @typedef {object} Outcome
 * @property {'approved'|'denied'|'reported'|'rejected'|'expired'|'failed'} status
 * @property {string|null} reason     the server's reason, or a local one such as `unreachable`
 * @property {number|null} triesLeft
 * @property {number} at              ms
 * @property {string} app
 * @property {string} tokenId
 */

/** @type {Settings} */
export const DEFAULT_SETTINGS = Object.freeze({
  pushEnabled: true,
  notifications: true,
  approveFromNotification: true,
  autoSubmit: false,
  deviceName: defaultDeviceName(),
  autoLockMinutes: 15,
});

function defaultDeviceName() {
  const ua = globalThis.navigator?.userAgent ?? '';
  const browser = /Edg\//.test(ua) ? 'Edge' : /Firefox\//.test(ua) ? 'Firefox' : 'Chrome';
  const os = /Windows/.test(ua) ? 'Windows' : /Mac OS/.test(ua) ? 'macOS' : /CrOS/.test(ua) ? 'ChromeOS' : 'Linux';
  return `${browser} on ${os}`;
}

/** @returns {Promise<{[tokenId: string]: PushToken}>} */
export async function pushTokens() {
  return (await chrome.storage.local.get('pushTokens')).pushTokens ?? {};
}

/** Saves one token (added or changed). */
export async function savePushToken(token) {
  const tokens = await pushTokens();
  tokens[token.tokenId] = token;
  await chrome.storage.local.set({ pushTokens: tokens });
}

/** Forgets one token. */
export async function deletePushToken(tokenId) {
  const tokens = await pushTokens();
  delete tokens[tokenId];
  await chrome.storage.local.set({ pushTokens: tokens });
}

/** @returns {Promise<{[id: string]: OtpToken}>} */
export async function otpTokens() {
  return (await chrome.storage.local.get('otpTokens')).otpTokens ?? {};
}

/** Ordinary tokens in the person's order. */
export function byOrder(tokenMap) {
  return Object.values(tokenMap).sort((a, b) => a.order - b.order || a.addedAt - b.addedAt);
}

/** @returns {Promise<Settings>} */
export async function settings() {
  return { ...DEFAULT_SETTINGS, ...(await chrome.storage.local.get('settings')).settings };
}

/** Changes some settings, keeping the others. */
export async function saveSettings(changes) {
  await chrome.storage.local.set({ settings: { ...(await settings()), ...changes } });
}

/** @returns {Promise<{[requestId: string]: Pending}>} */
export async function pending() {
  return (await chrome.storage.session.get('pending')).pending ?? {};
}

/** @returns {Promise<{[requestId: string]: Outcome}>} */
export async function outcomes() {
  return (await chrome.storage.session.get('outcomes')).outcomes ?? {};
}

/** Pending requests in the order they arrived, oldest first. */
export function inOrder(pendingMap) {
  return Object.values(pendingMap).sort((a, b) => a.receivedAt - b.receivedAt);
}
