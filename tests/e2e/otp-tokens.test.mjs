// Everyday (TOTP/HOTP) codes in real Chromium: every token of a Google Authenticator export is
// added from a pasted link and from its QR code in another tab; links with every option are
// stored as they say, and their codes are the RFC algorithms' (computed here with Node's HMAC);
// the options page renames, reorders and deletes; the popup shows codes, the next HOTP code
// (never the same twice, even after a reload), copies, searches and fills a login page once the
// person confirmed the site; and warns when a push request comes from another site than the tab.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ROOT, clickToolbarButton, launchWithExtension, openExtensionPage } from '../support/browser.mjs';
import { servePages } from '../support/pages.mjs';
import { enroll, waitForSession } from '../support/extension.mjs';
import { signIn, startServer } from '../support/server.mjs';

const vectors = async (name) => JSON.parse(await readFile(path.join(ROOT, 'crate/tests/vectors', name), 'utf8'));
const migration = (await vectors('migration.json')).good[1];
const exportQr = (await vectors('qr_codes.json')).codes.find((c) => c.text === migration.link);

let browser;
let pages;
let options;
let helper; // an extension page for messages and storage reads

before(async () => {
  [browser, pages] = await Promise.all([launchWithExtension(), servePages()]);
  helper = await openExtensionPage(browser, 'popup.html');
  options = await openExtensionPage(browser, 'options.html');
  await options.locator('body[data-ready="true"]').waitFor();
  await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: pages.url });
});

after(async () => {
  await browser?.close();
  await pages?.stop();
});

// ---------------------------------------------------------------------------------------------
// RFC 4226 / 6238, independently of the core

function base32(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of text.replace(/[\s=]/g, '').toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

function hotpRef(secret, counter, algorithm = 'SHA1', digits = 6) {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(algorithm.toLowerCase().replace('sha', 'sha'), base32(secret)).update(message).digest();
  const offset = mac[mac.length - 1] & 0xf;
  const value = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(value % 10 ** digits).padStart(digits, '0');
}

const totpRef = (secret, atMs, period = 30, algorithm = 'SHA1', digits = 6) =>
  hotpRef(secret, Math.floor(atMs / 1000 / period), algorithm, digits);

// ---------------------------------------------------------------------------------------------
// Helpers

const stored = () => helper.evaluate(() => chrome.storage.local.get(['otpTokens', 'secrets']));
const ask = (message) => helper.evaluate((m) => chrome.runtime.sendMessage(m), message);
const byName = async () => Object.fromEntries(Object.values((await stored()).otpTokens ?? {}).map((t) => [`${t.issuer}|${t.account}`, t]));

async function deleteAll() {
  for (const id of Object.keys((await stored()).otpTokens ?? {})) assert.equal((await ask({ type: 'otp.delete', id })).ok, true);
}

const otpStatus = () => options.locator('#otp-status');

/** Waits until a status element has a final (not "…") message and returns it. */
async function settled(locator) {
  await options.waitForFunction((el) => el.textContent !== '' && !el.textContent.endsWith('…'), await locator.elementHandle());
  return locator.textContent();
}

async function pasteOtp(link) {
  await otpStatus().evaluate((el) => {
    el.textContent = '';
  });
  await options.getByLabel('Link', { exact: true }).fill(link);
  await options.getByRole('button', { name: 'Add from link' }).click();
}

/** Checks that the five tokens of the export are stored as the export says, with their secrets. */
async function expectExport() {
  const { otpTokens, secrets } = await stored();
  const tokens = Object.values(otpTokens);
  assert.equal(tokens.length, migration.tokens.length);
  const sorted = tokens.sort((a, b) => a.order - b.order);
  migration.tokens.forEach((want, index) => {
    const got = sorted[index];
    assert.equal(got.issuer, want.issuer);
    assert.equal(got.account, want.account);
    assert.equal(got.type, want.type);
    assert.equal(got.algorithm, want.algorithm);
    assert.equal(got.digits, want.digits);
    if (want.type === 'totp') assert.equal(got.period, want.period);
    else assert.equal(got.counter, want.counter);
    assert.match(got.id, /^[A-Za-z0-9_-]{22}$/);
    assert.deepEqual(got.sites, []);
    assert.equal(got.secret, undefined, 'no secret beside the token');
    assert.equal(secrets.otp[got.id], want.secret_base32);
  });
  // The codes the worker computes are the RFC's.
  const first = migration.tokens[0];
  const { codes } = await ask({ type: 'otp.codes', at: first.code_time * 1000 });
  assert.equal(codes[sorted[0].id].code, first.code);
  return sorted;
}

// ---------------------------------------------------------------------------------------------

test('every token of an export QR code in another tab is shown, then added', async () => {
  const tab = await browser.context.newPage();
  await tab.goto(`${pages.url}/pages/qr.html`);
  await tab.evaluate((rows) => {
    const scale = 5;
    const size = (rows.length + 8) * scale;
    const canvas = document.getElementById('qr');
    canvas.width = size;
    canvas.height = size;
    const context = canvas.getContext('2d');
    context.fillStyle = '#fff';
    context.fillRect(0, 0, size, size);
    context.fillStyle = '#000';
    rows.forEach((row, y) => [...row].forEach((c, x) => c === '#' && context.fillRect((x + 4) * scale, (y + 4) * scale, scale, scale)));
  }, exportQr.modules);
  await clickToolbarButton(browser, tab);
  await options.bringToFront();
  await options.getByRole('button', { name: 'Scan QR code from another tab' }).click();
  const preview = options.getByRole('list', { name: /These 5 codes will be added/ });
  await preview.waitFor();
  for (const t of migration.tokens) assert.ok((await preview.textContent()).includes(t.account), t.account);
  await options.getByRole('button', { name: 'Add all 5' }).click();
  assert.equal(await settled(otpStatus()), 'Added 5 codes.');
  await expectExport();
  await tab.close();
  await deleteAll();
});

test('a pasted export link adds every token; the same tokens again are skipped and reported', async () => {
  await pasteOtp(migration.link);
  await options.getByRole('button', { name: 'Add all 5' }).click();
  assert.equal(await settled(otpStatus()), 'Added 5 codes.');
  await expectExport();
  await pasteOtp(migration.link);
  await options.getByRole('button', { name: 'Add all 5' }).click();
  assert.match(await settled(otpStatus()), /^Already here, not added again: GitHub · octocat, ACME Co · alice@example\.com, /);
  assert.equal(Object.keys((await stored()).otpTokens).length, 5);
  // A link that cannot be used says why, from the core's error code.
  await pasteOtp('otpauth://totp/X:y?secret=not*base32');
  assert.match(await settled(otpStatus()), /secret key is not valid/);
  await deleteAll();
});

test('the worker itself refuses a token or new names the core refuses, with its code, and keeps nothing', async () => {
  const good = { type: 'totp', issuer: 'Worker', account: 'wendy', secret: 'JBSWY3DPEHPK3PXP' };
  for (const [token, code] of [
    [null, 'invalid_parameter'],
    [{ ...good, type: 'ocra' }, 'unknown_token_type'],
    [{ ...good, algorithm: 'MD5' }, 'unknown_algorithm'],
    [{ ...good, digits: 11 }, 'invalid_digits'],
    [{ ...good, secret: ' = ' }, 'empty_secret'],
    [{ ...good, issuer: 'a\u0000b' }, 'invalid_parameter'],
    [{ ...good, period: 0 }, 'invalid_period'],
    [{ ...good, type: 'hotp', counter: -1 }, 'invalid_parameter'],
    [{ ...good, sites: ['https://acme.test/login'] }, 'invalid_parameter'],
    [{ ...good, issuer: ' ', account: '' }, 'invalid_parameter'],
    [{ ...good, secret: 'JBSW1' }, 'invalid_base32'],
  ]) {
    // The good token first: a batch is checked whole before anything is kept.
    const reply = await ask({ type: 'otp.add', tokens: [good, token] });
    assert.equal(reply.error?.code, code, JSON.stringify(token));
  }
  assert.deepEqual((await stored()).otpTokens ?? {}, {});

  // Kept as the core normalised it, so the same key typed another way is the same token.
  const added = await ask({ type: 'otp.add', tokens: [{ ...good, issuer: ' Worker ', secret: 'jbsw y3dp-ehpk 3pxp==' }] });
  const [id] = added.ids;
  assert.equal((await stored()).secrets.otp[id], 'JBSWY3DPEHPK3PXP');
  assert.deepEqual((await ask({ type: 'otp.add', tokens: [good] })).skipped, [{ issuer: 'Worker', account: 'wendy' }]);

  // New names are checked as a new token's, then trimmed.
  for (const [issuer, account] of [[' ', ''], ['ACME', 'x'.repeat(257)], ['tab\there', 'wendy']]) {
    const reply = await ask({ type: 'otp.rename', id, issuer, account });
    assert.equal(reply.error?.code, 'invalid_parameter', JSON.stringify([issuer, account]));
  }
  assert.equal((await ask({ type: 'otp.rename', id, issuer: ' Renamed ', account: null })).ok, true);
  const renamed = (await stored()).otpTokens[id];
  assert.deepEqual([renamed.issuer, renamed.account], ['Renamed', '']);
  await deleteAll();
});

const SHA256_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA';
const SHA512_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNA';
const HOTP_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

test('links with every option are stored as they say, and their codes are the RFC values', async () => {
  await pasteOtp(`otpauth://totp/ACME:alice@acme.test?secret=${SHA256_SECRET}&issuer=ACME&algorithm=SHA256&digits=8&period=60`);
  assert.equal(await settled(otpStatus()), 'Added 1 code.');
  await pasteOtp(`otpauth://totp/Big%20Bank:bob?secret=${SHA512_SECRET}&algorithm=SHA512&digits=8`);
  assert.equal(await settled(otpStatus()), 'Added 1 code.');
  await pasteOtp(`otpauth://hotp/Counter%20Co:carol?secret=${HOTP_SECRET}&counter=5`);
  assert.equal(await settled(otpStatus()), 'Added 1 code.');
  // Typed in: the core's error codes become messages on the field.
  await options.getByText('Type in a secret').click();
  const manual = options.locator('#otp-manual-form');
  await manual.getByLabel('Issuer', { exact: true }).fill('Typed');
  await manual.getByLabel('Account', { exact: true }).fill('dave');
  await manual.getByLabel('Secret key (base32)').fill('AB1!');
  await manual.getByRole('button', { name: 'Add code' }).click();
  assert.match(await settled(otpStatus()), /secret key is not valid/);
  assert.equal(await manual.getByLabel('Secret key (base32)').getAttribute('aria-invalid'), 'true');
  await manual.getByLabel('Secret key (base32)').fill('jbsw y3dp ehpk 3pxp');
  await manual.getByLabel('Digits').fill('11');
  await manual.getByRole('button', { name: 'Add code' }).click();
  assert.match(await settled(otpStatus()), /6 to 10 digits/);
  await manual.getByLabel('Digits').fill('7');
  await manual.getByRole('button', { name: 'Add code' }).click();
  assert.equal(await settled(otpStatus()), 'Added 1 code.');

  const tokens = await byName();
  const acme = tokens['ACME|alice@acme.test'];
  assert.deepEqual(
    { type: acme.type, algorithm: acme.algorithm, digits: acme.digits, period: acme.period },
    { type: 'totp', algorithm: 'SHA256', digits: 8, period: 60 },
  );
  const bank = tokens['Big Bank|bob'];
  assert.deepEqual({ algorithm: bank.algorithm, digits: bank.digits, period: bank.period }, { algorithm: 'SHA512', digits: 8, period: 30 });
  const counter = tokens['Counter Co|carol'];
  assert.deepEqual({ type: counter.type, counter: counter.counter, digits: counter.digits }, { type: 'hotp', counter: 5, digits: 6 });
  assert.equal(counter.period, undefined);
  assert.equal(tokens['Typed|dave'].digits, 7);

  // RFC 6238 Appendix B times.
  for (const seconds of [59, 1111111109, 2000000000]) {
    const { codes } = await ask({ type: 'otp.codes', at: seconds * 1000 });
    assert.equal(codes[acme.id].code, totpRef(SHA256_SECRET, seconds * 1000, 60, 'SHA256', 8));
    assert.equal(codes[bank.id].code, totpRef(SHA512_SECRET, seconds * 1000, 30, 'SHA512', 8));
    assert.equal(codes[tokens['Typed|dave'].id].code, totpRef('JBSWY3DPEHPK3PXP', seconds * 1000, 30, 'SHA1', 7));
    assert.equal(codes[acme.id].secondsLeft, 60 - (seconds % 60));
    assert.equal(codes[counter.id], undefined);
  }
  // The RFC 6238 SHA-256 vector itself.
  assert.equal(totpRef(SHA256_SECRET, 59_000, 30, 'SHA256', 8), '46119246');
});

test('the options page renames, reorders with buttons and deletes after confirmation', async () => {
  const list = options.getByRole('list', { name: 'Everyday codes' });
  const names = () => list.locator('li .otp-name').allTextContents();
  assert.deepEqual(await names(), ['ACME alice@acme.test', 'Big Bank bob', 'Counter Co carol', 'Typed dave']);

  await options.getByRole('button', { name: 'Rename Typed · dave' }).click();
  const item = list.getByRole('listitem').filter({ has: options.locator('.otp-rename:not([hidden])') });
  await item.getByLabel('Issuer').fill('Typed Inc');
  await item.getByLabel('Account').fill('dave@typed.test');
  await item.getByLabel('Account').press('Enter');
  await options.getByRole('button', { name: 'Rename Typed Inc · dave@typed.test' }).waitFor();
  assert.ok((await byName())['Typed Inc|dave@typed.test']);

  // Keyboard: the focused Move up button moves the code and keeps the focus.
  const up = options.getByRole('button', { name: 'Move Typed Inc · dave@typed.test up' });
  await up.focus();
  await options.keyboard.press('Enter');
  await options.waitForFunction(() => document.querySelectorAll('#otp-tokens li')[2]?.textContent.includes('Typed Inc'), undefined, { polling: 100 });
  assert.equal(await up.evaluate((el) => el === document.activeElement), true);
  await options.keyboard.press('Enter');
  await options.keyboard.press('Enter');
  await options.waitForFunction(() => document.querySelectorAll('#otp-tokens li')[0]?.textContent.includes('Typed Inc'), undefined, { polling: 100 });
  assert.deepEqual(await names(), ['Typed Inc dave@typed.test', 'ACME alice@acme.test', 'Big Bank bob', 'Counter Co carol']);
  assert.deepEqual(
    Object.values((await stored()).otpTokens).sort((a, b) => a.order - b.order).map((t) => t.issuer),
    ['Typed Inc', 'ACME', 'Big Bank', 'Counter Co'],
  );
  await options.getByRole('button', { name: 'Move Typed Inc · dave@typed.test down' }).click();
  await options.waitForFunction(() => document.querySelectorAll('#otp-tokens li')[1]?.textContent.includes('Typed Inc'), undefined, { polling: 100 });

  // Delete: Cancel keeps it, Delete removes it and its secret.
  const id = (await byName())['Typed Inc|dave@typed.test'].id;
  await options.getByRole('button', { name: 'Delete Typed Inc · dave@typed.test' }).click();
  const dialog = options.getByRole('dialog', { name: 'Delete Typed Inc · dave@typed.test?' });
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  assert.ok((await stored()).otpTokens[id]);
  await options.getByRole('button', { name: 'Delete Typed Inc · dave@typed.test' }).click();
  await dialog.getByRole('button', { name: 'Delete' }).click();
  await options.waitForFunction(() => !document.querySelector('#otp-tokens').textContent.includes('Typed Inc'), undefined, { polling: 100 });
  const after = await stored();
  assert.equal(after.otpTokens[id], undefined);
  assert.equal(after.secrets.otp[id], undefined);
  assert.equal(Object.keys(after.otpTokens).length, 3);
});

/** The popup, as a tab the size of the toolbar popup. */
/**
 * The popup. With `on`, the person opens it with a click on the toolbar button on that tab,
 * which lets PushOTP see and fill that tab (`activeTab`).
 */
async function openPopup(on = null) {
  if (on) await clickToolbarButton(browser, on);
  const popup = await openExtensionPage(browser, 'popup.html');
  await popup.setViewportSize({ width: 380, height: 600 });
  return popup;
}

const codeItem = (popup, text) => popup.locator('#code-list li').filter({ hasText: text });

test('the popup shows the codes, grouped, with the time left; the next HOTP code never repeats', async () => {
  const tokens = await byName();
  const popup = await openPopup();
  const acme = codeItem(popup, 'ACME');
  await popup.waitForFunction(() => /\d{4} \d{4}/.test(document.querySelector('#code-list li .code-value')?.textContent ?? ''), undefined, { polling: 100 });
  const shown = (await acme.locator('.code-value').textContent()).replace(' ', '');
  const now = Date.now();
  assert.ok(
    [now - 2000, now].some((at) => totpRef(SHA256_SECRET, at, 60, 'SHA256', 8) === shown),
    `ACME shows ${shown}`,
  );
  assert.match(await acme.locator('.code-value').textContent(), /^\d{4} \d{4}$/);
  assert.match(await acme.getByRole('img').getAttribute('aria-label'), /^\d{1,2} seconds? left$/);
  assert.equal(await popup.locator('#code-search').isVisible(), false, 'no search for 3 codes');

  // HOTP: no code until asked; each one is the next counter's, saved before it shows.
  const carol = codeItem(popup, 'Counter Co');
  assert.equal(await carol.locator('.code-value').textContent(), '');
  assert.equal(await carol.getByRole('button', { name: /Copy/ }).isDisabled(), true);
  await carol.getByRole('button', { name: 'Show next code of Counter Co carol' }).click();
  await popup.waitForFunction(() => /\d{3} \d{3}/.test([...document.querySelectorAll('#code-list li')].find((li) => li.textContent.includes('Counter Co')).querySelector('.code-value').textContent), undefined, { polling: 100 });
  assert.equal((await carol.locator('.code-value').textContent()).replace(' ', ''), hotpRef(HOTP_SECRET, 5));
  assert.equal((await stored()).otpTokens[tokens['Counter Co|carol'].id].counter, 6);

  // Copy.
  await carol.getByRole('button', { name: /Copy/ }).click();
  await popup.getByText('Copied the code of Counter Co carol.').waitFor();
  // Read back from a web page allowed to read the clipboard.
  const reader = await browser.context.newPage();
  await reader.goto(`${pages.url}/pages/qr.html`);
  assert.equal(await reader.evaluate(() => navigator.clipboard.readText()), hotpRef(HOTP_SECRET, 5));
  await reader.close();

  await popup.reload();
  const again = codeItem(popup, 'Counter Co');
  await again.getByRole('button', { name: 'Show next code of Counter Co carol' }).click();
  await popup.waitForFunction(() => /\d{3} \d{3}/.test([...document.querySelectorAll('#code-list li')].find((li) => li.textContent.includes('Counter Co')).querySelector('.code-value').textContent), undefined, { polling: 100 });
  assert.equal((await again.locator('.code-value').textContent()).replace(' ', ''), hotpRef(HOTP_SECRET, 6));
  assert.notEqual(hotpRef(HOTP_SECRET, 6), hotpRef(HOTP_SECRET, 5));
  await popup.close();
});

test('with more than five codes a search field filters them by issuer and account', async () => {
  await ask({ type: 'otp.add', tokens: migration.tokens.map((t) => ({ ...t, secret: t.secret_base32 })) });
  const popup = await openPopup();
  const search = popup.getByRole('searchbox', { name: 'Search codes' });
  await search.waitFor();
  const visibleNames = () => popup.locator('#code-list li:not([hidden]) .code-issuer').allTextContents();
  assert.equal((await visibleNames()).length, 8);
  await search.fill('bank');
  await popup.waitForFunction(() => document.querySelectorAll('#code-list li:not([hidden])').length === 2, undefined, { polling: 100 });
  assert.deepEqual((await visibleNames()).sort(), ['Bank', 'Big Bank']);
  await search.fill('octocat');
  await popup.waitForFunction(() => document.querySelectorAll('#code-list li:not([hidden])').length === 1, undefined, { polling: 100 });
  assert.deepEqual(await visibleNames(), ['GitHub']);
  await search.fill('nothing like this');
  await popup.getByText('No code matches your search.').waitFor();
  await popup.close();
  const ids = Object.values((await stored()).otpTokens).filter((t) => migration.tokens.some((m) => m.account === t.account)).map((t) => t.id);
  for (const id of ids) await ask({ type: 'otp.delete', id });
});

test('Fill fills the code into the login page after the person confirms its site, and never elsewhere unconfirmed', async () => {
  const acmeId = (await byName())['ACME|alice@acme.test'].id;
  const login = await browser.context.newPage();
  await login.goto(`${pages.url}/pages/plain.html`);
  let popup = await openPopup(login);
  const acme = codeItem(popup, 'ACME');
  await acme.getByRole('button', { name: 'Fill the code of ACME alice@acme.test' }).click();
  const host = new URL(pages.url).host;
  const dialog = popup.getByRole('dialog', { name: `Fill codes of ACME into ${host}? Only confirm if this is ACME's real site.` });
  await dialog.getByRole('button', { name: 'Fill' }).click();
  await popup.getByText(`Filled the code of ACME alice@acme.test into ${host}.`).waitFor();
  const filled = await login.locator('#code').inputValue();
  const now = Date.now();
  assert.ok([now - 3000, now].some((at) => totpRef(SHA256_SECRET, at, 60, 'SHA256', 8) === filled), filled);
  assert.deepEqual((await stored()).otpTokens[acmeId].sites, [pages.url]);
  await popup.close();

  // Confirmed now: no question the second time.
  await login.locator('#code').fill('');
  popup = await openPopup(login);
  await codeItem(popup, 'ACME').getByRole('button', { name: /Fill/ }).click();
  await popup.getByText(`Filled the code of ACME alice@acme.test into ${host}.`).waitFor();
  assert.match(await login.locator('#code').inputValue(), /^\d{8}$/);
  await popup.close();
  await login.close();

  // Another origin: the question again; Cancel fills nothing, and the worker refuses without it.
  const other = await browser.context.newPage();
  await other.goto(`${pages.other}/pages/plain.html`);
  popup = await openPopup(other);
  await codeItem(popup, 'ACME').getByRole('button', { name: /Fill/ }).click();
  const otherHost = new URL(pages.other).host;
  const question = popup.getByRole('dialog', { name: `Fill codes of ACME into ${otherHost}? Only confirm if this is ACME's real site.` });
  await question.getByRole('button', { name: 'Cancel' }).click();
  await popup.getByText(`Nothing was filled into ${otherHost}.`).waitFor();
  const tabId = await helper.evaluate(async (url) => (await chrome.tabs.query({})).find((t) => t.url === url).id, other.url());
  const refused = await ask({ type: 'otp.fill', id: acmeId, tabId });
  assert.equal(refused.ok, false);
  assert.equal(refused.error.code, 'unconfirmed_site');
  assert.equal(await other.locator('#code').inputValue(), '');
  assert.deepEqual((await stored()).otpTokens[acmeId].sites, [pages.url]);
  await popup.close();
  await other.close();
});

test('with no web page to fill into, Fill is off and the popup says why', async () => {
  for (const page of browser.context.pages()) if (/^https?:/.test(page.url())) await page.close();
  let popup = await openPopup();
  const why = 'Fill works only on web pages (http or https), and no web page is open.';
  const fill = codeItem(popup, 'ACME').getByRole('button', { name: 'Fill the code of ACME alice@acme.test' });
  await fill.waitFor();
  assert.equal(await fill.isDisabled(), true);
  assert.equal(await fill.getAttribute('title'), why);
  const hint = popup.getByText(why);
  await hint.waitFor();
  assert.equal(await fill.getAttribute('aria-describedby'), await hint.getAttribute('id'));
  await popup.close();

  // With a web page to fill into, Fill is on and nothing needs explaining.
  const login = await browser.context.newPage();
  await login.goto(`${pages.url}/pages/plain.html`);
  popup = await openPopup(login);
  const enabled = codeItem(popup, 'ACME').getByRole('button', { name: 'Fill the code of ACME alice@acme.test' });
  await enabled.waitFor();
  assert.equal(await enabled.isDisabled(), false);
  assert.equal(await enabled.getAttribute('title'), null);
  assert.equal(await popup.getByText(why).count(), 0);
  await popup.close();
  await login.close();
});

test('a waiting push request asked for by another site than the tab carries a warning', async () => {
  const server = await startServer(['--no-number-matching']);
  try {
    await enroll(helper, server.link);
    const page = await browser.context.newPage();
    await page.goto(`${pages.url}/pages/plain.html`);
    const login = await signIn(server.url, 'alice', 'alice-demo');
    await login.push();
    await waitForSession(helper, (s) => Object.values(s.pending ?? {}).some((p) => p.request.origin === server.url));
    const popup = await openPopup(page);
    const warning = popup.getByRole('alert');
    await warning.waitFor();
    assert.equal(
      await warning.textContent(),
      `This tab (${new URL(pages.url).host}) is not the site that asked (${new URL(server.url).host}). If you did not start this sign-in here, deny it.`,
    );
    await popup.close();
    // From the site that asked, no warning.
    await page.goto(`${server.url}/app/login`);
    const same = await openPopup(page);
    await same.locator('#request:not([hidden])').waitFor();
    assert.equal(await same.locator('#tab-warning').isVisible(), false);
    await same.getByRole('button', { name: 'Deny' }).click();
    await same.getByRole('button', { name: 'No', exact: true }).click();
    await waitForSession(helper, (s) => !Object.values(s.pending ?? {}).some((p) => p.request.origin === server.url));
    await same.close();
    await page.close();
  } finally {
    await server.stop();
  }
});

test('when the secrets are locked the popup offers the unlock prompt where the codes were', async () => {
  // A password set the way the options page sets it, then locked.
  const ask = (m) => helper.evaluate((message) => chrome.runtime.sendMessage(message), m);
  const kdf = { salt: 'AAECAwQFBgcICQoLDA0ODw', memoryKib: 64, iterations: 1, parallelism: 1 };
  const key = await helper.evaluate(async ({ kdf }) => {
    const tools = await import('./tools.js');
    await tools.ready;
    return tools.deriveKey('correct horse battery', kdf.salt, { memoryKib: kdf.memoryKib, iterations: kdf.iterations, parallelism: kdf.parallelism });
  }, { kdf });
  assert.equal((await ask({ type: 'vault.setPassword', key, kdf })).ok, true);
  assert.equal((await ask({ type: 'vault.lock' })).ok, true);
  const popup = await openPopup();
  const prompt = popup.locator('#unlock');
  await prompt.getByText('PushOTP is locked.').waitFor();
  assert.equal(await popup.locator('#code-list').isVisible(), false);
  await prompt.getByLabel('Password').fill('correct horse battery');
  await prompt.getByRole('button', { name: 'Unlock' }).click();
  await popup.locator('#code-list li').first().waitFor();
  assert.equal(await prompt.isVisible(), false);
  assert.equal((await ask({ type: 'vault.removePassword' })).ok, true);
  await popup.close();
});

test('no errors in the extension', () => {
  assert.deepEqual(browser.errors, []);
});
