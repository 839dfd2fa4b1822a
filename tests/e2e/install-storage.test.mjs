// The moment of install: before the worker first closes storage to content scripts
// (store.js), a content script in a page that is open when the browser starts can write
// chrome.storage.local. Nothing the extension keeps exists yet then, so the worker closes
// storage and clears local storage when it is installed: what a page planted is gone, and the
// settings are the defaults. A probe content script (document_start, every frame, added to a
// copy of the extension) plants settings that would weaken it, over and over until the browser
// refuses, in a page that Chromium opens as it starts on a fresh profile. The copy's worker
// starts a little late (`slow-start.js`, evaluated before its first line), as on a busy
// computer, so that the probe gets in first however the machine running the test is loaded.
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { stageExtension } from '../../scripts/stage-extension.mjs';
import { launchWithExtension, openExtensionPage } from '../support/browser.mjs';
import { servePages } from '../support/pages.mjs';

const PLANTED = { autoSubmit: true, autoLockMinutes: 0, approveFromNotification: true };

/** Plants settings until a write is refused, then says how it went in the page's document. */
const PROBE = `(async () => {
  const report = (state) => { document.documentElement.dataset.probe = JSON.stringify(state); };
  const state = { planted: 0, refused: null };
  const end = Date.now() + 10000;
  while (Date.now() < end) {
    try {
      await chrome.storage.local.set({ settings: ${JSON.stringify(PLANTED)} });
      state.planted++;
    } catch (err) {
      state.refused = String(err.message);
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  report(state);
})();
`;

let pages;
let copy;
let browser;
before(async () => {
  pages = await servePages();
  copy = await mkdtemp(path.join(tmpdir(), 'pushotp-probe-'));
  const { dir } = await stageExtension();
  await cp(dir, copy, { recursive: true });
  const manifest = JSON.parse(await readFile(path.join(copy, 'manifest.json'), 'utf8'));
  manifest.content_scripts = [{ matches: ['http://*/*'], js: ['probe.js'], run_at: 'document_start', all_frames: true }];
  await writeFile(path.join(copy, 'manifest.json'), JSON.stringify(manifest));
  await writeFile(path.join(copy, 'probe.js'), PROBE);
  await writeFile(path.join(copy, 'extension/slow-start.js'), 'for (const end = Date.now() + 2000; Date.now() < end; );\n');
  const worker = path.join(copy, 'extension/background.js');
  await writeFile(worker, `import './slow-start.js';\n${await readFile(worker, 'utf8')}`);
  browser = await launchWithExtension({ extension: copy, startPage: `${pages.url}/pages/plain.html` });
});
after(async () => {
  await browser?.close();
  await pages?.stop();
  if (copy) await rm(copy, { recursive: true, force: true });
});

test('what a page wrote before the worker first closed storage is cleared at install', async () => {
  const page = browser.context.pages().find((p) => p.url().startsWith(pages.url));
  assert.ok(page, `the page opened at start: ${browser.context.pages().map((p) => p.url())}`);
  const probe = JSON.parse(await page.waitForFunction(() => document.documentElement.dataset.probe).then((h) => h.jsonValue()));
  // The probe ran before storage was closed, and then the browser refused it: the worker
  // closed storage at install, not only when a page of the extension first used it.
  assert.ok(probe.planted >= 1, JSON.stringify(probe));
  assert.ok(probe.refused, `storage stayed open to content scripts: ${JSON.stringify(probe)}`);
  // A round trip through the worker that reads local storage: it is past its install steps.
  const options = await openExtensionPage(browser, 'options.html');
  const status = await options.evaluate(() => chrome.runtime.sendMessage({ type: 'vault.status' }));
  assert.equal(status.ok, true, JSON.stringify(status));
  assert.deepEqual(await options.evaluate(() => chrome.storage.local.get(null)), {});
  const settings = await options.evaluate(async () => (await import('./store.js')).settings());
  assert.equal(settings.autoSubmit, false);
  assert.equal(settings.autoLockMinutes, 15);
  await options.close();
});

test('no console errors', () => {
  assert.deepEqual(browser.errors, []);
});
