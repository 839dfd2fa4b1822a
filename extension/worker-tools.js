// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// The larger WebAssembly package (enrollment, PIN masking, privacyIDEA's signed strings and
// checks, the checks of a token before it is stored, the check of a server's word that another
// browser restored a token, where a push approval's sign-in code may be filled and whether its
// server issued it) in the service worker, instantiated the first time something needs it:
// worker starts that receive no request need only the small core (core.js), so they do not pay
// for this one.
// Pages use tools.js.
import init from './pkg/pushotp_tools.js';

export * from './pkg/pushotp_tools.js';

/** @type {Promise<unknown>|null} */
let instantiated = null;

/** Resolves once the package can be called; the first call starts its instantiation. */
export function toolsReady() {
  instantiated ??= init({ module_or_path: chrome.runtime.getURL('extension/pkg/pushotp_tools_bg.wasm') });
  return instantiated;
}
