// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// AES-256-GCM of JSON values with WebCrypto, and the unpadded base64url (RFC 4648 §5) every
// stored binary field uses: one implementation for the vault, its export files and the
// enrollments that wait for a PIN. A fresh 12-byte IV is drawn for every encryption; the
// additional data names what a blob is for, so that no blob opens in another place.

/** @param {Uint8Array} bytes */
export function toB64url(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * The bytes of unpadded base64url text, or null for anything else.
 * @param {unknown} text
 * @returns {Uint8Array<ArrayBuffer>|null}
 */
export function fromB64url(text) {
  if (typeof text !== 'string' || !/^[A-Za-z0-9_-]*$/.test(text)) return null;
  return Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
}

/**
 * `bytes` random bytes as base64url: ids, handles, keys.
 * @param {number} bytes
 */
export function randomB64url(bytes) {
  return toB64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/**
 * @param {Uint8Array<ArrayBuffer>} raw  32 bytes
 * @param {KeyUsage} use
 */
function aesKey(raw, use) {
  return crypto.subtle.importKey('raw', raw, 'AES-GCM', false, [use]);
}

/**
 * `value` as JSON, encrypted under the 32-byte key `raw` with additional data `aad`.
 * @param {unknown} value
 * @param {Uint8Array<ArrayBuffer>} raw
 * @param {string} aad
 * @returns {Promise<{iv: string, data: string}>}
 */
export async function sealJson(value, raw, aad) {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const data = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: new TextEncoder().encode(aad) },
    await aesKey(raw, 'encrypt'),
    new TextEncoder().encode(JSON.stringify(value)),
  );
  return { iv: toB64url(iv), data: toB64url(new Uint8Array(data)) };
}

/**
 * The value `sealJson` encrypted. Throws when the key, the additional data or the blob is not
 * the right one (or the blob is not base64url); callers say what that means for them.
 * @param {{iv: unknown, data: unknown}} sealed
 * @param {Uint8Array<ArrayBuffer>} raw
 * @param {string} aad
 */
export async function openJson(sealed, raw, aad) {
  const iv = fromB64url(sealed?.iv);
  const data = fromB64url(sealed?.data);
  if (!iv || !data) throw new TypeError('not base64url');
  const plain = await crypto.subtle.decrypt(
    { name: 'AES-GCM', iv, additionalData: new TextEncoder().encode(aad) },
    await aesKey(raw, 'decrypt'),
    data,
  );
  return JSON.parse(new TextDecoder().decode(plain));
}
