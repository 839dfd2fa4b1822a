// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// What the extension keeps, and where. This module is the only one that calls chrome.storage:
// every page and the service worker read and write through it, so that the keys and shapes
// below are the only ones in storage. A key that is not listed here is refused.
//
// chrome.storage.local (survives restarts):
//   pushTokens  { [tokenId]: PushToken }
//   otpTokens   { [id]: OtpToken }         ordinary TOTP/HOTP tokens, without their secrets
//   secrets     Secrets                    the tokens' secrets, read and written only by the
//                                          worker (vault.js)
//   piTokens    { [serial]: PiToken }      privacyIDEA push tokens (privacyidea.js); their
//                                          device seeds are in `secrets` (`pi`)
//   settings    Settings                   (only the changed ones; `settings()` adds defaults)
//   webPush     { [tokenId]: endpoint }    tokens whose server has this browser's Web Push
//                                          subscription (channel.js)
//   restores    { [tokenId]: nonce }       restores of imported push tokens whose answer has
//                                          not arrived yet, sent again with the same nonce
//                                          (restore.js)
// chrome.storage.session (memory only, cleared when the browser closes):
//   pending     { [requestId]: Pending }   requests waiting for the person (inbox.js)
//   seen        { [requestId]: expiresAt } ids already accepted (Unix seconds), so a replay is
//                                          never shown twice
//   outcomes    { [requestId]: Outcome }   how recent answers ended, for the popup's messages
//   refused     { [tokenId]: ms }          tokens a server refused on the socket; not presented
//                                          again until the tokens change (channel.js)
//   enrollments { [id]: Enrollment }       push tokens a server accepted that wait for their PIN
//                                          or another try at saving (enroll.js)
//   vaultKey    string                     the key of the password-protected secrets while
//                                          unlocked (vault.js)
//   lockAt      ms                         when the auto-lock removes `vaultKey`
//   piSeeds     { [serial]: seed }         the seeds of privacyIDEA PIN tokens whose PIN was
//                                          used in this session, for polling only
//                                          (privacyidea-keys.js); the lock removes them

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
 * @property {{request: string, channel: string, otp?: string, answer?: string}} keys
 *   base64url. `K_otp` and `K_ans` are in the vault (vault.js), or, when the token is
 *   PIN-protected, in `masked`; tokens of earlier versions had them here (moved once at start).
 * @property {object} [masked]     the PIN-masked keys (§6), as `maskKeys` returns them
 * @property {boolean} enabled      push requests on for this token
 * @property {number} addedAt       ms
 * @property {number} [restoredElsewhereAt]  ms: when its server said that another browser
 *   restored the token from an export (§8); it receives and answers nothing here since
 * @property {{wrong_passcodes?: number, authenticator_added?: number}} [notices]  ms: when the
 *   newest notice of each kind about the token happened (§4, "Notices about a token")
 * @property {{authenticator_added?: number}} [ownNotices]  ms: those of `notices` that were
 *   about this browser's own doing (a token it added itself), and so not shown
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
 * @typedef {object} PiToken  A privacyIDEA push token.
 * @property {string} serial
 * @property {string} label
 * @property {string} issuer
 * @property {string} url          where polls and answers go (`…/ttype/push`)
 * @property {boolean} sslverify
 * @property {number} ttlMinutes
 * @property {string} serverKey    the server's public key, base64 SPKI
 * @property {boolean} pin          the server asks for a PIN before answering
 * @property {string|null} appForceUnlock
 * @property {object} [pinCheck]  only in tokens stored by an earlier version (a PIN check that
 *   confirmed PINs offline); such a token must be enrolled again (`enroll_again`)
 * @property {boolean} enabled
 * @property {number} addedAt      ms
 * @property {string[]} [sites]    origins the person confirmed for filling this token's
 *   code-to-phone codes, besides the privacyIDEA server's own origin
 */

/**
 * @typedef {{otp: {[id: string]: string}, push: {[tokenId: string]: {otp: string, answer: string}}, pi: {[serial: string]: {seed?: string, masked?: object}}}} PlainSecrets
 *   `pi`: each privacyIDEA token's device seed, plain (`seed`) or masked with its PIN (`masked`,
 *   docs/privacyidea.md)
 * @typedef {{v: 1, kdf: Kdf, iv: string, data: string}} Sealed  AES-256-GCM of JSON (vault.js)
 * @typedef {{salt: string, memoryKib: number, iterations: number, parallelism: number}} Kdf
 * @typedef {Partial<PlainSecrets> & {sealed?: Sealed}} Secrets  plain (`otp`, `push`) without a
 *   password, else only `sealed`
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
 * @typedef {object} PushRequest  A push login request as the server sent it (docs/protocol.md
 *   §4), verified by the core before it is kept.
 * @property {string} id
 * @property {string} tokenId
 * @property {string} app
 * @property {string} origin
 * @property {string} clientIp
 * @property {{city?: string, country?: string, latE6: number, lonE6: number}|null} [place]
 * @property {number} createdAt    Unix seconds
 * @property {number} expiresAt    Unix seconds
 * @property {number[]|null} [choices]
 */

/**
 * @typedef {object} PiChallenge  A privacyIDEA challenge whose signatures verified
 *   (privacyidea-requests.js); `id` is `pi:<serial>:<nonce>`, `tokenId` the serial.
 * @property {string} id
 * @property {string} tokenId
 * @property {string} app           the challenge's title
 * @property {string} question
 * @property {string} nonce
 * @property {string} url           where the answer goes
 * @property {string} serial
 * @property {string} issuer
 * @property {string[]} [choices]   presence options
 * @property {boolean} declineReason  the signed capabilities offer decline reasons
 * @property {number} expiresAt     Unix seconds: how long it is offered
 */

/**
 * @typedef {'push'|'privacyidea'} Kind  Which adapter a request belongs to (inbox.js).
 * @typedef {'socket'|'poll'|'webpush'} Via
 */

/**
 * @typedef {object} Pending  A checked request waiting for the person.
 * @property {Kind} kind
 * @property {PushRequest|PiChallenge} request  `PushRequest` for 'push', `PiChallenge` for 'privacyidea'
 * @property {number} receivedAt   ms
 * @property {Via} via
 * @property {boolean} pin         approving needs the token's PIN
 * @property {Tried} [tried]       its last answer failed and left it waiting (a wrong PIN)
 */

/**
 * @typedef {object} Tried  A failed try that left its request waiting for another answer: the
 *   server counted it (docs/protocol.md §5).
 * @property {string} reason           `wrong_pin`
 * @property {number|null} triesLeft   before the token locks
 * @property {number} at               ms, the `answeredAt` the answer was sent with: the next
 *   answer must say a later second, as the server asks
 */

/**
 * @typedef {object} PiFill  How filling a code into a tab went (fill.js).
 * @property {string|null} origin  the tab's origin (null when it is no web page)
 * @property {'filled'|'no_field'|'unconfirmed_site'|'unfillable_tab'} result
 */

/**
 * @typedef {object} Outcome  How an answer ended, or that the request ended elsewhere.
 * @property {Kind} kind
 * @property {'approved'|'denied'|'reported'|'rejected'|'expired'|'ended'|'failed'} status
 *   `ended`: it ended without this device's answer (its server said so, or no longer lists it)
 * @property {string|null} reason     the server's reason, or a local one such as `unreachable`;
 *   for `ended` why (`answered`, `replaced`, `removed`, or null when the server did not say; a
 *   request its server expired is `expired` like one the worker expired)
 * @property {number|null} triesLeft
 * @property {number} at              ms
 * @property {string} app
 * @property {string} tokenId
 * @property {string} [displayCode]   privacyIDEA code-to-phone: the code to type at the sign-in
 * @property {string|null} [displayMessage]
 * @property {PiFill} [fill]          where the display code was filled, or why not
 * @property {number} [fillableUntil] ms: until then a page may offer to fill the display code
 *   (privacyidea.js refuses it after); only the newest display code has it
 * @property {string[]} [trusted]     origins the display code goes to without asking the person
 *   (the token's privacyIDEA server and confirmed sites)
 * @property {boolean} [pending]      the request is still waiting for an answer: the server
 *   counted a wrong PIN and keeps it open (its `tried`), so this is no outcome to keep
 * @property {number} [answeredAt]    ms, with `pending`: when the answer said it was made
 */

/**
 * @typedef {object} Enrollment  A push token the server accepted, not yet saved (enroll.js).
 * @property {{iv: string, data: string}} sealed  base64url: AES-256-GCM of the token as JSON
 *   (with `keys.otp` and `keys.answer` until a PIN masks them into `masked`), under the key in
 *   the handle only the options page holds; additional data `pushotp-enrollment-v1:<id>`
 * @property {number} at  ms, when the server accepted it
 */

/**
 * @typedef {object} Local  chrome.storage.local, every key.
 * @property {{[tokenId: string]: PushToken}} pushTokens
 * @property {{[id: string]: OtpToken}} otpTokens
 * @property {Secrets} secrets
 * @property {{[serial: string]: PiToken}} piTokens
 * @property {Partial<Settings>} settings
 * @property {{[tokenId: string]: string}} webPush
 * @property {{[tokenId: string]: string}} restores
 */

/**
 * @typedef {object} Session  chrome.storage.session, every key.
 * @property {{[requestId: string]: Pending}} pending
 * @property {{[requestId: string]: number}} seen
 * @property {{[requestId: string]: Outcome}} outcomes
 * @property {{[tokenId: string]: number}} refused
 * @property {{[id: string]: Enrollment}} enrollments
 * @property {string} vaultKey
 * @property {number} lockAt
 * @property {{[serial: string]: string}} piSeeds
 */

/** @type {readonly (keyof Local)[]} */
const LOCAL_KEYS = Object.freeze(['pushTokens', 'otpTokens', 'secrets', 'piTokens', 'settings', 'webPush', 'restores']);
/** @type {readonly (keyof Session)[]} */
const SESSION_KEYS = Object.freeze(['pending', 'seen', 'outcomes', 'refused', 'enrollments', 'vaultKey', 'lockAt', 'piSeeds']);

/** Refuses a key this module does not list, so that nothing unlisted is ever stored. */
function listed(keys, allowed) {
  for (const key of keys) if (!allowed.includes(key)) throw new Error(`PushOTP: unlisted storage key ${key}`);
  return keys;
}

/**
 * @template {keyof Local} K
 * @param {K[]} keys
 * @returns {Promise<Partial<Pick<Local, K>>>}
 */
export async function readLocal(keys) {
  return chrome.storage.local.get(listed(keys, LOCAL_KEYS));
}

/** @param {Partial<Local>} values */
export async function writeLocal(values) {
  listed(Object.keys(values), LOCAL_KEYS);
  await chrome.storage.local.set(values);
}

/**
 * @template {keyof Session} K
 * @param {K[]} keys
 * @returns {Promise<Partial<Pick<Session, K>>>}
 */
export async function readSession(keys) {
  return chrome.storage.session.get(listed(keys, SESSION_KEYS));
}

/** @param {Partial<Session>} values */
export async function writeSession(values) {
  listed(Object.keys(values), SESSION_KEYS);
  await chrome.storage.session.set(values);
}

/** @param {(keyof Session)[]} keys */
export async function removeSession(keys) {
  await chrome.storage.session.remove(listed(keys, SESSION_KEYS));
}

/**
 * @typedef {{[key: string]: {oldValue?: any, newValue?: any}}} Changes
 */

/**
 * Calls `listener(changes, area)` after every change to local or session storage, from any
 * page or the worker.
 * @param {(changes: Changes, area: 'local'|'session') => void} listener
 */
export function onChanged(listener) {
  chrome.storage.onChanged.addListener((changes, area) => {
    if (area === 'local' || area === 'session') listener(changes, area);
  });
}

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
  return (await readLocal(['pushTokens'])).pushTokens ?? {};
}

/** @param {{[tokenId: string]: PushToken}} tokens */
export async function savePushTokens(tokens) {
  await writeLocal({ pushTokens: tokens });
}

/** Saves one token (added or changed). @param {PushToken} token */
export async function savePushToken(token) {
  const tokens = await pushTokens();
  tokens[token.tokenId] = token;
  await savePushTokens(tokens);
}

/** Forgets one token. @param {string} tokenId */
export async function deletePushToken(tokenId) {
  const tokens = await pushTokens();
  delete tokens[tokenId];
  await savePushTokens(tokens);
}

/** @returns {Promise<{[id: string]: OtpToken}>} */
export async function otpTokens() {
  return (await readLocal(['otpTokens'])).otpTokens ?? {};
}

/** @param {{[id: string]: OtpToken}} tokens */
export async function saveOtpTokens(tokens) {
  await writeLocal({ otpTokens: tokens });
}

/** @returns {Promise<{[serial: string]: PiToken}>} */
export async function piTokens() {
  return (await readLocal(['piTokens'])).piTokens ?? {};
}

/** @param {{[serial: string]: PiToken}} tokens */
export async function savePiTokens(tokens) {
  await writeLocal({ piTokens: tokens });
}

/**
 * Ordinary tokens in the person's order.
 * @param {{[id: string]: OtpToken}} tokenMap
 */
export function byOrder(tokenMap) {
  return Object.values(tokenMap).sort((a, b) => a.order - b.order || a.addedAt - b.addedAt);
}

/** @returns {Promise<Settings>} */
export async function settings() {
  return { ...DEFAULT_SETTINGS, ...(await readLocal(['settings'])).settings };
}

/** Changes some settings, keeping the others. @param {Partial<Settings>} changes */
export async function saveSettings(changes) {
  await writeLocal({ settings: { ...(await settings()), ...changes } });
}

/** @returns {Promise<{[requestId: string]: Pending}>} */
export async function pending() {
  return (await readSession(['pending'])).pending ?? {};
}

/** @returns {Promise<{[requestId: string]: Outcome}>} */
export async function outcomes() {
  return (await readSession(['outcomes'])).outcomes ?? {};
}

/**
 * Pending requests in the order they arrived, oldest first.
 * @param {{[requestId: string]: Pending}} pendingMap
 */
export function inOrder(pendingMap) {
  return Object.values(pendingMap).sort((a, b) => a.receivedAt - b.receivedAt);
}
