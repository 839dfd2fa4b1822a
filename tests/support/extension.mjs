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

/**
 * The extension's content scripts in `frame` (a Playwright frame; `page.mainFrame()` for a
 * page), reached in their isolated world through the DevTools protocol: `evaluate` and `send`
 * run there as the content scripts run (so the worker sees a message from a content script,
 * with the frame's tab and origin). `ready()` waits until content.js's fill listener is in
 * place, `scanned(n)` until the fill button's scan (affordance.js) finished `n` times: a test
 * that asserts that nothing happened waits for one of them first, so that it cannot pass
 * because the scripts never ran.
 *
 * The frame's context is told apart from the other frames' by a mark the test sets in the
 * frame's document, which every world of the frame shares; an out-of-process frame (another
 * site) has its own DevTools session.
 * @param {{context: import('playwright-core').BrowserContext}} browser
 * @param {import('playwright-core').Frame} frame
 */
export async function contentScriptOf(browser, frame) {
  const page = frame.page();
  let cdp;
  if (frame === page.mainFrame()) {
    cdp = await browser.context.newCDPSession(page);
  } else {
    cdp = await browser.context.newCDPSession(frame).catch(() => browser.context.newCDPSession(page));
  }
  const contexts = new Set();
  cdp.on('Runtime.executionContextCreated', ({ context }) => {
    if (context.auxData?.type === 'isolated' && context.name === 'PushOTP') contexts.add(context.id);
  });
  cdp.on('Runtime.executionContextDestroyed', ({ executionContextId }) => contexts.delete(executionContextId));
  await cdp.send('Runtime.enable');
  const evaluateIn = async (contextId, expression) => {
    const { result, exceptionDetails } = await cdp.send('Runtime.evaluate', { expression, contextId, awaitPromise: true, returnByValue: true });
    if (exceptionDetails) throw new Error(`in the content script: ${JSON.stringify(exceptionDetails)}`);
    return result.value;
  };
  const probe = `probe-${Math.random().toString(36).slice(2)}`;
  await frame.evaluate((p) => {
    document.documentElement.dataset.pushotpProbe = p;
  }, probe);
  let contextId = null;
  for (let i = 0; i < 100 && contextId === null; i++) {
    if (i) await new Promise((resolve) => setTimeout(resolve, 50));
    for (const id of contexts) {
      const seen = await evaluateIn(id, 'document.documentElement.dataset.pushotpProbe').catch(() => null);
      if (seen === probe) contextId = id;
    }
  }
  await frame.evaluate(() => {
    delete document.documentElement.dataset.pushotpProbe;
  });
  if (contextId === null) throw new Error(`no content script in ${frame.url()}`);
  const evaluate = (expression) => evaluateIn(contextId, expression);
  /** Polls `expression` in the content scripts' world until it is true. */
  const until = async (expression, timeout = 10_000) => {
    const end = Date.now() + timeout;
    while ((await evaluate(expression)) !== true) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${expression} in ${frame.url()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  return {
    evaluate,
    send: (message) => evaluate(`chrome.runtime.sendMessage(${JSON.stringify(message)})`),
    ready: () => until('globalThis.pushotpMarks?.ready === true'),
    scanned: (n = 1) => until(`(globalThis.pushotpMarks?.scans ?? 0) >= ${Number(n)}`),
    scans: () => evaluate('globalThis.pushotpMarks?.scans ?? 0'),
    detach: () => cdp.detach(),
  };
}

/** Waits until the content scripts of every frame of `page` are in place (`ready()` above). */
export async function framesReady(browser, page) {
  for (const frame of page.frames()) {
    const scripts = await contentScriptOf(browser, frame);
    await scripts.ready();
    await scripts.detach();
  }
}

/**
 * The console of the extension's service worker from now on, across its restarts (each start
 * is a new worker): `lines` as `type: text`, and `until(pattern, count)`, which waits until
 * `count` lines match. What the worker says when it drops a message is the positive signal a
 * test waits for before it asserts that the message changed nothing.
 * @param {{context: import('playwright-core').BrowserContext, extensionId: string}} browser
 */
export function workerConsole(browser) {
  /** @type {string[]} */
  const lines = [];
  const listen = (worker) => {
    if (worker.url().startsWith(`chrome-extension://${browser.extensionId}/`)) {
      worker.on('console', (message) => lines.push(`${message.type()}: ${message.text()}`));
    }
  };
  browser.context.serviceWorkers().forEach(listen);
  browser.context.on('serviceworker', listen);
  return {
    lines,
    async until(pattern, count = 1, timeout = 10_000) {
      const end = Date.now() + timeout;
      while (lines.filter((line) => pattern.test(line)).length < count) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${count} × ${pattern} in the worker's console: ${JSON.stringify(lines)}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    stop: () => browser.context.off('serviceworker', listen),
  };
}

/**
 * Records what the worker asks of the notifications API, as it asks it, from now on. Returns
 * `notice(id)`: the options of the notification `id`, waited for up to 5 s.
 * @returns {Promise<(id: string) => Promise<chrome.notifications.NotificationOptions>>}
 */
export async function recordNotifications(browser) {
  await browser.worker.evaluate(() => {
    globalThis.__notices = {};
    const create = chrome.notifications.create.bind(chrome.notifications);
    chrome.notifications.create = (id, options) => {
      globalThis.__notices[id] = options;
      return create(id, options);
    };
  });
  return async (id) => {
    let options;
    for (let i = 0; i < 50 && !options; i++) {
      if (i) await new Promise((resolve) => setTimeout(resolve, 100));
      options = await browser.worker.evaluate((id) => globalThis.__notices[id], id);
    }
    if (!options) throw new Error(`no notification ${id}`);
    return options;
  };
}
