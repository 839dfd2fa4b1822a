// The fill button in a detected code field: shown only where the person keeps a token confirmed
// for the page's origin, filling that token's code on a real click, and out of the page's reach.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, test } from 'node:test';
import { launchWithExtension, openExtensionPage } from '../support/browser.mjs';
import { allowListed, contentScriptOf, pushotpWorlds } from '../support/extension.mjs';
import { servePages } from '../support/pages.mjs';

// RFC 6238's SHA-1 seed, "12345678901234567890", in base32.
const SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

/** RFC 6238 TOTP (SHA-1, 6 digits, 30 s) computed here, independently of the extension. */
function totp(atMs) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(atMs / 1000 / 30)));
  const mac = createHmac('sha1', Buffer.from('12345678901234567890')).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

let browser;
let pages;
let helper;
before(async () => {
  [browser, pages] = await Promise.all([launchWithExtension(), servePages()]);
  helper = await openExtensionPage(browser, 'popup.html');
  const reply = await helper.evaluate(
    (token) => chrome.runtime.sendMessage({ type: 'otp.add', tokens: [token] }),
    { issuer: 'Example', account: 'alice', type: 'totp', algorithm: 'SHA1', digits: 6, period: 30, secret: SECRET, sites: [pages.url] },
  );
  assert.equal(reply.ok, true, JSON.stringify(reply));
  await allowListed(browser, [pages.url]);
});
after(async () => {
  await browser?.close();
  await pages?.stop();
});

/** The button's host element, drawn over the end of the field. */
const host = (page) => page.locator('pushotp-fill');

test('on a confirmed site a real click on the button fills the code', async () => {
  const page = await browser.context.newPage();
  await page.goto(`${pages.url}/pages/plain.html`);
  await host(page).waitFor();
  // The button sits inside the field's box.
  const [field, button] = await Promise.all([page.locator('#code').boundingBox(), host(page).boundingBox()]);
  assert.ok(button.x >= field.x && button.x + button.width <= field.x + field.width + 1, JSON.stringify({ field, button }));
  // Page script cannot press it: its root is closed and untrusted clicks are ignored.
  assert.equal(await page.evaluate(() => document.querySelector('pushotp-fill').shadowRoot), null);
  await page.evaluate(() => document.querySelector('pushotp-fill').click());
  // A person's click (trusted) fills the current code.
  await page.mouse.click(button.x + button.width / 2, button.y + button.height / 2);
  await page.waitForFunction(() => document.getElementById('code').value.length === 6 && window.seen?.code?.change >= 1);
  const before = Date.now() - 1000;
  const value = await page.locator('#code').inputValue();
  assert.ok([totp(before), totp(Date.now())].includes(value), value);
  // Filled once, by the person's click: the page's click, asked first, typed nothing.
  assert.deepEqual(await page.evaluate(() => window.seen.code), { keydown: 6, input: 6, keyup: 6, change: 1 });
  await page.close();
});

test('no button on a site the token is not confirmed for, nor on pages without a code field', async () => {
  const other = await browser.context.newPage();
  await other.goto(`${pages.other}/pages/plain.html`);
  await other.locator('#code').waitFor();
  // No token uses this site: PushOTP runs nothing there at all.
  assert.equal(await pushotpWorlds(browser, other), 0);
  assert.equal(await host(other).count(), 0);
  const recovery = await browser.context.newPage();
  await recovery.goto(`${pages.url}/pages/recovery.html`);
  await (await contentScriptOf(browser, recovery.mainFrame())).scanned();
  assert.equal(await host(recovery).count(), 0);
  // A content script cannot ask for another site's tokens: the worker uses the browser's origin.
  await other.close();
  await recovery.close();
});

test('a code field that appears later gets the button', async () => {
  const page = await browser.context.newPage();
  await page.goto(`${pages.url}/pages/later.html`);
  await (await contentScriptOf(browser, page.mainFrame())).scanned();
  assert.equal(await host(page).count(), 0);
  await page.getByRole('button', { name: 'Continue' }).click();
  await host(page).waitFor({ timeout: 10_000 });
  await page.close();
});

test('on a page with more inputs than are looked at unasked, a late code field gets the button when the person goes to it', async () => {
  const page = await browser.context.newPage();
  await page.goto(`${pages.url}/pages/feed.html`);
  const world = await contentScriptOf(browser, page.mainFrame());
  await world.scanned();
  await page.getByRole('button', { name: 'Delete my account' }).click();
  await page.locator('#code').waitFor();
  // Three of the button's looks for new inputs later, none looked at the 81st input.
  await page.waitForTimeout(1_600);
  assert.equal(await world.scans(), 1, 'no look after the budget was spent');
  assert.equal(await host(page).count(), 0);
  // A person's click into the field is a look at it, and the button fills it.
  await page.locator('#code').click();
  await host(page).waitFor();
  const button = await host(page).boundingBox();
  await page.mouse.click(button.x + button.width / 2, button.y + button.height / 2);
  await page.waitForFunction(() => document.getElementById('code').value.length === 6);
  const value = await page.locator('#code').inputValue();
  assert.ok([totp(Date.now() - 1000), totp(Date.now())].includes(value), value);
  await world.detach();
  await page.close();
});

test('a code field that was hidden at the first look gets the button when focused', async () => {
  const page = await browser.context.newPage();
  await page.goto(`${pages.url}/pages/later.html?reveal`);
  const world = await contentScriptOf(browser, page.mainFrame());
  await world.scanned();
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.locator('#kept').click();
  await host(page).waitFor();
  await world.detach();
  await page.close();
});

test('a confirmed site framed by another site gets no button, and a fill asked from there moves no HOTP counter', async () => {
  const ask = (message) => helper.evaluate((m) => chrome.runtime.sendMessage(m), message);
  const added = await ask({ type: 'otp.add', tokens: [{ issuer: 'Counter', account: 'bob', type: 'hotp', counter: 0, secret: SECRET, sites: [pages.url] }] });
  assert.ok(added.ok, JSON.stringify(added));
  const [id] = added.ids;
  const counter = async () => (await helper.evaluate(() => chrome.storage.local.get('otpTokens'))).otpTokens[id].counter;
  try {
    // The site in a frame of its own origin shows its button: framing as such is fine.
    const own = await browser.context.newPage();
    await own.goto(`${pages.url}/pages/iframe.html`);
    await own.frameLocator('#same').locator('pushotp-fill').waitFor();
    await own.close();
    // Another site frames it, as a clickjacking page would.
    const hostile = await browser.context.newPage();
    await hostile.goto(`${pages.other}/pages/cross.html?other=${encodeURIComponent(pages.url)}`);
    await hostile.frameLocator('#cross').locator('#otp').waitFor();
    const framed = await (await hostile.locator('#cross').elementHandle()).contentFrame();
    // The content scripts ran in the framed site, see its code field, and finished their look…
    const world = await contentScriptOf(browser, framed);
    assert.equal(await world.evaluate('globalThis.pushotpDetect.candidates(document).length'), 1);
    await world.scanned();
    // …which shows no button there.
    assert.equal(await hostile.frameLocator('#cross').locator('pushotp-fill').count(), 0);
    // A content script that asks anyway (a compromised one) is refused before a code is made.
    const reply = await world.send({ type: 'page.fill', id });
    assert.equal(reply.ok, false, JSON.stringify(reply));
    assert.equal(reply.error.code, 'framed');
    assert.equal(await counter(), 0, 'the HOTP counter did not move');
    assert.equal(await hostile.frameLocator('#cross').locator('#otp').inputValue(), '');
    await world.detach();
    await hostile.close();
  } finally {
    await ask({ type: 'otp.delete', id });
  }
});

test('no console errors', () => {
  assert.deepEqual(browser.errors, []);
});
