// SPDX-License-Identifier: MIT OR Apache-2.0
// The service worker's storage queue. Steps that read, change and write whole maps (requests,
// tokens, secrets) run one after another, since two interleaved steps would lose one's change.

let queue = Promise.resolve();

/** Runs `step` after every step queued before it; returns its result. */
export function serial(step) {
  const run = queue.then(step);
  queue = run.catch(() => {});
  return run;
}
