// Launches Debian's Chromium with the unpacked extension and hands back the context, the
// extension's id and its service worker. The extension is loaded from dist/extension/, staged
// afresh from the working tree before each launch (scripts/stage-extension.mjs), as the demo
// and a person's "Load unpacked" load it.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
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
 * @param {{headless?: boolean, args?: string[], viewport?: {width: number, height: number}, others?: string[], extension?: string, startPage?: string}} [options]
 * @returns {Promise<{context: import('playwright-core').BrowserContext,
 *   extensionId: string, worker: import('playwright-core').Worker, profile: string,
 *   errors: string[], close: (options?: {keepProfile?: boolean}) => Promise<void>}>}
 */
export async function launchWithExtension({ headless = true, args = [], viewport, others = [], extension, startPage } = {}) {
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

  return {
    context,
    extensionId,
    worker,
    profile,
    errors,
    async close({ keepProfile = false } = {}) {
      await context.close();
      if (!keepProfile) await rm(profile, { recursive: true, force: true });
    },
  };
}

/** Opens an extension page (such as the popup) as a tab. */
export async function openExtensionPage(browser, page) {
  const tab = await browser.context.newPage();
  await tab.goto(`chrome-extension://${browser.extensionId}/extension/${page}`);
  return tab;
}
