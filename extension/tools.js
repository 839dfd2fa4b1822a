// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// The larger WebAssembly package (enrollment, PIN masking, QR decoding, token URIs) for the
// options page and the popup; the service worker loads only the small one (core.js).
import init from './pkg/pushotp_tools.js';

export * from './pkg/pushotp_tools.js';

export const ready = init({ module_or_path: chrome.runtime.getURL('extension/pkg/pushotp_tools_bg.wasm') });
