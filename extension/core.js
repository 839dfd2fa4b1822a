// SPDX-License-Identifier: MIT OR Apache-2.0
// The WebAssembly core, loaded once per context. `ready` settles when it can be called; await it
// in handlers, never at the top level (service workers forbid top-level await).
import init from './pkg/pushotp.js';

export * from './pkg/pushotp.js';

export const ready = init({ module_or_path: chrome.runtime.getURL('extension/pkg/pushotp_bg.wasm') });
