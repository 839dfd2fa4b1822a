// SPDX-License-Identifier: MIT OR Apache-2.0
// The secrets of every token, for the service worker only: the secret of each ordinary
// (otpauth) token and the approval keys (`K_otp`, `K_ans`) of each push token that has no PIN.
// Everything else about a token (names, issuer, counters, sites) lives beside it in clear, so
// that the popup can list tokens and the worker can receive and check push requests (with
// `K_req` and `K_chan`) while the secrets are locked away.
//
// Stored in chrome.storage.local as `secrets`:
//   { otp: { [id]: base32 secret }, push: { [tokenId]: { otp, answer } } }

/** An error with the stable `code` the pages switch on. */
function coded(code, message) {
  return Object.assign(new Error(message), { code });
}

/**
 * All secrets. Throws `locked` when the person protected them with a password and has not
 * unlocked them.
 * @returns {Promise<{otp: {[id: string]: string}, push: {[tokenId: string]: {otp: string, answer: string}}}>}
 */
export async function secrets() {
  const { secrets: stored } = await chrome.storage.local.get('secrets');
  if (stored?.sealed) throw coded('locked', 'PushOTP is locked. Unlock it with your password.');
  return { otp: { ...stored?.otp }, push: { ...stored?.push } };
}

/**
 * Changes the secrets: `change` gets a copy and returns the new secrets. Callers run inside
 * the worker's storage queue, so that two changes never interleave.
 */
export async function updateSecrets(change) {
  const next = await change(await secrets());
  await chrome.storage.local.set({ secrets: { otp: next.otp ?? {}, push: next.push ?? {} } });
}
