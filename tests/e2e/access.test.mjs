// Least privilege: PushOTP asks for no site at install, holds a site only while a token uses it
// and the person allowed it, and runs no script at all on the pages of any other site. The
// person's answers to the browser's prompts are given beforehand (`launchWithExtension`'s
// `allow`, what chrome://extensions' "Site access" does); the toolbar button is clicked through
// DevTools (`clickToolbarButton`); everything else goes through PushOTP's own pages.
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { stageExtension } from '../../scripts/stage-extension.mjs';
import { ROOT, clickToolbarButton, launchWithExtension, openExtensionPage, reportedPermissions } from '../support/browser.mjs';
import { PI_SCRIPTS } from '../../extension/access.js';
import { contentScriptOf, enroll, pushotpWorlds } from '../support/extension.mjs';
import { servePages } from '../support/pages.mjs';
import { startServer } from '../support/server.mjs';

/** A site no token uses: another name for the test pages' server. */
const UNRELATED = 'unrelated.test';

let server;
let pages;
let browser;
before(async () => {
  [server, pages] = await Promise.all([startServer(), servePages()]);
  browser = await launchWithExtension({ args: [`--host-resolver-rules=MAP ${UNRELATED} 127.0.0.1`] });
});
after(async () => {
  await browser?.close();
  await Promise.all([server?.stop(), pages?.stop()]);
});

/** The sites PushOTP holds, and those its content scripts are registered for, as the browser says. */
async function held() {
  return browser.worker.evaluate(async () => ({
    origins: ((await chrome.permissions.getAll()).origins ?? []).sort(),
    scripts: (await chrome.scripting.getRegisteredContentScripts()).flatMap((s) => s.matches ?? []).sort(),
  }));
}

/** Waits until PushOTP holds exactly `origins` with scripts registered for exactly those. */
async function waitForHeld(origins) {
  const end = Date.now() + 10_000;
  for (;;) {
    const now = await held();
    if (JSON.stringify(now) === JSON.stringify({ origins, scripts: origins })) return;
    if (Date.now() > end) assert.deepEqual(now, { origins, scripts: origins });
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('no access to all websites: the browser reports none, and PushOTP holds no site before a token needs one', async () => {
  const manifest = JSON.parse(await readFile(path.join(ROOT, 'manifest.json'), 'utf8'));
  assert.equal(manifest.host_permissions, undefined);
  assert.equal(manifest.content_scripts, undefined);
  assert.deepEqual(manifest.optional_host_permissions, ['http://*/*', 'https://*/*']);

  // What the install prompt shows, and the site access chrome://extensions lists.
  const { warnings, siteAccess } = await reportedPermissions(browser);
  assert.deepEqual(warnings, ['Display notifications']);
  assert.equal(siteAccess.hasAllHosts, false);
  assert.deepEqual(siteAccess.hosts, []);
  assert.deepEqual(await held(), { origins: [], scripts: [] });

  // The same probe on a copy that asks for every site reports it: the check above can fail.
  const copy = await mkdtemp(path.join(tmpdir(), 'pushotp-all-sites-'));
  try {
    await cp((await stageExtension()).dir, copy, { recursive: true });
    const wide = { ...manifest, host_permissions: ['<all_urls>'] };
    await writeFile(path.join(copy, 'manifest.json'), JSON.stringify(wide));
    const other = await launchWithExtension({ extension: copy, allow: [] });
    try {
      const reported = await reportedPermissions(other);
      assert.deepEqual(reported.warnings, ['Read and change all your data on all websites', 'Display notifications']);
      assert.equal(reported.siteAccess.hasAllHosts, true);
    } finally {
      await other.close();
    }
  } finally {
    await rm(copy, { recursive: true, force: true });
  }
});

test("a push token brings its server's site, asked at enrollment; a page of a site no token uses gets no script", async () => {
  // Open before anything is enrolled, and after: neither gets a script.
  const before = await browser.context.newPage();
  await before.goto(`http://${UNRELATED}:${new URL(pages.url).port}/pages/plain.html`);

  const options = await openExtensionPage(browser, 'options.html');
  await options.getByLabel('Activation link').fill(server.link);
  await options.getByRole('button', { name: 'Add', exact: true }).click();
  await options.getByText(/^Added Demo Portal/).waitFor();
  await waitForHeld(['http://127.0.0.1/*']);
  // The Sites list says what it is for.
  const site = options.locator(`li[data-origin="${server.url}"]`);
  await site.getByText('server of Demo Portal.').waitFor();
  assert.equal(await site.getByRole('button').count(), 0, 'a server is neither to allow again nor to remove');
  await options.close();

  // The server's login page gets the scripts.
  const login = await browser.context.newPage();
  await login.goto(`${server.url}/auth`);
  await (await contentScriptOf(browser, login.mainFrame())).ready();
  assert.equal(await pushotpWorlds(browser, login), 1);

  const after = await browser.context.newPage();
  await after.goto(`http://${UNRELATED}:${new URL(pages.url).port}/pages/plain.html`);
  await after.locator('#code').waitFor();
  assert.equal(await pushotpWorlds(browser, after), 0);
  assert.equal(await pushotpWorlds(browser, before), 0);
  for (const page of [before, after, login]) await page.close();
});

test('a tab is looked at for a QR code only once the toolbar button was clicked on it', async () => {
  const tab = await browser.context.newPage();
  await tab.goto(`http://${UNRELATED}:${new URL(pages.url).port}/pages/plain.html`);
  const options = await openExtensionPage(browser, 'options.html');
  const status = options.locator('#add-status');
  const scan = async () => {
    await options.bringToFront();
    await options.getByRole('button', { name: 'Scan QR code from the current tab' }).click();
    await status.filter({ hasNotText: /^Looking for the QR code/ }).filter({ hasText: /\S/ }).waitFor();
    return status.textContent();
  };
  assert.equal(
    await scan(),
    'PushOTP looks only at a tab you clicked its toolbar button on: go to the tab with the QR code, click the PushOTP button in the toolbar, then scan again here.',
  );
  await clickToolbarButton(browser, tab);
  assert.match(await scan(), new RegExp(`^No QR code was found in .*\\(${UNRELATED}:\\d+\\)\\.`));
  await options.close();
  await tab.close();
});

test('a site confirmed in the popup: asked for once, filled at once, scripted from then on, and given back when removed', async () => {
  const options = await openExtensionPage(browser, 'options.html');
  const added = await options.evaluate(() =>
    chrome.runtime.sendMessage({ type: 'otp.add', tokens: [{ issuer: 'Example', account: 'alice', type: 'totp', secret: 'JBSWY3DPEHPK3PXP' }] }),
  );
  assert.ok(added.ok, JSON.stringify(added));
  const host = new URL(pages.other).host;

  // A page open before the site was confirmed: no script yet.
  const tab = await browser.context.newPage();
  await tab.goto(`${pages.other}/pages/plain.html`);
  assert.equal(await pushotpWorlds(browser, tab), 0);

  // The person clicks the toolbar button on it, and fills the token's code there.
  await clickToolbarButton(browser, tab);
  const popup = await openExtensionPage(browser, 'popup.html');
  await popup.getByRole('button', { name: 'Fill the code of Example alice' }).click();
  const question = popup.getByRole('dialog', { name: `Fill codes of Example into ${host}? Only confirm if this is Example's real site.` });
  await question.getByText(`The first time, your browser asks you to let PushOTP act on ${new URL(pages.other).hostname}, and on no other site.`).waitFor();
  await question.getByRole('button', { name: 'Fill' }).click();
  await tab.waitForFunction(() => /^\d{6}$/.test(document.getElementById('code').value));
  await waitForHeld(['http://127.0.0.1/*', 'http://localhost/*']);

  // Pages of the site opened from now on get the scripts, and the token's button.
  const again = await browser.context.newPage();
  await again.goto(`${pages.other}/pages/plain.html`);
  await again.locator('pushotp-fill').waitFor();
  assert.equal(await pushotpWorlds(browser, again), 1);

  // The Sites list offers it for removal; removed, the site goes back to the browser.
  await options.reload();
  const site = options.locator(`li[data-origin="${pages.other}"]`);
  await site.getByText('confirmed for Example (alice).').waitFor();
  await site.getByRole('button', { name: `Remove ${host} from the confirmed sites` }).click();
  await options.getByText(`Removed ${host}: PushOTP no longer acts on it.`).waitFor();
  await waitForHeld(['http://127.0.0.1/*']);
  const later = await browser.context.newPage();
  await later.goto(`${pages.other}/pages/plain.html`);
  assert.equal(await pushotpWorlds(browser, later), 0);
  for (const page of [tab, again, later, options]) await page.close();
});

test('removing the last token that uses a site gives the site back, and its pages get no script', async () => {
  const options = await openExtensionPage(browser, 'options.html');
  const { pushTokens } = await options.evaluate(() => chrome.storage.local.get('pushTokens'));
  for (const tokenId of Object.keys(pushTokens)) {
    const reply = await options.evaluate((id) => chrome.runtime.sendMessage({ type: 'token.remove', tokenId: id }), tokenId);
    assert.ok(reply.ok, JSON.stringify(reply));
  }
  await waitForHeld([]);
  await options.locator('#sites-none').waitFor();
  const login = await browser.context.newPage();
  await login.goto(`${server.url}/auth`);
  assert.equal(await pushotpWorlds(browser, login), 0);
  await login.close();
  await options.close();
});

test('after an update from the version that held every site, the options page offers to keep only the sites in use', async () => {
  // The earlier version: every site at install, the content scripts on every page.
  const copy = await mkdtemp(path.join(tmpdir(), 'pushotp-update-'));
  const manifest = JSON.parse(await readFile(path.join(ROOT, 'manifest.json'), 'utf8'));
  const own = await startServer();
  let earlier;
  let later;
  try {
    await cp((await stageExtension()).dir, copy, { recursive: true });
    const { optional_host_permissions: _, ...rest } = manifest;
    const all = { matches: ['http://*/*', 'https://*/*'], js: [...PI_SCRIPTS], run_at: 'document_idle', all_frames: true };
    await writeFile(path.join(copy, 'manifest.json'), JSON.stringify({ ...rest, version: '0.0.9', host_permissions: ['<all_urls>'], content_scripts: [all] }));
    earlier = await launchWithExtension({ extension: copy, allow: [] });
    const page = await openExtensionPage(earlier, 'options.html');
    await enroll(page, own.link);
    await earlier.close({ keepProfile: true });

    // The update, on the same profile.
    await writeFile(path.join(copy, 'manifest.json'), JSON.stringify(manifest));
    later = await launchWithExtension({ extension: copy, profile: earlier.profile, allow: ['http://127.0.0.1/*'] });
    // A store update opens the options page at its Sites list by itself (onInstalled,
    // "update"); Chromium does not tell an unpacked extension loaded anew, so it is opened here.
    const options = await openExtensionPage(later, 'options.html#sites-heading');
    const granted = () => later.worker.evaluate(async () => ((await chrome.permissions.getAll()).origins ?? []).sort());
    // The browser kept every site for it.
    assert.deepEqual(await granted(), ['http://*/*', 'https://*/*']);
    await options.getByText('PushOTP may still act on every site: an earlier version asked for that when it was installed.').waitFor();
    await options.locator(`li[data-origin="${own.url}"]`).getByText('server of Demo Portal.').waitFor();
    await options.getByRole('button', { name: 'Keep only these sites' }).click();
    await options.getByText('PushOTP may act on these sites, and on no other.').waitFor();
    assert.deepEqual(await granted(), ['http://127.0.0.1/*']);
    const scripts = await later.worker.evaluate(async () => (await chrome.scripting.getRegisteredContentScripts()).flatMap((s) => s.matches));
    assert.deepEqual(scripts, ['http://127.0.0.1/*']);
    assert.equal(await options.locator('#sites-wide').isVisible(), false);
  } finally {
    // Closed already on the way, unless a step before failed.
    await earlier?.close({ keepProfile: true }).catch(() => {});
    await later?.close();
    await own.stop();
    await rm(copy, { recursive: true, force: true });
    if (earlier) await rm(earlier.profile, { recursive: true, force: true });
  }
});
