// Drives the loaded extension the way its own pages do: enrollment through the worker's
// messages against the real server, storage reads, and the Chrome DevTools Protocol calls that
// stop the service worker and deliver Web Push messages to it.

/**
 * Enrolls a push token into the extension from an extension page, as the options page does: the
 * worker's `token.enroll` (the core's enrollment against the server), then `token.enrollFinish`
 * with the PIN when the server asks for one.
 * @returns {Promise<object>} the stored token, with `keys.otp` and `keys.answer` from the
 *   unprotected vault (tokens without PIN)
 */
export async function enroll(page, link, { pin = null, deviceName = 'Test browser' } = {}) {
  return page.evaluate(
    async ({ link, pin, deviceName }) => {
      const ask = async (message) => {
        const reply = await chrome.runtime.sendMessage(message);
        if (!reply.ok) throw new Error(`${message.type}: ${reply.error.code}: ${reply.error.message}`);
        return reply;
      };
      let reply = await ask({ type: 'token.enroll', link, deviceName });
      if (!reply.added) reply = await ask({ type: 'token.enrollFinish', enrollment: reply.enrollment, pin });
      // The stored token, with its approval keys from the vault when no password seals them.
      const { pushTokens, secrets } = await chrome.storage.local.get(['pushTokens', 'secrets']);
      const stored = pushTokens[reply.token.tokenId];
      return { ...stored, keys: { ...stored.keys, ...secrets?.push?.[reply.token.tokenId] } };
    },
    { link, pin, deviceName },
  );
}

/** The extension's session storage (pending requests, outcomes). */
export function session(page) {
  return page.evaluate(() => chrome.storage.session.get());
}

/** Waits until `check(session)` holds, polling the extension's session storage. */
export async function waitForSession(page, check, timeout = 10_000) {
  const end = Date.now() + timeout;
  for (;;) {
    const value = await session(page);
    if (check(value)) return value;
    if (Date.now() > end) throw new Error(`timed out; session storage: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The badge text the worker set. */
export function badge(page) {
  return page.evaluate(() => chrome.action.getBadgeText({}));
}

/**
 * A DevTools session on `page` with the extension's service worker registration: stop the
 * worker, and deliver a Web Push message to it, as the browser's push service would.
 */
export async function serviceWorkerControl(browser, page) {
  const cdp = await browser.context.newCDPSession(page);
  const origin = `chrome-extension://${browser.extensionId}`;
  let registrationId = null;
  let versionId = null;
  cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations }) => {
    const ours = registrations.find((r) => r.scopeURL.startsWith(origin) && !r.isDeleted);
    if (ours) registrationId = ours.registrationId;
  });
  cdp.on('ServiceWorker.workerVersionUpdated', ({ versions }) => {
    const running = versions.find((v) => v.scriptURL.startsWith(origin) && v.runningStatus === 'running');
    if (running) versionId = running.versionId;
  });
  await cdp.send('ServiceWorker.enable');
  const until = async (get) => {
    for (let i = 0; i < 100 && get() == null; i++) await new Promise((r) => setTimeout(r, 50));
    if (get() == null) throw new Error('the service worker registration was not reported');
    return get();
  };
  await until(() => registrationId);
  return {
    async stop() {
      await cdp.send('ServiceWorker.stopWorker', { versionId: await until(() => versionId) });
      versionId = null;
    },
    async push(data) {
      await cdp.send('ServiceWorker.deliverPushMessage', { origin, registrationId, data });
    },
    /** Whether the worker is running again (after an event woke it). */
    async running() {
      await until(() => versionId);
      return true;
    },
  };
}
