// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// The extension's message protocol, declared once: every message type (the constants below),
// its payload and its reply (the typedefs after them). Pages and content scripts send the
// service worker messages; the worker, the only writer of tokens and requests in storage, answers
// each with a `Reply`, so that its read-modify-write steps never race a page. The content
// scripts are classic scripts and cannot import this module: each repeats the constants it uses
// in one `Object.freeze` list at its top, under the same names (content.js, affordance.js,
// pi-page.js).

/** Message types the service worker answers from the extension's own pages (`ToWorker`). */
export const Message = Object.freeze({
  CODE_REQUEST: 'code.request',
  TOKEN_ADD: 'token.add',
  TOKEN_ENROLL: 'token.enroll',
  TOKEN_ENROLL_FINISH: 'token.enrollFinish',
  TOKEN_ENROLL_CANCEL: 'token.enrollCancel',
  TOKEN_ENABLE: 'token.enable',
  TOKEN_RENAME: 'token.rename',
  TOKEN_CONFIRM_SITE: 'token.confirmSite',
  TOKEN_REMOVE: 'token.remove',
  REQUEST_ANSWER: 'request.answer',
  REQUESTS_REFRESH: 'requests.refresh',
  OUTCOME_DISMISS: 'outcome.dismiss',
  OTP_ADD: 'otp.add',
  OTP_RENAME: 'otp.rename',
  OTP_REORDER: 'otp.reorder',
  OTP_DELETE: 'otp.delete',
  OTP_CODES: 'otp.codes',
  OTP_NEXT: 'otp.next',
  OTP_FILL: 'otp.fill',
  VAULT_STATUS: 'vault.status',
  VAULT_UNLOCK: 'vault.unlock',
  VAULT_LOCK: 'vault.lock',
  VAULT_SET_PASSWORD: 'vault.setPassword',
  VAULT_REMOVE_PASSWORD: 'vault.removePassword',
  VAULT_EXPORT: 'vault.export',
  VAULT_IMPORT: 'vault.import',
  PI_ENROLL: 'pi.enroll',
  PI_REMOVE: 'pi.remove',
  PI_RESUME: 'pi.resume',
  PI_FILL: 'pi.fill',
  SITES_LIST: 'sites.list',
  SITE_REMOVE: 'sites.remove',
});

/**
 * Message types content scripts may send (`FromContent`); page.js answers them about the
 * sender's own origin, as the browser reports it, and nothing else.
 */
export const FromPage = Object.freeze({
  TOKENS: 'page.tokens',
  FILL: 'page.fill',
  PI_WAITING: 'page.piWaiting',
});

/**
 * Messages the service worker sends to a content script (`ToContent`); only fill.js sends
 * `fill.passcode`, only binding.js `binding.read`.
 */
export const PageMessage = Object.freeze({
  FILL_PASSCODE: 'fill.passcode',
  BINDING_READ: 'binding.read',
});

// ---------------------------------------------------------------------------------------------
// Payloads from the extension's pages. Stored shapes (PushToken, Outcome, …) are in store.js.

/**
 * @typedef {import('./store.js').PushToken} PushToken
 * @typedef {import('./store.js').Outcome} Outcome
 * @typedef {import('./store.js').PiToken} PiToken
 * @typedef {import('./store.js').PiFill} PiFillResult
 * @typedef {import('./store.js').Kdf} Kdf
 */

/**
 * A token as the WebAssembly core takes it (see crate/README.md).
 * @typedef {{type: 'totp'|'hotp', secret: string, algorithm?: 'SHA1'|'SHA256'|'SHA512', digits?: number, period?: number, counter?: number}} Token
 */

/**
 * Compute the current code of a token → `{ code }`.
 * @typedef {{type: 'code.request', token: Token, at?: number}} CodeRequest
 */

/**
 * Keep an enrolled push token (a `PushToken` without `enabled` and `addedAt`, its shape checked
 * by the worker) → `{}`. The worker connects to its server at once.
 * @typedef {{type: 'token.add', token: Omit<PushToken, 'enabled'|'addedAt'>}} TokenAdd
 */

/**
 * Enroll a push token from an activation link (docs/protocol.md §3): the worker redeems the link
 * with its server and completes the enrollment with the core. Without a PIN the token is saved
 * at once → `{ added: true, token }`. When the server asks for a PIN (§6) the link is used up
 * now and the accepted token waits in the worker → `{ added: false, enrollment, token }`, to be
 * finished with `token.enrollFinish` and the person's PIN, or dropped with `token.enrollCancel`,
 * which also removes the token at its server (a signed removal, §7).
 * Fails with `invalid_link` (`detail.reason`: the core's code, such as `expired`),
 * `already_enrolled` (`detail`: the kept token's `tokenName`, `user`, `issuer`), and, with
 * `detail.host`: `unreachable`, `timeout` (the link is not used), `link_used` (the server
 * refused it: used or expired), `busy`, `server_error` and `refused` (`detail.status`,
 * `detail.message`), `not_a_server`, `untrusted_answer` (`detail.reason`: the core's code; the
 * link is probably used up); or `save_failed` (`detail.enrollment`, `detail.token`: accepted but
 * not saved; `token.enrollFinish` tries again).
 * @typedef {{type: 'token.enroll', link: string, deviceName: string}} TokenEnroll
 */

/**
 * Finish a waiting enrollment: `pin` (4 to 8 digits) masks the approval keys of a PIN-protected
 * token (§6), which is then saved → `{ token }`. Also tries saving again after `save_failed`
 * (no PIN needed once it masked them). Fails with `unknown_enrollment`, `invalid_parameter`
 * (the PIN) or `save_failed`.
 * @typedef {{type: 'token.enrollFinish', enrollment: string, pin?: string}} TokenEnrollFinish
 */

/**
 * Drop a waiting enrollment (the person chose no PIN) → `{}`.
 * @typedef {{type: 'token.enrollCancel', enrollment: string}} TokenEnrollCancel
 */

/**
 * What the page may show of an enrolled push token. `confirmCode` is the comparison code of its
 * enrollment (docs/protocol.md §3, six digits): a server whose page made the link keeps the
 * token unconfirmed until the person confirms there that the page shows the same code.
 * @typedef {{tokenId: string, tokenName: string, user: string, issuer: string, server: string, pin: {required: boolean, maxTries: number}, loginOrigins?: string[], confirmCode: string}} EnrolledToken
 */

/**
 * Turn push requests of one token on or off → `{}`.
 * @typedef {{type: 'token.enable', tokenId: string, enabled: boolean}} TokenEnable
 */

/**
 * Give a push token another name in this browser → `{}`. Trimmed, 1 to 64 characters
 * (`invalid_name` otherwise); the server keeps its own.
 * @typedef {{type: 'token.rename', tokenId: string, name: string}} TokenRename
 */

/**
 * Confirm `origin` as a site where a push token's approvals are typed → `{}`: the person saw a
 * request of the token name it (the popup's warning) and vouches for it. Refused with
 * `invalid_parameter` unless a request of that token waiting now names `origin`, `origin` is a
 * web origin and the token has fewer than 64 sites. Its waiting requests naming `origin` lose
 * their `foreign` mark.
 * @typedef {{type: 'token.confirmSite', tokenId: string, origin: string}} TokenConfirmSite
 */

/**
 * Remove a token → `{ serverNotified, restoredElsewhere }`. The server is told first; the
 * token is forgotten even when the server cannot be reached (`serverNotified: false`). A token
 * that another browser restored (`restoredElsewhere: true`) is only forgotten here: its server
 * keeps it for that browser.
 * @typedef {{type: 'token.remove', tokenId: string}} TokenRemove
 */

/**
 * Answer a pending request of either kind → `{ outcome }`. For a push request `keys` are the
 * `{ otp, answer }` a PIN unmasked (PIN-protected tokens only; `unmaskKeys` in the tools
 * package) and `number` the number picked. For a privacyIDEA challenge `number` is the presence
 * option, `pin` the token's PIN when it has one, 'report' declines with `unknown_trigger`, and
 * `tabId` is the tab a code-to-phone code is filled into when it is one of the token's trusted
 * sites (the outcome's `fill` says how that went).
 * @typedef {{type: 'request.answer', requestId: string, decision: 'approve'|'deny'|'report', number?: number|string|null, keys?: {otp: string, answer: string}|null, pin?: string|null, tabId?: number|null}} RequestAnswer
 */

/**
 * Fetch pending requests from every server now (the popup does it on opening) → `{}`.
 * @typedef {{type: 'requests.refresh'}} RequestsRefresh
 */

/**
 * Forget the outcome message of one request once the person has seen it → `{}`.
 * @typedef {{type: 'outcome.dismiss', requestId: string}} OutcomeDismiss
 */

/**
 * Add ordinary tokens (as `parseUri`/`importMigration` give them) → `{ ids, skipped }`. The whole
 * batch is checked first (the core's error codes, such as `invalid_base32`); tokens already kept
 * with the same issuer, account and secret are not added again but listed in `skipped`. Fails
 * with `locked`.
 * @typedef {{issuer?: string, account?: string, type: 'totp'|'hotp', algorithm?: string, digits?: number, period?: number, counter?: number, secret: string, sites?: string[]}} NewOtpToken
 * @typedef {{type: 'otp.add', tokens: NewOtpToken[]}} OtpAdd
 */

/**
 * Rename, reorder (every id, in the new order), delete with its secret → `{}`.
 * @typedef {{type: 'otp.rename', id: string, issuer: string, account: string}} OtpRename
 * @typedef {{type: 'otp.reorder', ids: string[]}} OtpReorder
 * @typedef {{type: 'otp.delete', id: string}} OtpDelete
 */

/**
 * Current TOTP codes → `{ codes }` (HOTP tokens are left out: their codes are only made by
 * `otp.next`, the next one with its counter saved first → `{ code }`). Fail with `locked`.
 * @typedef {{type: 'otp.codes', at?: number}} OtpCodes
 * @typedef {{type: 'otp.next', id: string}} OtpNext
 */

/**
 * Fill a token's code into a tab → `{ filled, code }` (TOTP: the current code; HOTP: the next
 * one, its counter saved first). Refused with `unconfirmed_site` unless the tab's origin is one
 * of the token's `sites`; `confirmSite: true` adds it first (the person confirmed it). `origin`
 * is the site the person was shown: refused with `tab_changed` when the tab is no longer there,
 * and required with `confirmSite`; it can only refuse, the origin filled and added is always
 * the tab's own as the browser reports it. A tab that is not a web page: `unfillable_tab`.
 * @typedef {{type: 'otp.fill', id: string, tabId: number, origin?: string|null, confirmSite?: boolean}} OtpFill
 */

/**
 * The vault (vault.js). `vault.status` → `{ protected, locked, autoLockMinutes, kdf }` (`kdf`,
 * what `deriveKey` needs, `null` when unprotected). `vault.unlock` with the password's key →
 * `{}`, or `wrong_password` changing nothing. `vault.lock` → `{}`. `vault.setPassword` (`kdf`
 * with the fresh salt `key` was derived with) → `{}`, leaving it unlocked. `vault.removePassword`
 * → `{}`. `vault.export` (the export password's key and a fresh salt) → `{ file }`.
 * `vault.import` → `{ added, present, unreadable, invalid, unreachable, restoredElsewhere,
 * refused }`: how many tokens were added, how many were skipped because they are already here,
 * how many entries of the file could not be read, which tokens break a rule every new token
 * meets (`invalid`, vault.js `ImportRefusal`: each named, with the core's error code and
 * message; not added, the others are), and how many push tokens were not added because their
 * restore (docs/protocol.md §8) failed: their server could not be reached (importing again
 * retries), another browser restored them after the file was made, or their server refused
 * them; `wrong_password`, `invalid_file`; `no_access` (`detail.servers`, their origins), adding
 * nothing, when PushOTP may not reach yet a server where the file's push tokens are restored.
 * All but status, unlock and lock fail with `locked`.
 * @typedef {{type: 'vault.status'}} VaultStatus
 * @typedef {{type: 'vault.unlock', key: string}} VaultUnlock
 * @typedef {{type: 'vault.lock'}} VaultLock
 * @typedef {{type: 'vault.setPassword', key: string, kdf: Kdf}} VaultSetPassword
 * @typedef {{type: 'vault.removePassword'}} VaultRemovePassword
 * @typedef {{type: 'vault.export', key: string, kdf: Kdf}} VaultExport
 * @typedef {{type: 'vault.import', file: object, key: string}} VaultImport
 */

/**
 * Enroll a privacyIDEA push token from its link (`otpauth://pipush/…` or `pia://pipush/…`) →
 * `{ token }`. The worker makes the key pair and completes the enrollment with the server. `pin`
 * (digits, at least 4) is required when the link asks for an unlock; approvals of that token
 * then need it (`pin` in `request.answer`). Fails with `already_enrolled` (`detail`: the kept
 * token's `serial`, `label`, `issuer`) when the link names a serial already held or being
 * enrolled, before privacyIDEA is asked.
 * @typedef {{type: 'pi.enroll', link: string, pin?: string|null}} PiEnroll
 */

/**
 * Forget a privacyIDEA token and its key → `{}`.
 * @typedef {{type: 'pi.remove', serial: string}} PiRemove
 */

/**
 * Let a privacyIDEA token with a PIN poll again in this browser session → `{}`: its seed
 * unmasked with `pin` signs a poll, and is kept for polling (memory only) when privacyIDEA
 * accepts it. `pin_refused` when privacyIDEA refuses the key (a wrong PIN), `locked`,
 * `pin_required`.
 * @typedef {{type: 'pi.resume', serial: string, pin: string}} PiResume
 */

/**
 * Fill the code-to-phone code of an approved privacyIDEA challenge into a tab → `{ origin,
 * result }`. The same site rule as `otp.fill`, with the token's privacyIDEA server trusted too;
 * only an outcome still marked `fillableUntil` is filled (`expired` otherwise).
 * @typedef {{type: 'pi.fill', requestId: string, tabId: number, origin?: string|null, confirmSite?: boolean}} PiFill
 */

/**
 * The sites PushOTP may act on (access.js) → `{ sites }`: every site a token uses, with each
 * use and whether the browser granted it. `sites.remove` takes a site the person confirmed off
 * every token that has it → `{ removed }` (how many tokens had it); the browser's access to it
 * is given back unless a token's server or login page still needs it.
 * @typedef {{origin: string, granted: boolean, uses: import('./access.js').SiteUse[]}} Site
 * @typedef {{type: 'sites.list'}} SitesList
 * @typedef {{type: 'sites.remove', origin: string}} SiteRemove
 */

/**
 * Every message the worker answers from the extension's pages.
 * @typedef {CodeRequest|TokenAdd|TokenEnroll|TokenEnrollFinish|TokenEnrollCancel|TokenEnable|TokenRename|TokenConfirmSite|TokenRemove|RequestAnswer|RequestsRefresh|OutcomeDismiss|OtpAdd|OtpRename|OtpReorder|OtpDelete|OtpCodes|OtpNext|OtpFill|VaultStatus|VaultUnlock|VaultLock|VaultSetPassword|VaultRemovePassword|VaultExport|VaultImport|PiEnroll|PiRemove|PiResume|PiFill|SitesList|SiteRemove} ToWorker
 */

// ---------------------------------------------------------------------------------------------
// Content scripts

/**
 * `page.tokens` → `{ tokens }`, the ordinary tokens confirmed for the sender's origin;
 * `page.fill` → `{ filled }`, one of them filled into the sending frame (`unconfirmed_site` for
 * any other; `framed`, with no code made, when a frame above the sender has another origin);
 * `page.piWaiting` → `{ polling }`: the page waits for a privacyIDEA push, heeded
 * only from a privacyIDEA server of an enrolled token or a site confirmed for one (the worker
 * then polls every few seconds for a short while).
 * @typedef {{type: 'page.tokens'}|{type: 'page.fill', id: string}|{type: 'page.piWaiting'}} FromContent
 */

/**
 * Fill a passcode → `{ filled }` (no `ok`). The content script fills only when its own frame's
 * origin, and every frame's above it, is `origin`, and only 6 to 10 digits, or 2 to 10 with
 * `display: true` (privacyIDEA's code-to-phone codes).
 * @typedef {{type: 'fill.passcode', origin: string, passcode: string, submit: boolean, display?: boolean}} FillPasscode
 */

/**
 * Read the binding of the frame's login page (docs/protocol.md) → `{ binding }` (no `ok`), its
 * one `<meta name="pushotp-binding">`, 22 base64url characters; `{}` when the frame, or a frame
 * above it, does not have the document origin `origin`, or the page carries no such tag, or
 * more than one.
 * @typedef {{type: 'binding.read', origin: string}} BindingRead
 */

/**
 * Every message a content script takes from the service worker.
 * @typedef {FillPasscode|BindingRead} ToContent
 */

// ---------------------------------------------------------------------------------------------
// Replies

/**
 * What each message's successful reply carries besides `ok: true`.
 * @typedef {{
 *   'code.request': {code: string},
 *   'token.add': {},
 *   'token.enroll': {added: true, token: EnrolledToken} | {added: false, enrollment: string, token: EnrolledToken},
 *   'token.enrollFinish': {token: EnrolledToken},
 *   'token.enrollCancel': {},
 *   'token.enable': {},
 *   'token.rename': {},
 *   'token.confirmSite': {},
 *   'token.remove': {serverNotified: boolean, restoredElsewhere: boolean},
 *   'request.answer': {outcome: Outcome},
 *   'requests.refresh': {},
 *   'outcome.dismiss': {},
 *   'otp.add': {ids: string[], skipped: {issuer: string, account: string}[]},
 *   'otp.rename': {}, 'otp.reorder': {}, 'otp.delete': {},
 *   'otp.codes': {codes: {[id: string]: {code: string, secondsLeft: number}}},
 *   'otp.next': {code: string},
 *   'otp.fill': {filled: boolean, code: string},
 *   'vault.status': {protected: boolean, locked: boolean, autoLockMinutes: number, kdf: Kdf|null},
 *   'vault.unlock': {}, 'vault.lock': {}, 'vault.setPassword': {}, 'vault.removePassword': {},
 *   'vault.export': {file: object},
 *   'vault.import': import('./vault.js').ImportCounts,
 *   'pi.enroll': {token: PiToken},
 *   'pi.remove': {},
 *   'pi.resume': {},
 *   'pi.fill': PiFillResult,
 *   'sites.list': {sites: Site[]},
 *   'sites.remove': {removed: number},
 *   'page.tokens': {tokens: {id: string, issuer: string, account: string}[]},
 *   'page.fill': {filled: boolean},
 *   'page.piWaiting': {polling: boolean},
 * }} Replies
 */

/**
 * @typedef {{code: string, message: string, detail?: {[key: string]: unknown}}} ErrorInfo
 * @typedef {{ok: false, error: ErrorInfo}} Failure
 */

/**
 * The reply to a message of type `T`.
 * @template {keyof Replies} T
 * @typedef {({ok: true} & Replies[T]) | Failure} Reply
 */

/**
 * An error with a stable `code` (and, for the page, an optional `detail`) for `failure` to pass on.
 * @param {string} code
 * @param {string} message
 * @param {{[key: string]: unknown}} [detail]
 * @returns {Error & {code: string, detail?: {[key: string]: unknown}}}
 */
export function coded(code, message, detail) {
  return Object.assign(new Error(message), { code }, detail && { detail });
}

/**
 * A failed reply carrying the error's stable code (the core's, or one of coded()).
 * @param {any} err
 * @returns {Failure}
 */
export function failure(err) {
  return {
    ok: false,
    error: { code: err?.code ?? 'internal', message: String(err?.message ?? err), ...(err?.detail && { detail: err.detail }) },
  };
}

/**
 * Sends a message to the service worker and throws the reply's error, if any (with its `code`
 * and `detail`).
 * @template {ToWorker} M
 * @param {M} message
 * @returns {Promise<{ok: true} & Replies[M['type']]>}
 */
export async function ask(message) {
  const reply = await chrome.runtime.sendMessage(message);
  if (!reply?.ok) {
    const err = coded(reply?.error?.code ?? 'internal', reply?.error?.message ?? 'no reply from the service worker', reply?.error?.detail);
    throw err;
  }
  return reply;
}
