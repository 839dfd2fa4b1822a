// SPDX-License-Identifier: MIT OR Apache-2.0
// The messages between the extension's pages and its service worker. Every message is an
// object with a `type` from `Message`; every reply is a `Reply`. The service worker is the only
// writer of tokens and requests in storage, so that its read-modify-write steps never race a page.

/** Message types the service worker answers (from the extension's own pages only). */
export const Message = Object.freeze({
  /** Compute the current code of a token: `{ type, token, at? }` → `{ ok, code }`. */
  CODE_REQUEST: 'code.request',
  /**
   * Keep a newly enrolled push token: `{ type, token }` (a `PushToken` without `enabled` and
   * `addedAt`) → `{ ok }`. The worker connects to its server at once.
   */
  TOKEN_ADD: 'token.add',
  /** Turn push requests of one token on or off: `{ type, tokenId, enabled }` → `{ ok }`. */
  TOKEN_ENABLE: 'token.enable',
  /**
   * Give a push token another name in this browser: `{ type, tokenId, name }` → `{ ok }`. The
   * name is trimmed, 1 to 64 characters (`invalid_name` otherwise); the server keeps its own.
   */
  TOKEN_RENAME: 'token.rename',
  /**
   * Remove a token: `{ type, tokenId }` → `{ ok, serverNotified }`. The server is told first;
   * the token is forgotten even when the server cannot be reached (`serverNotified: false`).
   */
  TOKEN_REMOVE: 'token.remove',
  /**
   * Answer a pending request: `{ type, requestId, decision: 'approve'|'deny'|'report',
   * number?, keys? }` → `{ ok, outcome }` (an `Outcome`, see store.js). `keys` are the
   * `{ otp, answer }` a PIN unmasked (PIN-protected tokens only; `unmaskKeys` in the tools module).
   * For a privacyIDEA challenge (`requestId` starting `pi:`), `number` is the presence option and
   * `pin` the token's PIN when it has one; 'report' declines with the reason `unknown_trigger`;
   * `tabId` is the tab a code-to-phone code is filled into when it is one of the token's trusted
   * sites (the outcome's `fill` says how that went).
   */
  REQUEST_ANSWER: 'request.answer',
  /** Fetch pending requests from every server now (the popup does it on opening): → `{ ok }`. */
  REQUESTS_REFRESH: 'requests.refresh',
  /** Forget the outcome message of one request once the person has seen it: `{ type, requestId }`. */
  OUTCOME_DISMISS: 'outcome.dismiss',
  /**
   * Add ordinary tokens: `{ type, tokens: [{ issuer, account, type, algorithm, digits, period?,
   * counter?, secret, sites? }] }` (as `parseUri`/`importMigration` give them) → `{ ok, ids,
   * skipped }`. The whole batch is checked first (the core's error codes, such as
   * `invalid_base32`); tokens already kept with the same issuer, account and secret are not
   * added again but listed in `skipped` as `{ issuer, account }`. Fails with `locked`.
   */
  OTP_ADD: 'otp.add',
  /** Rename: `{ type, id, issuer, account }` → `{ ok }`. */
  OTP_RENAME: 'otp.rename',
  /** Reorder: `{ type, ids }` (every id, in the new order) → `{ ok }`. */
  OTP_REORDER: 'otp.reorder',
  /** Delete, with its secret: `{ type, id }` → `{ ok }`. */
  OTP_DELETE: 'otp.delete',
  /**
   * Current TOTP codes: `{ type, at? }` → `{ ok, codes: { [id]: { code, secondsLeft } } }`
   * (HOTP tokens are left out: their codes are only made by OTP_NEXT). Fails with `locked`.
   */
  OTP_CODES: 'otp.codes',
  /** The next HOTP code, its counter saved first: `{ type, id }` → `{ ok, code }`. */
  OTP_NEXT: 'otp.next',
  /**
   * Fill a token's current code into the active tab: `{ type, id, tabId, origin?,
   * confirmSite? }` → `{ ok, filled, code }` (TOTP: the current code; HOTP: the next one, its
   * counter saved first). Refused with `unconfirmed_site` unless the tab's origin is one of the
   * token's `sites`; `confirmSite: true` adds it first (the person confirmed it). `origin` is
   * the site the person was shown: refused with `tab_changed` when the tab is no longer there,
   * and required with `confirmSite`; it can only refuse, the origin filled and added is always
   * the tab's own as the browser reports it. A tab that is not a web page is refused with
   * `unfillable_tab`.
   */
  OTP_FILL: 'otp.fill',
  /**
   * Whether a password protects the secrets: `{ type }` → `{ ok, protected, locked,
   * autoLockMinutes, kdf }`; `kdf` (`{ salt, memoryKib, iterations, parallelism }`) is what
   * `deriveKey` needs to turn the typed password into the key, `null` when unprotected.
   */
  VAULT_STATUS: 'vault.status',
  /**
   * Unlock: `{ type, key }` (the password's key from `deriveKey` in the tools module) → `{ ok }`.
   * Fails with `wrong_password`, changing nothing. The key is kept until the browser closes,
   * `vault.lock` or the auto-lock time passes without use.
   */
  VAULT_UNLOCK: 'vault.unlock',
  /** Lock now: `{ type }` → `{ ok }`. */
  VAULT_LOCK: 'vault.lock',
  /**
   * Protect the secrets with a new password, or change it: `{ type, key, kdf }` (`kdf` with the
   * fresh salt `key` was derived with) → `{ ok }`. Fails with `locked` unless the secrets are
   * unprotected or unlocked. Leaves them unlocked.
   */
  VAULT_SET_PASSWORD: 'vault.setPassword',
  /** Remove the password, storing the secrets unencrypted: `{ type }` → `{ ok }`. Fails with `locked`. */
  VAULT_REMOVE_PASSWORD: 'vault.removePassword',
  /**
   * An encrypted export of every token with its secrets: `{ type, key, kdf }` (the export
   * password's key and a fresh salt) → `{ ok, file }`, the object to save as JSON. Fails with
   * `locked`.
   */
  VAULT_EXPORT: 'vault.export',
  /**
   * Add the tokens of an export file: `{ type, file, key }` (`key` derived from the file's
   * `kdf` and its password) → `{ ok, added }`; tokens already here are skipped. Fails with
   * `wrong_password` (nothing changed), `invalid_file` or `locked`.
   */
  VAULT_IMPORT: 'vault.import',
  /**
   * Enroll a privacyIDEA push token from its link (`otpauth://pipush/…` or `pia://pipush/…`):
   * `{ type, link, pin? }` → `{ ok, token }` (a `PiToken`, privacyidea.js). The worker makes
   * the key pair and completes the enrollment with the server. `pin` (digits, at least 4) is
   * required when the link asks for an unlock (`pin=True` or `app_force_unlock`); approvals of
   * that token then need it (`pin` in `request.answer`).
   */
  PI_ENROLL: 'pi.enroll',
  /** Forget a privacyIDEA token and its key: `{ type, serial }` → `{ ok }`. */
  PI_REMOVE: 'pi.remove',
  /**
   * Fill the code-to-phone code of an approved privacyIDEA challenge into a tab:
   * `{ type, requestId, tabId, origin?, confirmSite? }` → `{ ok, origin, result }` (`filled` or
   * `no_field`). Refused with `unconfirmed_site` unless the tab's origin is the token's
   * privacyIDEA server or one of its confirmed sites; `confirmSite: true` (the person confirmed
   * it) adds it first. `origin` is the site the person was shown: refused with `tab_changed` when
   * the tab is no longer there, and required with `confirmSite`; it can only refuse, the origin
   * filled and added is always the tab's own as the browser reports it. The approval itself
   * (`request.answer` with `tabId`) fills the same way.
   */
  PI_FILL: 'pi.fill',
});

/** Messages the service worker sends to a content script in a login page. */
export const PageMessage = Object.freeze({
  /**
   * Fill a passcode: `{ type, origin, passcode, submit, display? }` → `{ filled: boolean }`. The
   * content script fills only when its own frame's origin is `origin`, and only 6 to 10 digits,
   * or 2 to 10 with `display: true` (privacyIDEA's code-to-phone codes).
   */
  FILL_PASSCODE: 'fill.passcode',
});

/**
 * @typedef {object} Token  A token as the WebAssembly core takes it (see crate/README.md).
 * @property {'totp'|'hotp'} type
 * @property {string} secret  base32
 * @property {'SHA1'|'SHA256'|'SHA512'} [algorithm]
 * @property {number} [digits]
 * @property {number} [period]
 * @property {number} [counter]
 */

/**
 * @typedef {{ ok: true, [key: string]: unknown } | { ok: false, error: { code: string, message: string } }} Reply
 */

/** An error with a stable `code` for `failure` (and so for the pages) to pass on. */
export function coded(code, message) {
  return Object.assign(new Error(message), { code });
}

/** A failed reply carrying the core's stable error code. */
export function failure(err) {
  return {
    ok: false,
    error: { code: err?.code ?? 'internal', message: String(err?.message ?? err) },
  };
}

/** Sends a message to the service worker and throws the reply's error, if any. */
export async function ask(message) {
  const reply = await chrome.runtime.sendMessage(message);
  if (!reply?.ok) {
    const err = new Error(reply?.error?.message ?? 'no reply from the service worker');
    err.code = reply?.error?.code ?? 'internal';
    throw err;
  }
  return reply;
}
