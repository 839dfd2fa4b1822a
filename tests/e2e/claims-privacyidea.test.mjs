// What docs/threat-model.md promises of privacyIDEA tokens and export files, against a real
// privacyIDEA 3.14 (scripts/privacyidea.sh) and the real reference server in Chromium: an export
// holds the push tokens but nothing of a privacyIDEA token.
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { launchWithExtension, openExtensionPage } from '../support/browser.mjs';
import { enroll } from '../support/extension.mjs';
import { startPrivacyIdea } from '../support/privacyidea.mjs';
import { startServer } from '../support/server.mjs';

let pi;
let server;
let browser;
let options;
let skip = false;
before(async () => {
  pi = await startPrivacyIdea();
  if (pi.skipped) {
    skip = `privacyIDEA tests skipped: ${pi.skipped}`;
    pi = null;
    return;
  }
  [browser, server] = await Promise.all([launchWithExtension(), startServer(['--no-number-matching'])]);
  options = await openExtensionPage(browser, 'options.html');
  await options.locator('body[data-ready]').waitFor();
});
after(async () => {
  await browser?.close();
  await server?.stop();
  await pi?.stop();
});

test('privacyIDEA tokens are not in export files', async (t) => {
  if (skip) return t.skip(skip);
  const pushToken = await enroll(options, server.link);
  const { serial, link } = await pi.initPushToken('alice');
  await options.locator('#pi-link').fill(link);
  await options.locator('#pi-add').click();
  await options.getByText(`Added ${serial} from privacyIDEA.`).waitFor({ timeout: 30_000 });
  const { piTokens } = await options.evaluate(() => chrome.storage.local.get('piTokens'));
  const piToken = piTokens[serial];
  assert.ok(piToken?.serverKey, JSON.stringify(piToken));

  // Exported through the form, as a person does, and opened here with the file's password.
  const download = options.waitForEvent('download');
  await options.getByLabel('Export password (at least 8 characters)').fill('export secret');
  await options.getByLabel('Type the export password again').fill('export secret');
  await options.getByRole('button', { name: 'Export', exact: true }).click();
  const text = await readFile(await (await download).path(), 'utf8');
  const file = JSON.parse(text);
  const key = await options.evaluate(
    async ({ password, kdf }) => {
      const tools = await import('./tools.js');
      await tools.ready;
      const { salt, memoryKib, iterations, parallelism } = kdf;
      return tools.deriveKey(password, salt, { memoryKib, iterations, parallelism });
    },
    { password: 'export secret', kdf: file.kdf },
  );
  const b64 = (value) => Buffer.from(value, 'base64url');
  const aes = await webcrypto.subtle.importKey('raw', b64(key), 'AES-GCM', false, ['decrypt']);
  const plain = Buffer.from(
    await webcrypto.subtle.decrypt({ name: 'AES-GCM', iv: b64(file.iv), additionalData: Buffer.from('pushotp-export-v1') }, aes, b64(file.data)),
  ).toString();
  const content = JSON.parse(plain);

  // The push token is there, with its keys; nothing of the privacyIDEA token is.
  assert.deepEqual(Object.keys(content).sort(), ['otpTokens', 'pushTokens']);
  assert.deepEqual(content.pushTokens.map((p) => p.tokenId), [pushToken.tokenId]);
  assert.deepEqual(content.otpTokens, []);
  for (const [what, value] of [['serial', serial], ['server key', piToken.serverKey], ['privacyIDEA address', pi.url]]) {
    assert.ok(!plain.includes(value), `the export holds the privacyIDEA token's ${what}`);
  }
  // The page says so before the export.
  await options.getByText('privacyIDEA tokens are not in the file').waitFor();
});

test('no console errors', (t) => {
  if (skip) return t.skip(skip);
  assert.deepEqual(browser.errors, []);
});
