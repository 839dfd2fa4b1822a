// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// Notices a sign-in page that waits for a privacyIDEA push confirmation and tells the service
// worker, so that it polls privacyIDEA every few seconds while that lasts instead of every 30 s
// (docs/privacyidea.md). Two signs, either is enough:
//
// * the page asks privacyIDEA whether the push was answered: its requests to
//   `/validate/polltransaction`, the endpoint privacyIDEA offers login pages for exactly that
//   (its web UI asks every half second while it waits), seen in the page's resource timeline;
// * privacyIDEA's own web UI (3.14, its pages carry the base `…/privacyidea-webui/…`) shows the
//   challenge step of its login: the one-time-code field of `<app-login>`.
//
// The worker heeds the hint only from a frame whose origin, as the browser reports it, is the
// privacyIDEA server of an enrolled token or a site the person confirmed for one, and all it
// does is poll sooner: a page can never cause an answer. A classic script (content scripts
// cannot be modules), wrapped to keep its names to itself.
(() => {
  /** The messages this script sends: the same names and values as messages.js `FromPage`. */
  const FromPage = Object.freeze({
    PI_WAITING: 'page.piWaiting',
  });
  /**
   * Sends one of the messages above, typed by the protocol (messages.js `FromContent`), which a
   * classic script can name but not import.
   * @param {import('./messages.js').FromContent} message
   */
  const send = (message) => chrome.runtime.sendMessage(message);
  const POLL_PATH = /\/validate\/polltransaction(?:\/[^/]*)?$/;
  /** The page's last poll counts as waiting for this long. */
  const POLLED_WITHIN_MS = 5_000;
  /** The hint is repeated this often while the page waits; each keeps the worker's fast polling on for 20 s. */
  const HINT_EVERY_MS = 10_000;
  /** One wait (one transaction) is hinted for at most this long: privacyIDEA's web UI gives up after 5 minutes. */
  const MAX_WAIT_MS = 5 * 60_000;
  /** How often the page is looked at while it may be waiting. */
  const CHECK_MS = 1_000;

  const webUi = document.querySelector('base[href*="/privacyidea-webui/"]') !== null;
  let lastPoll = 0; // when the page last asked /validate/polltransaction
  let transaction = null; // the transaction it asked about
  let since = 0; // when this wait began; 0 while the page does not wait
  let lastHint = 0;
  let timer = 0;

  /** privacyIDEA's web UI shows the field for the answer to an open challenge. */
  function webUiChallenge() {
    const field = document.querySelector('app-login input[autocomplete="one-time-code"]');
    return field !== null && field.isConnected && field.checkVisibility?.() !== false;
  }

  function schedule() {
    if (!timer) timer = setTimeout(check, CHECK_MS);
  }

  function check() {
    timer = 0;
    const now = Date.now();
    const waiting = now - lastPoll < POLLED_WITHIN_MS || (webUi && webUiChallenge());
    if (!waiting) {
      since = 0;
      transaction = null;
      // The web UI is watched for its next challenge; other pages are looked at again only
      // when they poll.
      if (webUi) schedule();
      return;
    }
    if (!since) {
      since = now;
      lastHint = 0;
    }
    if (now - since < MAX_WAIT_MS && now - lastHint >= HINT_EVERY_MS) {
      lastHint = now;
      // Counted in the isolated world's marks (content.js), which the page cannot see: DevTools
      // (and the end-to-end tests) read it, so that a hint that changed nothing is known to
      // have been given.
      const marks = (globalThis.pushotpMarks ??= { ready: false, scans: 0 });
      marks.piHints = (marks.piHints ?? 0) + 1;
      // The worker may be asleep: the message wakes it. Nothing comes back that the page needs.
      try {
        send({ type: FromPage.PI_WAITING }).catch(() => {});
      } catch {
        // The extension was reloaded or removed since this page loaded: nobody to tell.
      }
    }
    schedule();
  }

  /**
   * A request of the page to privacyIDEA's polltransaction that ended at `at` (ms); a new
   * transaction is a new wait.
   */
  function polled(url, at) {
    const id = url.searchParams.get('transaction_id') ?? url.pathname;
    if (id !== transaction) {
      transaction = id;
      since = 0;
    }
    lastPoll = Math.max(lastPoll, at);
    if (!timer) check();
  }

  try {
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        // A cheap test first: this runs for every resource of every page.
        if (!entry.name.includes('/validate/polltransaction')) continue;
        let url;
        try {
          url = new URL(entry.name);
        } catch {
          continue;
        }
        // When it ended, not when it is seen: entries from before this script ran come late.
        const { responseEnd } = /** @type {PerformanceResourceTiming} */ (entry);
        if (POLL_PATH.test(url.pathname)) polled(url, responseEnd > 0 ? performance.timeOrigin + responseEnd : Date.now());
      }
    }).observe({ type: 'resource', buffered: true });
  } catch {
    // No resource timeline here: the web UI's own sign still works.
  }
  if (webUi) schedule();
})();
