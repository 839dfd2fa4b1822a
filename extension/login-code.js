// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// The sign-in code of an approval's reply (docs/protocol.md §5, "What the login page gets"). A
// server's word goes into a web page here, so only what the protocol allows passes: the token's
// `otp.digits` ASCII digits. Anything else a server sends (another length, other characters,
// another type, a huge string) is dropped, and nothing is filled.

/**
 * The reply's `loginCode` when it is a sign-in code for a token of `digits` digits, else
 * `undefined`.
 * @param {unknown} code
 * @param {number} digits the token's `otp.digits`
 * @returns {string|undefined}
 */
export function loginCodeOf(code, digits) {
  // The length first, so that a huge string costs nothing more.
  if (typeof code !== 'string' || !Number.isInteger(digits) || digits < 6 || digits > 10) return undefined;
  return code.length === digits && /^[0-9]+$/.test(code) ? code : undefined;
}
