// SPDX-License-Identifier: MIT OR Apache-2.0
// The messages between the extension's pages and its service worker. Every message is an
// object with a `type` from `Message`; every reply is a `Reply`.

/** Message types the service worker answers. */
export const Message = Object.freeze({
  /** Compute the current code of a token: `{ type, token, at? }` → `{ ok, code }`. */
  CODE_REQUEST: 'code.request',
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
 * @typedef {{ ok: true, code: string } | { ok: false, error: { code: string, message: string } }} Reply
 */

/** A failed reply carrying the core's stable error code. */
export function failure(err) {
  return {
    ok: false,
    error: { code: err?.code ?? 'internal', message: String(err?.message ?? err) },
  };
}
