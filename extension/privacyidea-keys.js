// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// What privacyIDEA tokens share in the service worker (docs/privacyidea.md): the device keys,
// signatures, the trusted origins of a token and calls to the server.
//
// WebCrypto holds the keys: the device's RSA-4096 pair is made with a non-extractable private
// key and kept in IndexedDB by serial; the server's public key is stored as SPKI. The core
// (tools package) builds every signed string, encodes and decodes privacyIDEA's base32
// signatures, and makes and checks a token's PIN check (`piPinCheck`, `piPinMatches`).
import { coded } from './messages.js';
import { originOf } from './sites.js';
import { piSignatureFromBase32, piSignatureToBase32 } from './worker-tools.js';

export const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
const TIMEOUT_MS = 15_000;

// Device keys in IndexedDB (CryptoKey objects are stored by structured clone) ----------------

/** @returns {Promise<IDBDatabase>} */
function database() {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open('pushotp-privacyidea', 1);
    open.onupgradeneeded = () => open.result.createObjectStore('keys');
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
}

/**
 * @param {IDBTransactionMode} mode
 * @param {(store: IDBObjectStore) => IDBRequest} step
 */
async function keyStore(mode, step) {
  const db = await database();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction('keys', mode);
      const request = step(tx.objectStore('keys'));
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

/**
 * @typedef {{privateKey: CryptoKey, publicKey: CryptoKey}} DeviceKeys
 */

/** @param {string} serial @returns {Promise<DeviceKeys|undefined>} */
export const loadKey = (serial) => keyStore('readonly', (store) => store.get(serial));
/** @param {string} serial @param {DeviceKeys} keys */
export const saveKey = (serial, keys) => keyStore('readwrite', (store) => store.put(keys, serial));
/** @param {string} serial */
export const deleteKey = (serial) => keyStore('readwrite', (store) => store.delete(serial));

// Encodings and signatures -------------------------------------------------------------------

/** @param {ArrayBuffer|Uint8Array} bytes */
export const base64 = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)));
/** @param {string} text */
export const unbase64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

/**
 * privacyIDEA's base32 RSA signature of `message`.
 * @param {CryptoKey} privateKey
 * @param {string} message
 */
export async function sign(privateKey, message) {
  const signature = await crypto.subtle.sign(RSA, privateKey, new TextEncoder().encode(message));
  return piSignatureToBase32(new Uint8Array(signature));
}

/**
 * Whether `signatureB32` is the server's signature of `message`.
 * @param {CryptoKey} serverKey
 * @param {unknown} signatureB32
 * @param {string} message
 */
export async function verify(serverKey, signatureB32, message) {
  let signature;
  try {
    signature = piSignatureFromBase32(/** @type {string} */ (signatureB32 ?? ''));
  } catch {
    return false;
  }
  return crypto.subtle.verify(RSA, serverKey, signature, new TextEncoder().encode(message));
}

/** @param {import('./store.js').PiToken} token */
export const importServerKey = (token) => crypto.subtle.importKey('spki', unbase64(token.serverKey), RSA, false, ['verify']);

// Origins and calls --------------------------------------------------------------------------

/**
 * The origins a token's codes may be filled into and whose sign-in pages may speed up its
 * polling: its privacyIDEA server's own (its web UI) and the sites the person confirmed for it.
 * privacyIDEA's challenges name no sign-in page, so nothing else can be trusted.
 * @param {import('./store.js').PiToken} token
 * @returns {string[]}
 */
export function trustedOrigins(token) {
  return /** @type {string[]} */ ([originOf(token.url), ...(token.sites ?? [])].filter(Boolean));
}

/**
 * A call to privacyIDEA; its replies of HTTP 200 with `result.status` false are refusals too.
 * @param {string} url
 * @param {RequestInit} init
 * @returns {Promise<any>} the reply's JSON
 */
export async function call(url, init) {
  let reply;
  try {
    reply = await fetch(url, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch {
    throw coded('unreachable', 'The privacyIDEA server could not be reached.');
  }
  const json = await reply.json().catch(() => ({}));
  if (!reply.ok || json?.result?.status !== true) {
    const message = json?.result?.error?.message ?? `HTTP ${reply.status}`;
    throw coded(reply.status >= 500 ? `http_${reply.status}` : 'refused', message);
  }
  return json;
}
