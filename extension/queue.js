// SPDX-License-Identifier: MIT OR Apache-2.0
// The service worker's one storage queue. Storage steps read, change and write whole maps
// (tokens, requests, secrets), so two interleaved steps would lose one's change: every step
// that writes runs here, one after another.

let queue = Promise.resolve();

/** Runs `step` after every step queued before it; resolves or rejects with its result. */
export function serial(step) {
  const run = queue.then(step);
  queue = run.catch(() => {});
  return run;
}
