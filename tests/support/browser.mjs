// Launches Debian's Chromium with the unpacked extension and hands back the context, the
// extension's id and its service worker. The extension is loaded from dist/extension/, staged
// afresh from the working tree before each launch (scripts/stage-extension.mjs), as the demo
// and a person's "Load unpacked" load it.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { stageExtension } from '../../scripts/stage-extension.mjs';
import { ROOT } from './root.mjs';

export { ROOT };
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** @type {ReturnType<typeof stageExtension>|null} */
let staging = null;

/**
 * `headless: false` shows the browser window (on a display, or Xvfb's); `args` are further
 * Chromium switches, `viewport` the pages' size (Playwright's 1280×720 otherwise), `others` the
 * folders of further unpacked extensions to load beside this one, `extension` a folder staged
 * elsewhere to load instead of dist/extension/ (a copy with something added), `startPage` a
 * page the browser opens as it starts (from the profile's start-up pages, as a person's browser
 * opens them), before the extension's worker first ran.
 * `close({ keepProfile: true })` leaves the profile folder (`profile`) on disk for the caller to
 * read and remove.
 *
 * `allow` lists the sites (match patterns) a person allows when PushOTP asks for them: the
 * browser's prompt is a window of its own that no test can click, so the answer is given
 * beforehand, the way chrome://extensions' "Site access" does (`allowSites`). It gives
 * PushOTP nothing by itself: a site becomes PushOTP's only when PushOTP asks for it
 * (`chrome.permissions.request`), on the page and at the step where it asks a person.
 * @param {{headless?: boolean, args?: string[], viewport?: {width: number, height: number}, others?: string[], extension?: string, startPage?: string, allow?: string[]}} [options]
 * @returns {Promise<{context: import('playwright-core').BrowserContext,
 *   extensionId: string, worker: import('playwright-core').Worker, profile: string,
 *   errors: string[], close: (options?: {keepProfile?: boolean}) => Promise<void>}>}
 */
export async function launchWithExtension({ headless = true, args = [], viewport, others = [], extension, startPage, allow = ['http://127.0.0.1/*', 'http://localhost/*'] } = {}) {
  // Once per test process: every browser it launches loads the same staged files.
  staging ??= extension ? null : stageExtension();
  const dir = extension ?? (await /** @type {ReturnType<typeof stageExtension>} */ (staging)).dir;
  const profile = await mkdtemp(path.join(tmpdir(), 'pushotp-profile-'));
  if (startPage) {
    await mkdir(path.join(profile, 'Default'));
    // 4: open the listed pages at start.
    const preferences = { session: { restore_on_startup: 4, startup_urls: [startPage] } };
    await writeFile(path.join(profile, 'Default', 'Preferences'), JSON.stringify(preferences));
  }
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless,
    // Playwright opens about:blank in place of the start-up pages otherwise.
    ...(startPage && { ignoreDefaultArgs: ['about:blank'] }),
    ...(viewport && { viewport }),
    args: [
      `--disable-extensions-except=${[dir, ...others].join(',')}`,
      `--load-extension=${[dir, ...others].join(',')}`,
      '--no-first-run',
      '--disable-gpu',
      // The network here is closed: without these Chromium retries background connections.
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      // The DevTools calls a person's click on the toolbar button stands for (`clickToolbarButton`).
      '--enable-unsafe-extension-debugging',
      '--remote-debugging-port=0',
      ...args,
    ],
  });
  const ours = (w) => w.url().startsWith('chrome-extension://') && w.url().endsWith('/extension/background.js');
  const worker =
    context.serviceWorkers().find(ours) ?? (await context.waitForEvent('serviceworker', { predicate: ours, timeout: 15_000 }));
  const extensionId = new URL(worker.url()).host;

  // Console errors anywhere in the extension are failures: a test checks this list at its end.
  const errors = [];
  const watch = (page) =>
    page.on('console', (msg) => {
      if (msg.type() === 'error') errors.push(`${page.url()}: ${msg.text()}`);
    });
  context.pages().forEach(watch);
  context.on('page', watch);
  worker.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`service worker: ${msg.text()}`);
  });

  const browser = {
    context,
    extensionId,
    worker,
    profile,
    errors,
    async close({ keepProfile = false } = {}) {
      await cdp?.close().catch(() => {});
      await context.close();
      if (!keepProfile) await rm(profile, { recursive: true, force: true });
    },
  };
  /** @type {import('playwright-core').Browser|null} */
  let cdp = null;
  /** The browser's own DevTools session, for what no page may do: click the toolbar button. */
  browser.devtools = async () => {
    if (!cdp) {
      const [port] = (await readFile(path.join(profile, 'DevToolsActivePort'), 'utf8')).split('\n');
      cdp = await chromium.connectOverCDP(`http://127.0.0.1:${port}`);
    }
    return cdp.newBrowserCDPSession();
  };
  if (allow.length) await allowSites(browser, allow);
  return browser;
}

/**
 * Gives the answer a person gives when PushOTP asks for `patterns`: what chrome://extensions
 * does when a person adds a site under the extension's "Site access". The browser then grants
 * them, without a prompt, once PushOTP asks.
 * @param {{context: import('playwright-core').BrowserContext, extensionId: string}} browser
 * @param {string[]} patterns
 */
export async function allowSites(browser, patterns) {
  const page = await browser.context.newPage();
  try {
    await page.goto('chrome://extensions/');
    for (const pattern of patterns) {
      const error = await page.evaluate(
        ([id, host]) => new Promise((resolve) => chrome.developerPrivate.addHostPermission(id, host, () => resolve(chrome.runtime.lastError?.message ?? null))),
        [browser.extensionId, pattern],
      );
      if (error) throw new Error(`chrome://extensions refused ${pattern}: ${error}`);
    }
  } finally {
    await page.close();
  }
}

/**
 * The permissions the browser reports for the installed extension, on chrome://extensions: the
 * warnings its install prompt shows (`warnings`), and its site access there (`siteAccess`).
 * @param {{context: import('playwright-core').BrowserContext, extensionId: string}} browser
 * @returns {Promise<{warnings: string[], siteAccess: {hasAllHosts: boolean, hosts: {host: string, granted: boolean}[]}}>}
 */
export async function reportedPermissions(browser) {
  const page = await browser.context.newPage();
  try {
    await page.goto('chrome://extensions/');
    return await page.evaluate(
      async (id) => ({
        warnings: await new Promise((resolve) => chrome.management.getPermissionWarningsById(id, resolve)),
        siteAccess: (await new Promise((resolve) => chrome.developerPrivate.getExtensionInfo(id, resolve))).permissions.runtimeHostPermissions,
      }),
      browser.extensionId,
    );
  } finally {
    await page.close();
  }
}

/**
 * A person's click on PushOTP's toolbar button while `page` is the tab in front: PushOTP may
 * act on that tab until it navigates (`activeTab`), and its popup opens. The popup the browser
 * opens is not a page Playwright can drive: it is closed again, and the test goes on with the
 * popup in a tab (`openExtensionPage`), which fills into the web page used last, as the other
 * tests do.
 * @param {{extensionId: string, devtools: () => Promise<import('playwright-core').CDPSession>}} browser
 * @param {import('playwright-core').Page} page
 */
export async function clickToolbarButton(browser, page) {
  await page.bringToFront();
  const session = await browser.devtools();
  try {
    const url = page.url();
    const { targetInfos } = await session.send('Target.getTargets', { filter: [{ type: 'tab' }] });
    const tab = targetInfos.find((t) => t.url === url);
    if (!tab) throw new Error(`no tab shows ${url}`);
    const popupUrl = `chrome-extension://${browser.extensionId}/extension/popup.html`;
    const popups = async () => (await session.send('Target.getTargets')).targetInfos.filter((t) => t.url === popupUrl);
    // Popups the test opened in tabs are not the one the button opens.
    const before = new Set((await popups()).map((t) => t.targetId));
    await session.send('Extensions.triggerAction', { id: browser.extensionId, targetId: tab.targetId });
    for (let i = 0; ; i++) {
      const popup = (await popups()).find((t) => !before.has(t.targetId));
      if (popup) {
        await session.send('Target.closeTarget', { targetId: popup.targetId });
        break;
      }
      if (i > 100) throw new Error('the toolbar button opened no popup');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    await session.detach().catch(() => {});
  }
}

/** Opens an extension page (such as the popup) as a tab. */
export async function openExtensionPage(browser, page) {
  const tab = await browser.context.newPage();
  await tab.goto(`chrome-extension://${browser.extensionId}/extension/${page}`);
  return tab;
}
