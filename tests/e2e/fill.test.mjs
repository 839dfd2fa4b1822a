// The content script in real Chromium against login pages shaped like real providers' code
// steps (tests/pages/): the worker's fill message finds the code field by autocomplete, name,
// labels or the text around it, or a row of digit boxes; types the passcode so that the page
// and React see it; submits when asked; and leaves alone backup and recovery code fields,
// fields a person cannot type into, frames of other origins and pages of other origins.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchWithExtension, openExtensionPage } from '../support/browser.mjs';
import { confirmSites, contentScriptOf, framesReady } from '../support/extension.mjs';
import { servePages } from '../support/pages.mjs';

let browser;
let pages;
before(async () => {
  [browser, pages] = await Promise.all([launchWithExtension(), servePages()]);
  // Pages of both origins get the content scripts: a token is confirmed for both.
  await confirmSites(browser, [pages.url, pages.other]);
});
after(async () => {
  await browser?.close();
  await pages?.stop();
});

/** Opens a test page in a new tab, on the pages' origin unless another is given. */
async function open(page, base = pages.url) {
  const tab = await browser.context.newPage();
  await tab.goto(`${base}/pages/${page}`);
  return tab;
}

/**
 * Sends the fill message from the service worker to every frame of the tab, as the worker does
 * after an approval. Retries while the tab's content script is not there yet.
 */
async function deliver(tab, { passcode, origin = new URL(tab.url()).origin, submit = false, display }) {
  const url = tab.url();
  for (let attempt = 0; ; attempt++) {
    try {
      return await browser.worker.evaluate(
        async ({ url, origin, passcode, submit, display }) => {
          const [target] = (await chrome.tabs.query({})).filter((t) => t.url === url);
          return chrome.tabs.sendMessage(target.id, { type: 'fill.passcode', origin, passcode, submit, ...(display && { display }) });
        },
        { url, origin, passcode, submit, display },
      );
    } catch (err) {
      if (attempt > 50 || !/Receiving end does not exist/.test(err.message)) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/**
 * Waits for the content scripts of every frame of `tab`, which Chromium adds once a frame has
 * loaded: a frame that then stays unfilled refused the passcode.
 */
const settle = (tab) => framesReady(browser, tab);

const value = (tab, selector) => tab.locator(selector).inputValue();
const seen = (tab, key) => tab.evaluate((k) => window.seen[k] ?? null, key);

/** Polls the page until `check()` holds. */
async function until(check, what, timeout = 5_000) {
  const end = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('an autocomplete="one-time-code" field is typed into digit by digit, and nothing else is touched', async () => {
  const tab = await open('plain.html');
  assert.deepEqual(await deliver(tab, { passcode: '204817' }), { filled: true });
  assert.equal(await value(tab, '#code'), '204817');
  // One key down, input event and key up per digit, then one change: the page saw typing.
  assert.deepEqual(await seen(tab, 'code'), { keydown: 6, input: 6, keyup: 6, change: 1 });
  assert.equal(await value(tab, '#otp_state'), '');
  assert.equal(await value(tab, '#username'), 'alice');
  // The same page again: a second passcode replaces the first.
  assert.deepEqual(await deliver(tab, { passcode: '99887766' }), { filled: true });
  assert.equal(await value(tab, '#code'), '99887766');
  await tab.close();
});

test('with submit, the filled form is sent', async () => {
  const tab = await open('plain.html');
  assert.deepEqual(await deliver(tab, { passcode: '531902', submit: true }), { filled: true });
  await tab.waitForURL(/\/pages\/done\.html\?/);
  const sent = new URL(tab.url()).searchParams;
  assert.equal(sent.get('code'), '531902');
  assert.equal(sent.get('otp_state'), '');
  await tab.close();
});

test('a GitHub-like field is found by its name, id and label; the recovery link beside it does not matter', async () => {
  const tab = await open('github.html');
  assert.deepEqual(await deliver(tab, { passcode: '660124', submit: true }), { filled: true });
  await tab.waitForURL(/\/pages\/done\.html\?/);
  const sent = new URL(tab.url()).searchParams;
  assert.equal(sent.get('app_otp'), '660124');
  assert.equal(sent.get('authenticity_token'), 'k8xQ2mZ');
  await tab.close();
});

test('an AWS-like field without form or label is found by its name; submit clicks Submit, not Cancel', async () => {
  const tab = await open('aws.html');
  assert.deepEqual(await deliver(tab, { passcode: '118833', submit: true }), { filled: true });
  assert.equal(await value(tab, '#mfacode'), '118833');
  await until(() => tab.evaluate(() => window.submitted === '118833'), 'the Submit click');
  assert.equal(await tab.evaluate(() => window.cancelled ?? false), false);
  await tab.close();
});

test('a Google-like type=tel field labelled only by aria-label is found; hidden fields stay empty', async () => {
  const tab = await open('google.html');
  assert.deepEqual(await deliver(tab, { passcode: '402913', submit: true }), { filled: true });
  assert.equal(await value(tab, '#idvPin'), '402913');
  assert.equal(await value(tab, '#hiddenPassword'), '');
  assert.equal(await value(tab, 'input[name=identifier]'), 'alice@example.com');
  // No form: the Next button is clicked, not "Try another way".
  await until(() => tab.evaluate(() => window.submitted === '402913'), 'the Next click');
  await tab.close();
});

test('a Microsoft-like field labelled by other elements (aria-labelledby) is found', async () => {
  const tab = await open('microsoft.html');
  assert.deepEqual(await deliver(tab, { passcode: '77330012', submit: true }), { filled: true });
  await tab.waitForURL(/\/pages\/done\.html\?/);
  assert.equal(new URL(tab.url()).searchParams.get('otc'), '77330012');
  await tab.close();
});

test('six digit boxes get one digit each, and the page gathers them', async () => {
  const tab = await open('split.html');
  // Eight digits do not fit six boxes: nothing is typed.
  assert.deepEqual(await deliver(tab, { passcode: '12345678' }), { filled: false });
  assert.equal(await value(tab, '#d1'), '');
  assert.deepEqual(await deliver(tab, { passcode: '908172', submit: true }), { filled: true });
  await tab.waitForURL(/\/pages\/done\.html\?/);
  assert.equal(new URL(tab.url()).searchParams.get('code'), '908172');
  await tab.goBack();
  await tab.close();
});

test('digit boxes see typing: key events, input and change on each box', async () => {
  const tab = await open('split.html');
  assert.deepEqual(await deliver(tab, { passcode: '314159' }), { filled: true });
  const digits = [];
  for (let i = 1; i <= 6; i++) {
    digits.push(await value(tab, `#d${i}`));
    assert.deepEqual(await seen(tab, `d${i}`), { keydown: 1, input: 1, keyup: 1, change: 1 });
  }
  assert.deepEqual(digits, ['3', '1', '4', '1', '5', '9']);
  assert.equal(await value(tab, '#code'), '314159');
  await tab.close();
});

test('a React-controlled field takes the passcode into React state, and React submits it', async () => {
  const tab = await open('react.html');
  await tab.locator('#otp').waitFor();
  assert.deepEqual(await deliver(tab, { passcode: '550091', submit: true }), { filled: true });
  // React resets a controlled field to its state: the value stays only because React saw it.
  assert.equal(await tab.locator('#state').textContent(), '550091');
  assert.equal(await value(tab, '#otp'), '550091');
  await tab.locator('#sent').waitFor();
  assert.equal(await tab.locator('#sent').textContent(), '550091');
  await tab.close();
});

test('React-controlled digit boxes hold the passcode in React state', async () => {
  const tab = await open('react-split.html');
  await tab.locator('#box6').waitFor();
  assert.deepEqual(await deliver(tab, { passcode: '864200' }), { filled: true });
  assert.equal(await tab.locator('#state').textContent(), '864200');
  for (let i = 1; i <= 6; i++) assert.equal(await value(tab, `#box${i}`), '864200'[i - 1]);
  await tab.close();
});

test('a field a single-page app adds after loading is found', async () => {
  const tab = await open('later.html');
  await tab.getByRole('button', { name: 'Continue' }).click();
  await tab.locator('#built').waitFor();
  assert.deepEqual(await deliver(tab, { passcode: '246810' }), { filled: true });
  assert.equal(await value(tab, '#built'), '246810');
  assert.equal(await value(tab, '#email'), 'alice@example.com');
  await tab.close();
});

test('a passcode that arrives before its field waits for it: added to the page, or shown', async () => {
  const tab = await open('later.html');
  assert.deepEqual(await deliver(tab, { passcode: '135791' }), { filled: false });
  await tab.getByRole('button', { name: 'Continue' }).click();
  await until(async () => (await tab.locator('#built').count()) && (await value(tab, '#built')) === '135791', 'the added field');
  assert.equal(await value(tab, '#email'), 'alice@example.com');
  await tab.close();

  const shown = await open('later.html?reveal');
  assert.deepEqual(await deliver(shown, { passcode: '975313', submit: false }), { filled: false });
  assert.equal(await value(shown, '#kept'), '');
  await shown.getByRole('button', { name: 'Continue' }).click();
  await until(async () => (await value(shown, '#kept')) === '975313', 'the shown field');
  await shown.close();
});

test('a field in a frame of the same origin is filled by that frame', async () => {
  const tab = await open('iframe.html');
  await settle(tab);
  assert.deepEqual(await deliver(tab, { passcode: '808080' }), { filled: true });
  assert.equal(await tab.frameLocator('#same').locator('#otp').inputValue(), '808080');
  await tab.close();
});

test('frames of another origin, and frames inside them, are never filled', async () => {
  const tab = await open(`cross.html?other=${encodeURIComponent(pages.other)}`);
  await tab.frameLocator('#nested').frameLocator('#inner').locator('#otp').waitFor();
  await settle(tab);
  assert.deepEqual(await deliver(tab, { passcode: '121212' }), { filled: true });
  assert.equal(await tab.frameLocator('#same').locator('#otp').inputValue(), '121212');
  assert.equal(await tab.frameLocator('#cross').locator('#otp').inputValue(), '');
  // Of the request's origin, but inside a frame of another origin.
  assert.equal(await tab.frameLocator('#nested').frameLocator('#inner').locator('#otp').inputValue(), '');
  // Asked for the other origin, no frame fills: the top frame is not of that origin.
  assert.deepEqual(await deliver(tab, { passcode: '343434', origin: pages.other }), { filled: false });
  assert.equal(await tab.frameLocator('#cross').locator('#otp').inputValue(), '');
  assert.equal(await tab.frameLocator('#same').locator('#otp').inputValue(), '121212');
  await tab.close();
});

/** Records every message the content scripts' world of `frame` receives, from now on. */
async function recorder(frame) {
  const world = await contentScriptOf(browser, frame);
  await world.ready();
  await world.evaluate(`(chrome.runtime.onMessage.addListener((m) => { (globalThis.received ??= []).push(m); }), true)`);
  return { received: () => world.evaluate('globalThis.received ?? []'), detach: () => world.detach() };
}

test('the worker sends a code only to the frames of its origin: no other frame ever receives it', async () => {
  const helper = await openExtensionPage(browser, 'options.html');
  const ask = (message) => helper.evaluate((m) => chrome.runtime.sendMessage(m), message);
  const added = await ask({ type: 'otp.add', tokens: [{ issuer: 'Framed', account: 'ann', type: 'totp', secret: 'JBSWY3DPEHPK3PXP', sites: [pages.url] }] });
  assert.ok(added.ok, JSON.stringify(added));
  const [id] = added.ids;
  try {
    const tab = await open(`cross.html?other=${encodeURIComponent(pages.other)}`);
    await tab.frameLocator('#nested').frameLocator('#inner').locator('#otp').waitFor();
    await tab.frameLocator('#cross').locator('#otp').waitFor();
    const cross = await (await tab.locator('#cross').elementHandle()).contentFrame();
    const nested = await (await tab.locator('#nested').elementHandle()).contentFrame();
    const inner = await (await nested.locator('#inner').elementHandle()).contentFrame();
    // A frame of another origin, and a frame of the code's origin inside it.
    const watching = [await recorder(cross), await recorder(inner)];
    const tabId = await helper.evaluate(async (url) => (await chrome.tabs.query({ url })).at(0)?.id, tab.url());
    const reply = await ask({ type: 'otp.fill', id, tabId });
    assert.equal(reply.ok, true, JSON.stringify(reply));
    // The frame of the origin filled it: the code went out.
    assert.equal(reply.filled, true);
    assert.equal(await tab.frameLocator('#same').locator('#otp').inputValue(), reply.code);
    for (const frame of watching) {
      assert.deepEqual(await frame.received(), []);
      await frame.detach();
    }
    assert.equal(await tab.frameLocator('#cross').locator('#otp').inputValue(), '');
    await tab.close();
  } finally {
    await ask({ type: 'otp.delete', id });
    await helper.close();
  }
});

test('a sandboxed frame, whose document has an opaque origin, is never filled', async () => {
  const tab = await open('sandboxed.html');
  for (const id of ['#sandboxed', '#same']) await tab.frameLocator(id).locator('#otp').waitFor();
  await settle(tab);
  assert.deepEqual(await deliver(tab, { passcode: '565656' }), { filled: true });
  assert.equal(await tab.frameLocator('#same').locator('#otp').inputValue(), '565656');
  assert.equal(await tab.frameLocator('#sandboxed').locator('#otp').inputValue(), '');
  assert.equal(await tab.frameLocator('#sandboxed').locator('body').evaluate(() => window.seen?.otp ?? null), null);
  // Nor with a privacyIDEA display code.
  assert.deepEqual(await deliver(tab, { passcode: '56', display: true }), { filled: true });
  assert.equal(await tab.frameLocator('#sandboxed').locator('#otp').inputValue(), '');
  await tab.close();
});

test('a recovery code field alone is never filled', async () => {
  const tab = await open('recovery.html');
  assert.deepEqual(await deliver(tab, { passcode: '404040', submit: true }), { filled: false });
  assert.equal(await value(tab, '#recovery_code'), '');
  assert.equal(await seen(tab, 'recovery_code'), null);
  assert.match(tab.url(), /recovery\.html$/);
  await tab.close();
});

test('beside backup code fields, only the authenticator code field is filled', async () => {
  const tab = await open('backup.html');
  assert.deepEqual(await deliver(tab, { passcode: '50505050' }), { filled: true });
  assert.equal(await value(tab, '#totp'), '50505050');
  assert.equal(await value(tab, '#backupCode'), '');
  assert.equal(await value(tab, '#spare'), '');
  await tab.close();
});

test('fields a person cannot type into are never filled', async () => {
  const decoys = ['#typeHidden', '#ancestorNone', '#ancestorHidden', '#invisible', '#closedDetails', '#offPage', '#noSize', '#disabled', '#disabledSet', '#readOnly'];
  const tab = await open('hidden.html');
  assert.deepEqual(await deliver(tab, { passcode: '616161' }), { filled: true });
  assert.equal(await value(tab, '#real'), '616161');
  for (const decoy of decoys) assert.equal(await value(tab, decoy), '', decoy);
  await tab.close();

  const none = await open('hidden.html?none');
  assert.deepEqual(await deliver(none, { passcode: '626262' }), { filled: false });
  for (const decoy of decoys) assert.equal(await value(none, decoy), '', decoy);
  await none.close();
});

test('a page of another origin than the request, or a malformed passcode, is never filled', async () => {
  const tab = await open('plain.html', pages.other);
  assert.deepEqual(await deliver(tab, { passcode: '717171', origin: pages.url, submit: true }), { filled: false });
  assert.equal(await value(tab, '#code'), '');
  assert.equal(await seen(tab, 'code'), null);
  for (const passcode of ['71717', '71717a', '12345678901', ' 717171', '42']) {
    assert.deepEqual(await deliver(tab, { passcode }), { filled: false }, passcode);
  }
  // A privacyIDEA display code (two digits) only as one, and still only into its own origin.
  assert.deepEqual(await deliver(tab, { passcode: '4', display: true }), { filled: false });
  assert.deepEqual(await deliver(tab, { passcode: '42', display: true, origin: pages.url }), { filled: false });
  assert.equal(await value(tab, '#code'), '');
  assert.match(tab.url(), /plain\.html$/);
  await tab.close();
});

test('a privacyIDEA display code marked as one is filled', async () => {
  const tab = await open('plain.html');
  assert.deepEqual(await deliver(tab, { passcode: '42', display: true }), { filled: true });
  assert.equal(await value(tab, '#code'), '42');
  await tab.close();
});

test('an everyday code: a tab that navigates while the person confirms its site gets neither the code nor the trust', async () => {
  const helper = await openExtensionPage(browser, 'options.html');
  const ask = (message) => helper.evaluate((m) => chrome.runtime.sendMessage(m), message);
  const added = await ask({ type: 'otp.add', tokens: [{ issuer: 'Racy', account: 'ann', type: 'totp', secret: 'JBSWY3DPEHPK3PXP' }] });
  assert.ok(added.ok, JSON.stringify(added));
  const [id] = added.ids;
  try {
    const tab = await open('plain.html', pages.other);
    await tab.bringToFront();
    const popup = await openExtensionPage(browser, 'popup.html');
    await popup.setViewportSize({ width: 380, height: 600 });
    await popup.getByRole('button', { name: 'Fill the code of Racy ann' }).click();
    const host = new URL(pages.other).host;
    const question = popup.getByRole('dialog', { name: `Fill codes of Racy into ${host}? Only confirm if this is Racy's real site.` });
    await question.waitFor();
    // Meanwhile the tab goes to another origin; the person confirms the one they were shown.
    await tab.goto(`${pages.url}/pages/plain.html`);
    await tab.locator('#code').waitFor();
    await question.getByRole('button', { name: 'Fill' }).click();
    const status = popup.locator('#codes-status');
    // The worker's refusal, given before any code would be sent, to a tab whose content script
    // is there to take one.
    await status.filter({ hasText: 'Nothing was filled' }).waitFor();
    await (await contentScriptOf(browser, tab.mainFrame())).ready();
    assert.equal(await value(tab, '#code'), '');
    const sites = (await helper.evaluate(() => chrome.storage.local.get('otpTokens'))).otpTokens[id].sites;
    assert.deepEqual(sites, []);
    assert.equal(await status.textContent(), `Nothing was filled: the tab is no longer on ${host}.`);
    await popup.close();

    // The worker itself holds to the site the person was shown, however late the tab moves:
    // a confirmation for another origin than the tab's, or one that names none, changes nothing.
    const tabId = await helper.evaluate(async (url) => (await chrome.tabs.query({ url })).at(0)?.id, tab.url());
    const moved = await ask({ type: 'otp.fill', id, tabId, origin: new URL(pages.other).origin, confirmSite: true });
    assert.equal(moved.error?.code, 'tab_changed', JSON.stringify(moved));
    const unnamed = await ask({ type: 'otp.fill', id, tabId, confirmSite: true });
    assert.equal(unnamed.error?.code, 'invalid_parameter', JSON.stringify(unnamed));
    assert.equal(await value(tab, '#code'), '');
    assert.deepEqual((await helper.evaluate(() => chrome.storage.local.get('otpTokens'))).otpTokens[id].sites, []);
    await tab.close();
  } finally {
    await ask({ type: 'otp.delete', id });
    await helper.close();
  }
});

test('no console errors', () => {
  assert.deepEqual(browser.errors, []);
});
