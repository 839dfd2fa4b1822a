// SPDX-License-Identifier: MIT OR Apache-2.0
// The toolbar popup. Pending sign-in requests will be listed here; until one arrives it shows
// the empty state from popup.html.
import { ready } from './core.js';

// Loading the core early makes the first code or answer instant once the person acts.
ready.catch((err) => {
  document.getElementById('empty').textContent = `PushOTP could not start: ${err.message}`;
});
