// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// The WebAssembly core, loaded once per context. `ready` settles when it can be called; await it
// in handlers, never at the top level (service workers forbid top-level await).
import init from './pkg/pushotp.js';

export * from './pkg/pushotp.js';

// The instantiation is marked in this context's performance timeline (`pushotp:wasm-init`), so
// that its cost at every worker start can be read from outside (scripts/bench-extension.mjs).
const started = performance.now();
export const ready = init({ module_or_path: chrome.runtime.getURL('extension/pkg/pushotp_bg.wasm') }).then((exports) => {
  performance.measure('pushotp:wasm-init', { start: started });
  return exports;
});
