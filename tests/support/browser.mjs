// Launches Debian's Chromium with the unpacked extension (the repository root holds its
// manifest) and hands back the context, the extension's id and its service worker.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { ROOT } from './root.mjs';

export { ROOT };
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/**
 * @returns {Promise<{context: import('playwright-core').BrowserContext,
 *   extensionId: string, worker: import('playwright-core').Worker,
 *   errors: string[], close: () => Promise<void>}>}
 */
export async function launchWithExtension() {
  const profile = await mkdtemp(path.join(tmpdir(), 'pushotp-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      `--disable-extensions-except=${ROOT}`,
      `--load-extension=${ROOT}`,
      '--no-first-run',
      '--disable-gpu',
      // The network here is closed: without these Chromium retries background connections.
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const worker =
    context.serviceWorkers().find((w) => w.url().startsWith('chrome-extension://')) ??
    (await context.waitForEvent('serviceworker', { timeout: 15_000 }));
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
    errors,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** Opens an extension page (such as the popup) as a tab. */
export async function openExtensionPage(browser, page) {
  const tab = await browser.context.newPage();
  await tab.goto(`chrome-extension://${browser.extensionId}/extension/${page}`);
  return tab;
}
