// The Chromium store package (scripts/package-extension.mjs, `npm run build:ext`) runs as the
// Chrome Web Store installs it: unpacked from its archive, with its own manifest (the service
// worker only), its worker computes codes with the WebAssembly core and its popup shows. The
// Firefox package is what the Firefox suite installs (tests/support/firefox.mjs).
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { unzipSync } from 'fflate';
import { packageExtension } from '../../scripts/package-extension.mjs';
import { launchWithExtension, openExtensionPage } from '../support/browser.mjs';

test('the Chromium package runs: its worker computes RFC 6238 codes and its popup shows', async () => {
  const work = await mkdtemp(path.join(tmpdir(), 'pushotp-package-'));
  let browser;
  try {
    const packages = await packageExtension({ out: work, unpacked: work, stage: path.join(work, 'stage') });
    const chromium = /** @type {{file: string}} */ (packages.find((p) => p.target === 'chromium'));
    // The folder holds what the archive holds.
    const names = Object.keys(unzipSync(new Uint8Array(await readFile(chromium.file)))).sort();
    const manifest = JSON.parse(await readFile(path.join(work, 'chromium', 'manifest.json'), 'utf8'));
    assert.equal(manifest.background.scripts, undefined);
    assert.ok(names.includes('extension/pkg/pushotp_bg.wasm'));

    browser = await launchWithExtension({ extension: path.join(work, 'chromium') });
    const popup = await openExtensionPage(browser, 'popup.html');
    await popup.getByText('No sign-in requests are waiting.').waitFor();
    // RFC 6238 appendix B, SHA-1, T = 59 s.
    const code = await popup.evaluate(async () => {
      const added = await chrome.runtime.sendMessage({ type: 'otp.add', tokens: [{ issuer: 'RFC 6238', account: '', type: 'totp', digits: 8, secret: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ' }] });
      const { codes } = await chrome.runtime.sendMessage({ type: 'otp.codes', at: 59_000 });
      return codes[added.ids[0]].code;
    });
    assert.equal(code, '94287082');
    assert.deepEqual(browser.errors, []);
  } finally {
    await browser?.close();
    await rm(work, { recursive: true, force: true });
  }
});
