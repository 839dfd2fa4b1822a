// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// The service worker's one storage queue. Storage steps read, change and write whole maps
// (tokens, requests, secrets), so two interleaved steps would lose one's change: every step
// that writes runs here, one after another. A step must not wait for another queued step: it
// would wait for itself.

/** @type {Promise<unknown>} */
let queue = Promise.resolve();

/**
 * Runs `step` after every step queued before it; resolves or rejects with its result.
 * @template T
 * @param {() => T|Promise<T>} step
 * @returns {Promise<T>}
 */
export function serial(step) {
  const run = queue.then(step);
  queue = run.catch(() => {});
  return run;
}
