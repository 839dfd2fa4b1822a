// Drives the loaded extension the way its own pages do: enrollment through the worker's
// messages against the real server, storage reads, and the Chrome DevTools Protocol calls that
// stop the service worker and deliver Web Push messages to it.

import { patternOf } from '../../extension/access.js';

/**
 * Asks for access to the sites `origins` from the extension page `page`, as PushOTP's pages do
 * within the person's click (Playwright's evaluate counts as one); `launchWithExtension`'s
 * `allow` gives the person's answer.
 * @param {import('playwright-core').Page} page
 * @param {string[]} origins
 */
export async function requestSites(page, origins) {
  const granted = await page.evaluate((patterns) => chrome.permissions.request({ origins: patterns }), origins.map(patternOf));
  if (!granted) throw new Error(`the browser did not grant ${origins}`);
}

/**
 * Asks for access to the server an activation link leads to, as the options page does when
 * the person presses Add.
 * @param {import('playwright-core').Page} page
 * @param {string} link
 */
export function allowServerOf(page, link) {
  const { protocol, searchParams } = new URL(link);
  const server = protocol === 'pushotp:' ? searchParams.get('server') : searchParams.get('url');
  return requestSites(page, [new URL(server).origin]);
}

/**
 * Enrolls a push token into the extension from an extension page, as the options page does:
 * access to the server's site asked of the browser (which `launchWithExtension`'s `allow`
 * answers), the worker's `token.enroll` (the core's enrollment against the server), then
 * `token.enrollFinish` with the PIN when the server asks for one, and access to the login pages
 * the server declared.
 * @returns {Promise<object>} the stored token, with `keys.otp` and `keys.answer` from the
 *   unprotected vault (tokens without PIN)
 */
export async function enroll(page, link, { pin = null, deviceName = 'Test browser' } = {}) {
  await allowServerOf(page, link);
  const token = await page.evaluate(
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
  if (token.loginOrigins?.length) await requestSites(page, token.loginOrigins);
  return token;
}

/**
 * Keeps an everyday token confirmed for `origins` and allows PushOTP on them (`allowListed`).
 * Resolves with the token's id.
 * @param {{context: import('playwright-core').BrowserContext, extensionId: string, worker: import('playwright-core').Worker}} browser
 * @param {string[]} origins  allowed beforehand (`launchWithExtension`'s `allow`)
 */
export async function confirmSites(browser, origins) {
  const page = await browser.context.newPage();
  await page.goto(`chrome-extension://${browser.extensionId}/extension/options.html`);
  try {
    const id = await page.evaluate(async (sites) => {
      const reply = await chrome.runtime.sendMessage({ type: 'otp.add', tokens: [{ issuer: 'Sites', account: '', type: 'totp', secret: 'JBSWY3DPEHPK3PXP', sites }] });
      if (!reply.ok) throw new Error(JSON.stringify(reply));
      return reply.ids[0];
    }, origins);
    await allowListed(browser, origins);
    return id;
  } finally {
    await page.close();
  }
}

/**
 * Allows PushOTP on `origins`, sites its tokens use already, with their Allow buttons in the
 * Sites list of the options page, as a person does for a token that came without them (from a
 * backup file, or with sites). Resolves once the worker registered the content scripts there.
 * @param {{context: import('playwright-core').BrowserContext, extensionId: string, worker: import('playwright-core').Worker}} browser
 * @param {string[]} origins  allowed beforehand (`launchWithExtension`'s `allow`)
 */
export async function allowListed(browser, origins) {
  const page = await browser.context.newPage();
  await page.goto(`chrome-extension://${browser.extensionId}/extension/options.html`);
  try {
    const patterns = origins.map((o) => `${new URL(o).protocol}//${new URL(o).hostname}/*`);
    for (const [i, origin] of origins.entries()) {
      await page.locator(`li[data-origin="${origin}"]`).waitFor();
      // Two sites of one host are one grant: the second is allowed with the first.
      if (await page.evaluate((pattern) => chrome.permissions.contains({ origins: [pattern] }), patterns[i])) continue;
      await page.getByRole('button', { name: `Allow PushOTP on ${new URL(origin).host}` }).click();
    }
    await waitForRegistered(browser, patterns);
  } finally {
    await page.close();
  }
}

/**
 * Waits until the worker registered the content scripts for every one of `patterns`.
 * @param {{worker: import('playwright-core').Worker}} browser
 * @param {string[]} patterns
 */
export async function waitForRegistered(browser, patterns, timeout = 10_000) {
  const end = Date.now() + timeout;
  for (;;) {
    const matches = await browser.worker.evaluate(async () => (await chrome.scripting.getRegisteredContentScripts()).flatMap((s) => s.matches ?? []));
    if (patterns.every((p) => matches.includes(p))) return;
    if (Date.now() > end) throw new Error(`content scripts registered for ${matches}, not ${patterns}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
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

/**
 * How many PushOTP worlds (the content scripts' isolated worlds, where its scripts would run,
 * observe the page and send messages from) the frames of `page` have, once the page loaded and
 * the browser's time for content scripts (document_idle) is well past.
 * @param {{context: import('playwright-core').BrowserContext}} browser
 * @param {import('playwright-core').Page} page
 */
export async function pushotpWorlds(browser, page) {
  await page.waitForLoadState('load');
  await page.waitForTimeout(500);
  const cdp = await browser.context.newCDPSession(page);
  let worlds = 0;
  cdp.on('Runtime.executionContextCreated', ({ context }) => {
    if (context.auxData?.type === 'isolated' && context.origin?.startsWith('chrome-extension://')) worlds++;
  });
  // Enabling reports every context that exists now.
  await cdp.send('Runtime.enable');
  await cdp.detach();
  return worlds;
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
