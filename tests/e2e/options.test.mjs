// The options page in real Chromium with the extension, against the real reference server:
// adding push tokens from a pasted activation link and from the QR code of the server's
// enrollment page in another tab, the PIN step, clear refusals, the token list with its switch
// and removal, and the settings.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createServer } from 'node:net';
import { after, before, test } from 'node:test';
import { ROOT, allowSites, clickToolbarButton, launchWithExtension, openExtensionPage } from '../support/browser.mjs';
import { signIn, startServer } from '../support/server.mjs';
import { serviceWorkerControl } from '../support/extension.mjs';
import { poll } from '../support/device.mjs';
import * as tools from '../../extension/pkg/pushotp_tools.js';

tools.initSync({ module: await readFile(path.join(ROOT, 'extension/pkg/pushotp_tools_bg.wasm')) });

let browser;
let server;
let pinServer;
/** @type {import('playwright-core').Page} */
let options;

before(async () => {
  [browser, server, pinServer] = await Promise.all([
    launchWithExtension(),
    startServer(),
    startServer(['--require-pin']),
  ]);
  options = await openExtensionPage(browser, 'options.html');
  await options.locator('body[data-ready]').waitFor();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await pinServer?.stop();
});

const stored = () => options.evaluate(() => chrome.storage.local.get());
const addStatus = () => options.locator('#add-status');
const settingsSection = () => options.getByRole('region', { name: 'Settings' });

/** Pastes a link, presses Add, and waits until the page says how it went. */
async function paste(link) {
  await options.getByLabel('Activation link').fill(link);
  await options.getByRole('button', { name: 'Add', exact: true }).click();
  return settled();
}

/** The add section's message once the page is done working. */
async function settled() {
  await options.locator('#add-form[aria-busy="false"]').waitFor();
  await options.locator('#add-status.error, #add-status.ok').waitFor();
  return addStatus().textContent();
}

/** A link of the right shape for a token the server does not know. */
function unknownLink(url) {
  const exp = Math.floor(Date.now() / 1000) + 3600;
  return `pushotp://enroll?v=2&server=${encodeURIComponent(url)}&token=tok_unknown&secret=${'A'.repeat(32)}&exp=${exp}`;
}

/** A port on this machine where nothing listens. */
function closedPort() {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Takes the console lines Chromium itself writes for the failed requests a test caused on
 * purpose (a refusal, a closed port) off the list of errors, after checking they are only that.
 * The service worker redeems activation links, so they are its lines.
 */
function expectFailedRequests(from) {
  for (const line of browser.errors.splice(from)) {
    assert.match(line, /^service worker: Failed to load resource: (the server responded with a status of 401|net::ERR_CONNECTION_REFUSED)/);
  }
}

/**
 * A signed-in session of alice: her sign-in pushed and approved with the stored `token` and its
 * approval keys `keys` (`{ otp, answer }`, unmasked for a PIN token), and the sign-in code of
 * the approval's reply typed at the login page, as the extension fills it (docs/protocol.md §5).
 */
async function session(url, token, keys) {
  const login = await signIn(url, 'alice', 'alice-demo');
  const { body } = await login.push();
  const { requests } = await poll(token, url);
  const request = requests.at(-1);
  const passcode = tools.pushPasscode(keys.otp, token.otp.algorithm, token.otp.digits, request.id);
  const answer = tools.approveAnswer(request, body.number ?? null, passcode, Date.now(), token.keys.channel, keys.answer);
  const approved = await fetch(`${url}/api/v1/answers`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(answer),
  }).then((r) => r.json());
  assert.equal(approved.status, 'approved', JSON.stringify(approved));
  const reply = await fetch(`${url}/auth/passcode`, {
    method: 'POST',
    headers: { cookie: login.cookie },
    body: new URLSearchParams({ passcode: approved.loginCode }),
    redirect: 'manual',
  });
  assert.equal(reply.status, 303, `sign-in code: ${reply.status}`);
  const cookie = reply.headers.getSetCookie().find((c) => c.startsWith('pushotp_session='));
  return cookie.split(';')[0];
}

/** A new activation link from the self-service page, as a signed-in person gets it. */
async function newLink(url, sessionCookie) {
  const reply = await fetch(`${url}/app/enroll`, { method: 'POST', headers: { cookie: sessionCookie } });
  const html = await reply.text();
  return /data-testid="enroll-link" readonly value="([^"]+)"/.exec(html)[1].replaceAll('&amp;', '&');
}

/** The server's view of a token: whether a signed poll of it is accepted. */
async function pollStatus(url, token) {
  const at = Math.floor(Date.now() / 1000);
  const tag = tools.signedAt('poll', token.keys.channel, token.tokenId, at);
  const reply = await fetch(`${url}/api/v1/devices/pending`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ tokens: [{ tokenId: token.tokenId, at, tag }] }),
  });
  return reply.status;
}

test('the page opens with the default settings and the name of this browser', async () => {
  assert.equal(await options.getByLabel('Name of this browser').inputValue(), 'Chrome on Linux');
  for (const name of ['Push requests', 'Browser notifications', 'Approve from the notification']) {
    assert.equal(await settingsSection().getByRole('switch', { name, exact: true }).isChecked(), true, name);
  }
  assert.equal(await options.getByRole('switch', { name: 'Submit after filling the passcode' }).isChecked(), false);
  assert.match(await options.getByText('No push tokens yet').textContent(), /Add one above/);
});

test('links that cannot be used are refused with a clear reason and nothing is stored', async () => {
  const errors = browser.errors.length;
  const closed = await closedPort();
  // [link, expected message, whether the link field is marked as the problem]
  const cases = [
    ['', /Paste an activation link first/, true],
    ['https://example.com/enroll', /not a PushOTP activation link.*pushotp:\/\/enroll\?/, true],
    [server.link.replace(/&secret=[^&]+/, ''), /incomplete: part of it is missing/, true],
    [server.link.replace(/&secret=[^&]+/, '&secret=NOTBASE32!'), /damaged/, true],
    [server.link.replace(/exp=\d+/, 'exp=1000'), /has expired\. Ask your organization for a new one/, true],
    [server.link.replace('v=2', 'v=3'), /newer version of PushOTP/, true],
    [unknownLink(server.url), /^This activation link was already used or has expired\. .*If the page that showed the link now asks you to confirm a code, someone else used the link: choose “It does not match” there\.$/, false],
    [unknownLink(`http://127.0.0.1:${closed}`), new RegExp(`^Could not reach the server 127\\.0\\.0\\.1:${closed}\\..*the link has not been used`), false],
  ];
  for (const [link, expected, invalid] of cases) {
    assert.match(await paste(link), expected, link);
    const marked = await options.getByLabel('Activation link').getAttribute('aria-invalid');
    assert.equal(marked === 'true', invalid, link);
  }
  const name = options.getByLabel('Name of this browser');
  await name.fill('  ');
  assert.match(await paste(server.link), /Give this browser a name/);
  assert.equal(await name.getAttribute('aria-invalid'), 'true');
  // The core's text rule, with the link: a control or format character (here a right-to-left
  // override, a C1 control) in the name is the name's problem, not the link's. (The field takes
  // no more than 64 characters, which the rule's 256 bytes always hold.)
  for (const bad of ['Chrome \u202Exunil', 'Chrome\u0085']) {
    await name.fill(bad);
    assert.match(await paste(server.link), /^The name of this browser holds characters that do not show \(control or formatting characters\)\. Type it again\.$/, bad);
    assert.equal(await name.getAttribute('aria-invalid'), 'true');
    assert.equal(await options.getByLabel('Activation link').getAttribute('aria-invalid'), null);
  }
  await name.fill('Chrome on Linux');
  assert.deepEqual((await stored()).pushTokens ?? {}, {});
  expectFailedRequests(errors);
});

test('plain http to another computer is refused, for push and privacyIDEA links, and nothing is sent', async () => {
  const errors = browser.errors.length;
  const insecure = /^This link names the server pushotp\.example over plain http:\/\/, which anyone on the network could read and change\. Ask your organization for a link whose server address starts with https:\/\//;
  assert.match(await paste(unknownLink('http://pushotp.example')), insecure);
  assert.equal(await options.getByLabel('Activation link').getAttribute('aria-invalid'), 'true');
  // The tests' own servers are on this computer, where http:// is allowed.
  assert.match(await paste(unknownLink('http://localhost:1')), /^Could not reach the server localhost:1\./);
  const serial = 'PIPU0000D04D';
  const pi = (url) => `otpauth://pipush/${serial}?url=${encodeURIComponent(url)}&ttl=10&issuer=privacyIDEA&enrollment_credential=${'b8'.repeat(20)}&v=1&serial=${serial}&sslverify=1&poll_only=True`;
  await options.getByLabel('privacyIDEA enrollment link').fill(pi('http://pi.example/ttype/push'));
  await options.getByRole('button', { name: 'Add privacyIDEA token' }).click();
  await options.locator('#pi-status.error').waitFor();
  assert.match(await options.locator('#pi-status').textContent(), /^This link names the server pi\.example over plain http:\/\/, which anyone on the network could read and change\. Ask your organization for a link whose server address starts with https:\/\//);
  assert.deepEqual((await stored()).pushTokens ?? {}, {});
  assert.deepEqual((await stored()).piTokens ?? {}, {});
  expectFailedRequests(errors);
});

let token;

test('a pasted activation link adds the token, stored as the contract says, and listed', async () => {
  const name = options.getByLabel('Name of this browser');
  await name.fill('Work laptop');
  await name.press('Tab');
  assert.equal(await paste(server.link), 'Added Demo Portal for alice at Demo Org.');
  assert.equal(await options.getByLabel('Activation link').inputValue(), '');

  const { pushTokens, settings, secrets } = await stored();
  assert.equal(settings.deviceName, 'Work laptop');
  const tokens = Object.values(pushTokens);
  assert.equal(tokens.length, 1);
  assert.deepEqual(Object.keys(tokens[0].keys).sort(), ['channel', 'request']);
  // K_otp and K_ans are in the vault (no password set: unencrypted).
  assert.deepEqual(Object.keys(secrets.push[tokens[0].tokenId]).sort(), ['answer', 'otp']);
  token = { ...tokens[0], keys: { ...tokens[0].keys, ...secrets.push[tokens[0].tokenId] } };
  assert.equal(token.server, server.url);
  assert.equal(token.deviceName, 'Work laptop');
  assert.equal(token.tokenName, 'Demo Portal');
  assert.equal(token.user, 'alice');
  assert.equal(token.issuer, 'Demo Org');
  assert.deepEqual(token.otp, { algorithm: 'SHA1', digits: 6 });
  assert.equal(token.pin.required, false);
  assert.deepEqual(Object.keys(token.keys).sort(), ['answer', 'channel', 'otp', 'request']);
  assert.equal(token.masked, undefined);
  assert.equal(token.enabled, true);
  assert.equal(typeof token.addedAt, 'number');
  assert.equal(await pollStatus(server.url, token), 200);

  const item = options.getByRole('list', { name: 'Push tokens' }).getByRole('listitem').filter({ hasText: 'Demo Portal' });
  await item.waitFor();
  for (const text of ['alice', 'Demo Org', server.url, 'Work laptop']) {
    assert.ok((await item.textContent()).includes(text), text);
  }
  assert.equal(await item.getByText('PIN protected').isVisible(), false);
  assert.equal(await options.getByText('No push tokens yet').isVisible(), false);
});

test('the same link a second time is refused: it was already used', async () => {
  assert.match(await paste(server.link), /^This activation link was already used: its token, Demo Portal for alice at Demo Org, is already in this browser\./);
  assert.equal(Object.keys((await stored()).pushTokens).length, 1);
});

test('the worker keeps no push token of an incomplete shape', async () => {
  const { enabled, addedAt, ...enrolled } = token;
  const other = { ...enrolled, tokenId: 'tok_incomplete' };
  for (const bad of [
    { ...other, tokenId: 7 },
    { ...other, server: 'ftp://127.0.0.1' },
    { ...other, server: `${server.url}?x` },
    { ...other, keys: { ...other.keys, channel: 'short' } },
    { ...other, keys: { ...other.keys, answer: undefined } },
    // A PIN-protected token holds its approval keys only masked.
    { ...other, pin: { ...other.pin, required: true } },
  ]) {
    const reply = await options.evaluate((message) => chrome.runtime.sendMessage(message), { type: 'token.add', token: bad });
    assert.equal(reply.error?.code, 'invalid_token', JSON.stringify(bad));
  }
  assert.deepEqual(Object.keys((await stored()).pushTokens), [token.tokenId]);
});

test('a token is added from the QR code of the enrollment page in another tab', async () => {
  // alice signs in with an approval by her first token and opens the self-service page from the
  // app, as she would in her browser.
  const cookie = await session(server.url, token, token.keys);
  const [name, value] = cookie.split('=');
  await browser.context.addCookies([{ name, value, url: server.url }]);
  const page = await browser.context.newPage();
  await page.goto(`${server.url}/app`);
  await page.getByRole('button', { name: 'Add a push authenticator' }).click();
  await page.getByTestId('enroll-qr').locator('svg').waitFor();
  const link = await page.getByTestId('enroll-link').inputValue();
  // alice clicks PushOTP's toolbar button there: it may look at that tab now.
  await clickToolbarButton(browser, page);

  // Back to the options page, whose tab now hides the enrollment page.
  await options.bringToFront();
  await options.getByRole('button', { name: 'Scan QR code from the current tab' }).click();
  assert.equal(await settled(), 'Added Demo Portal for alice at Demo Org.');
  assert.equal(await options.getByLabel('Activation link').inputValue(), '');
  // The enrollment page was brought forward for the picture, then the options page again.
  assert.equal(await options.evaluate(async () => (await chrome.tabs.getCurrent()).active), true);
  const tokens = (await stored()).pushTokens;
  assert.equal(Object.keys(tokens).length, 2);
  const scanned = Object.values(tokens).find((t) => t.tokenId !== token.tokenId);
  assert.equal(scanned.tokenId, tools.enrollRequest(link, 'x', Date.now()).tokenId);
  assert.equal(await options.getByRole('list', { name: 'Push tokens' }).getByRole('listitem').filter({ hasText: 'Demo Portal' }).count(), 2);
  // The app's page made the link: the token works once alice confirms there that the page
  // shows the code the options page shows. Until then its polls answer with nothing.
  assert.equal(await pollStatus(server.url, scanned), 200);
  const appStatus = async () => {
    const reply = await fetch(`${server.url}/app/enroll/status?token=${scanned.tokenId}`, { headers: { cookie } });
    return (await reply.json()).state;
  };
  assert.equal(await appStatus(), 'unconfirmed');
  const code = (await options.getByTestId('add-confirm').locator('strong').textContent()).trim();
  await page.getByTestId('enroll-code').filter({ hasText: code }).waitFor();
  await page.getByRole('button', { name: 'Confirm' }).click();
  await page.getByTestId('enroll-status').filter({ hasText: /^Confirmed\./ }).waitFor();
  assert.equal(await appStatus(), 'active');
  assert.equal(await pollStatus(server.url, scanned), 200);

  // The page's link is used up now, and a page without a QR code says so.
  await page.goto(`${server.url}/app`);
  await options.bringToFront();
  await options.getByRole('button', { name: 'Scan QR code from the current tab' }).click();
  assert.match(await settled(), /No QR code was found in Demo Portal \(127\.0\.0\.1:\d+\)/);
  await page.close();
});

test('with several web pages behind the options page, the person picks the one to scan', async () => {
  const count = Object.keys((await stored()).pushTokens).length;
  const app = await browser.context.newPage();
  await app.goto(`${server.url}/app`);
  const page = await browser.context.newPage();
  await page.goto(`${server.url}/app`);
  await page.getByRole('button', { name: 'Add a push authenticator' }).click();
  await page.getByTestId('enroll-qr').locator('svg').waitFor();
  // The toolbar button clicked on each: PushOTP may look at both.
  await clickToolbarButton(browser, app);
  await clickToolbarButton(browser, page);

  await options.bringToFront();
  await options.getByRole('button', { name: 'Scan QR code from the current tab' }).click();
  const choice = options.getByRole('list', { name: 'Which tab shows the QR code?' });
  await choice.waitFor();
  assert.equal(await addStatus().textContent(), 'Several web pages are open behind this one.');
  const offered = await choice.getByRole('button').allTextContents();
  assert.deepEqual(offered.map((t) => t.replace(/:\d+/, ':PORT')).sort(), [
    'Add an authenticator · Demo Org (127.0.0.1:PORT)',
    'Demo Portal (127.0.0.1:PORT)',
  ]);
  // The most recently used tab comes first and has the focus.
  assert.equal(await choice.getByRole('button').first().evaluate((el) => el === document.activeElement), true);
  await choice.getByRole('button', { name: /^Add an authenticator/ }).click();
  assert.equal(await settled(), 'Added Demo Portal for alice at Demo Org.');
  assert.equal(await choice.isVisible(), false);
  assert.equal(Object.keys((await stored()).pushTokens).length, count + 1);
  assert.equal(await options.evaluate(async () => (await chrome.tabs.getCurrent()).active), true);

  // Picking a tab without a QR code says so.
  await options.getByRole('button', { name: 'Scan QR code from the current tab' }).click();
  await choice.getByRole('button', { name: /^Demo Portal/ }).click();
  assert.match(await settled(), /^No QR code was found in Demo Portal \(127\.0\.0\.1:\d+\)\. Scroll the page/);
  await app.close();
  await page.close();
});

test('a PIN-protected token asks for a PIN twice and stores only the masked keys', async () => {
  const count = Object.keys((await stored()).pushTokens ?? {}).length;
  await options.getByLabel('Activation link').fill(pinServer.link);
  await options.getByRole('button', { name: 'Add', exact: true }).click();
  const dialog = options.getByRole('dialog', { name: 'Choose a PIN' });
  await dialog.waitFor();
  assert.match(await dialog.textContent(), /Demo Org protects Demo Portal for alice with a PIN.*5 wrong PINs lock the token, even with right ones in between\./);
  const pin = dialog.getByLabel('PIN (4 to 8 digits)');
  const again = dialog.getByLabel('Type the PIN again');
  assert.equal(await pin.getAttribute('type'), 'password');
  assert.equal(await pin.evaluate((el) => el === document.activeElement), true);

  // Too short, letters dropped, then two different PINs.
  await pin.fill('12');
  await again.fill('12');
  await dialog.getByRole('button', { name: 'Save PIN' }).click();
  assert.equal(await dialog.getByRole('alert').textContent(), 'The PIN must be 4 to 8 digits.');
  await pin.pressSequentially('47a1b1');
  assert.equal(await pin.inputValue(), '124711');
  await pin.fill('4711');
  await again.fill('4712');
  await dialog.getByRole('button', { name: 'Save PIN' }).click();
  assert.equal(await dialog.getByRole('alert').textContent(), 'The two PINs are not the same. Type the PIN again.');
  assert.equal(await again.inputValue(), '');
  assert.equal(await again.getAttribute('aria-invalid'), 'true');

  // Cancel warns that the link is used up; going back keeps the enrollment.
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  assert.match(await dialog.textContent(), /If you stop now, Demo Portal is not added\. The server has already used up this activation link/);
  await dialog.getByRole('button', { name: 'Choose a PIN' }).click();
  await again.fill('4711');
  await again.press('Enter');
  assert.equal(await settled(), 'Added Demo Portal for alice at Demo Org. It is protected by your PIN.');
  assert.equal(await dialog.isVisible(), false);

  const pinToken = Object.values((await stored()).pushTokens).find((t) => t.server === pinServer.url);
  assert.equal(pinToken.pin.required, true);
  assert.deepEqual(Object.keys(pinToken.keys).sort(), ['channel', 'request']);
  assert.deepEqual(Object.keys(pinToken.masked).sort(), ['masked', 'params', 'salt']);
  assert.equal(await options.getByRole('list', { name: 'Push tokens' }).getByRole('listitem').filter({ hasText: pinServer.url }).getByText('PIN protected').isVisible(), true);

  // The keys under the right PIN are the ones the server holds: they approve alice's sign-in.
  const keys = tools.unmaskKeys(pinToken.masked, '4711');
  const cookie = await session(pinServer.url, pinToken, keys);

  // Stopping at the PIN step says the link is gone and stores nothing. The comparison code
  // shows while the PIN is asked (the page that showed the link offers Confirm meanwhile), and
  // the token this browser will not hold is removed at the server, so that nobody can confirm it.
  const link = await newLink(pinServer.url, cookie);
  await options.getByLabel('Activation link').fill(link);
  await options.getByRole('button', { name: 'Add', exact: true }).click();
  await dialog.waitFor();
  const appStatus = async () => {
    const tokenId = new URL(link).searchParams.get('token');
    const reply = await fetch(`${pinServer.url}/app/enroll/status?token=${tokenId}`, { headers: { cookie } });
    return (await reply.json()).state;
  };
  assert.equal(await appStatus(), 'unconfirmed');
  const appCode = await options.getByTestId('add-confirm').locator('strong').textContent();
  assert.match(appCode, /^\d{3} \d{3}$/);
  await options.keyboard.press('Escape');
  await dialog.getByRole('button', { name: 'Stop without adding' }).click();
  assert.equal(await settled(), 'Demo Portal was not added, because no PIN was chosen. The activation link is used up now: ask Demo Org for a new one to try again.');
  assert.equal(await options.getByTestId('add-confirm').isVisible(), false, 'no code for a token not added');
  assert.equal(Object.keys((await stored()).pushTokens).length, count + 1);
  for (const end = Date.now() + 5_000; (await appStatus()) !== 'removed'; ) {
    assert.ok(Date.now() < end, `the token at the server is ${await appStatus()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  // Escape on the warning stops too (browsers close a dialog on a second Escape anyway).
  await options.getByLabel('Activation link').fill(await newLink(pinServer.url, cookie));
  await options.getByRole('button', { name: 'Add', exact: true }).click();
  await dialog.waitFor();
  await options.keyboard.press('Escape');
  await dialog.getByRole('button', { name: 'Stop without adding' }).waitFor();
  await options.keyboard.press('Escape');
  assert.match(await settled(), /^Demo Portal was not added, because no PIN was chosen\. The activation link is used up now/);
  assert.equal(await dialog.isVisible(), false);
  assert.equal(Object.keys((await stored()).pushTokens).length, count + 1);
});

test('a token waiting for its PIN is sealed under a key only the options page holds, and swept when abandoned', async () => {
  const fresh = await startServer(['--require-pin']);
  try {
    await options.getByLabel('Activation link').fill(fresh.link);
    await options.getByRole('button', { name: 'Add', exact: true }).click();
    const dialog = options.getByRole('dialog', { name: 'Choose a PIN' });
    await dialog.waitFor();

    // Any other page of the extension sees what waits, but no approval key: nothing of 32 bytes
    // in base64url, no token in clear.
    const other = await openExtensionPage(browser, 'options.html');
    const waiting = async () => (await other.evaluate(() => chrome.storage.session.get('enrollments'))).enrollments ?? {};
    const entries = Object.values(await waiting());
    assert.equal(entries.length, 1);
    assert.deepEqual(Object.keys(entries[0]).sort(), ['at', 'sealed']);
    assert.doesNotMatch(JSON.stringify(entries), /"[A-Za-z0-9_-]{43}"/);

    await dialog.getByLabel('PIN (4 to 8 digits)').fill('2580');
    await dialog.getByLabel('Type the PIN again').fill('2580');
    await dialog.getByRole('button', { name: 'Save PIN' }).click();
    assert.equal(await settled(), 'Added Demo Portal for alice at Demo Org. It is protected by your PIN.');
    assert.deepEqual(await waiting(), {});

    // One left by a page that never came back is dropped after 30 minutes, at the next start of
    // the worker at the latest.
    const old = { sealed: { iv: 'AAAAAAAAAAAAAAAA', data: 'AAAA' }, at: Date.now() - 31 * 60_000 };
    await other.evaluate((entry) => chrome.storage.session.set({ enrollments: { AAAAAAAAAAAAAAAAAAAAAA: entry } }), old);
    const worker = await serviceWorkerControl(browser, other);
    await worker.stop();
    await other.evaluate(() => chrome.runtime.sendMessage({ type: 'vault.status' }));
    for (let i = 0; i < 50 && Object.keys(await waiting()).length; i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(await waiting(), {});
    await other.close();
  } finally {
    await fresh.stop();
  }
});

test('a token that could not be saved can be saved again, and a retry too late says the link is spent', async () => {
  const [fresh, next] = await Promise.all([startServer(), startServer()]);
  const other = await openExtensionPage(browser, 'options.html');
  const ask = (message) => other.evaluate((m) => chrome.runtime.sendMessage(m), message);
  // A password-protected, locked vault cannot take the new token's approval keys.
  const kdf = { salt: 'AAECAwQFBgcICQoLDA0ODw', memoryKib: 64, iterations: 1, parallelism: 1 };
  const key = await other.evaluate(async (kdf) => {
    const tools = await import('./tools.js');
    await tools.ready;
    const { salt, ...params } = kdf;
    return tools.deriveKey('vault password', salt, params);
  }, kdf);
  assert.equal((await ask({ type: 'vault.setPassword', key, kdf })).ok, true);
  assert.equal((await ask({ type: 'vault.lock' })).ok, true);
  try {
    assert.match(await paste(fresh.link), /^The server accepted Demo Portal, but PushOTP could not save it .*Try saving again\./);
    const retry = options.getByRole('button', { name: 'Try saving again' });
    assert.equal(await retry.isVisible(), true);

    // Unlocked, the same accepted token is saved without the link.
    assert.equal((await ask({ type: 'vault.unlock', key })).ok, true);
    await retry.click();
    assert.equal(await settled(), 'Added Demo Portal for alice at Demo Org.');
    assert.equal(await retry.isVisible(), false);

    // Too late (the worker no longer holds it): the page says the link is spent and takes the next.
    await ask({ type: 'vault.lock' });
    assert.match(await paste(next.link), /could not save it/);
    await other.evaluate(() => chrome.storage.session.set({ enrollments: {} }));
    await ask({ type: 'vault.unlock', key });
    await retry.click();
    assert.match(await settled(), /no longer waiting to be saved.*The activation link is used up now/);
    assert.equal(await retry.isVisible(), false);
    assert.match(await paste(unknownLink(fresh.url)), /already used or has expired/);
  } finally {
    await ask({ type: 'vault.unlock', key });
    assert.equal((await ask({ type: 'vault.removePassword' })).ok, true);
    await other.close();
    await fresh.stop();
    await next.stop();
  }
});

test('settings are saved at once and kept across a reload', async () => {
  const notifications = options.getByRole('switch', { name: 'Browser notifications' });
  const fromNotification = options.getByRole('switch', { name: 'Approve from the notification' });
  await notifications.uncheck();
  assert.equal(await fromNotification.isDisabled(), true);
  await options.getByRole('switch', { name: 'Submit after filling the passcode' }).check();
  await settingsSection().getByRole('switch', { name: 'Push requests', exact: true }).uncheck();
  await options.getByText('Push requests are off for every token').waitFor();
  await options.getByText('Push requests: off. Saved.').waitFor();
  assert.deepEqual((await stored()).settings, {
    pushEnabled: false,
    notifications: false,
    approveFromNotification: true,
    autoSubmit: true,
    deviceName: 'Work laptop',
    autoLockMinutes: 15,
  });

  await options.reload();
  await options.locator('body[data-ready]').waitFor();
  assert.equal(await settingsSection().getByRole('switch', { name: 'Push requests', exact: true }).isChecked(), false);
  assert.equal(await notifications.isChecked(), false);
  assert.equal(await fromNotification.isChecked(), true);
  assert.equal(await fromNotification.isDisabled(), true);
  assert.equal(await options.getByRole('switch', { name: 'Submit after filling the passcode' }).isChecked(), true);
  assert.equal(await options.getByLabel('Name of this browser').inputValue(), 'Work laptop');

  // A change made elsewhere (another options page) shows here at once.
  const other = await openExtensionPage(browser, 'options.html');
  await other.locator('body[data-ready]').waitFor();
  await other.getByRole('switch', { name: 'Submit after filling the passcode' }).uncheck();
  await other.close();
  await options.waitForFunction(() => !document.getElementById('autoSubmit').checked);

  await settingsSection().getByRole('switch', { name: 'Push requests', exact: true }).check();
  await notifications.check();
  assert.equal(await fromNotification.isDisabled(), false);
  assert.equal((await stored()).settings.pushEnabled, true);
});

test('push requests of one token are turned off and on from its switch', async () => {
  const item = options.getByRole('list', { name: 'Push tokens' }).getByRole('listitem').filter({ hasText: pinServer.url });
  const toggle = item.getByRole('switch', { name: 'Push requests for Demo Portal (alice at Demo Org)' });
  await toggle.uncheck();
  await options.getByText('Push requests off for Demo Portal.').waitFor();
  const tokens = Object.values((await stored()).pushTokens);
  assert.equal(tokens.find((t) => t.server === pinServer.url).enabled, false);
  assert.ok(tokens.filter((t) => t.server === server.url).every((t) => t.enabled));
  await toggle.check();
  await options.getByText('Push requests on for Demo Portal.').waitFor();
  assert.ok(Object.values((await stored()).pushTokens).every((t) => t.enabled));
});

test('removing a token asks first, then forgets it and the server revokes it', async () => {
  // The token added from the pasted link.
  const item = options.locator(`li[data-token-id="${token.tokenId}"]`);
  const remove = item.getByRole('button', { name: 'Remove Demo Portal (alice at Demo Org)' });
  const before = Object.keys((await stored()).pushTokens).length;

  // Cancel keeps it.
  await remove.click();
  const dialog = options.getByRole('dialog', { name: 'Remove Demo Portal?' });
  await dialog.waitFor();
  assert.equal(
    await dialog.getByText(/^You will/).textContent(),
    'You will no longer be able to approve sign-ins for alice at Demo Org with this browser.',
  );
  assert.equal(await dialog.getByRole('button', { name: 'Cancel' }).evaluate((el) => el === document.activeElement), true);
  await options.keyboard.press('Escape');
  assert.equal(await dialog.isVisible(), false);
  assert.equal(await remove.evaluate((el) => el === document.activeElement), true);
  assert.equal(Object.keys((await stored()).pushTokens).length, before);

  // Remove for real.
  await remove.click();
  await dialog.getByRole('button', { name: 'Remove' }).click();
  await options.getByText(/^Demo Portal was removed, and its server 127\.0\.0\.1:\d+ revoked it\.$/).waitFor();
  await item.waitFor({ state: 'detached' });
  const tokens = (await stored()).pushTokens;
  assert.equal(tokens[token.tokenId], undefined);
  assert.equal(Object.keys(tokens).length, before - 1);
  assert.equal(await pollStatus(server.url, token), 401);
  assert.equal(await options.locator('#tokens-heading').evaluate((el) => el === document.activeElement), true);
});

test('a link in the page address is filled in, and leaves the address', async () => {
  const link = unknownLink(server.url);
  const page = await openExtensionPage(browser, `options.html#enroll=${encodeURIComponent(link)}`);
  await page.locator('body[data-ready]').waitFor();
  assert.equal(await page.getByLabel('Activation link').inputValue(), link);
  assert.equal(await page.getByRole('button', { name: 'Add', exact: true }).evaluate((el) => el === document.activeElement), true);
  assert.equal(new URL(page.url()).hash, '');
  await page.close();
});

test('removing a token whose server cannot be reached says that the server was not told', async () => {
  const { url } = pinServer;
  const stopped = pinServer;
  pinServer = null;
  await stopped.stop();
  const errors = browser.errors.length;
  const item = options.getByRole('list', { name: 'Push tokens' }).getByRole('listitem').filter({ hasText: url });
  await item.getByRole('button', { name: /^Remove/ }).click();
  await options.getByRole('dialog', { name: 'Remove Demo Portal?' }).getByRole('button', { name: 'Remove' }).click();
  const message = options.locator('#tokens-status.error');
  await message.waitFor();
  assert.match(await message.textContent(), /^Demo Portal was removed from this browser, but its server 127\.0\.0\.1:\d+ could not be told\. Ask Demo Org to revoke the token for alice\.$/);
  await item.waitFor({ state: 'detached' });
  assert.equal(Object.values((await stored()).pushTokens).some((t) => t.server === url), false);
  // The service worker's own attempts to reach the stopped server are all it logged.
  for (const line of browser.errors.splice(errors)) {
    assert.match(line, /^service worker: .*(ERR_CONNECTION_REFUSED|WebSocket connection to 'ws:\/\/127\.0\.0\.1:\d+\/api\/v1\/devices\/ws' failed)/);
  }
});

test('the add form works from the keyboard alone', async () => {
  await options.getByLabel('Activation link').fill('');
  await options.getByLabel('Activation link').focus();
  await options.keyboard.type('pushotp://enroll?v=2');
  await options.keyboard.press('Enter');
  assert.match(await settled(), /incomplete/);
  // The field keeps the focus through the work, for the person to correct the link.
  assert.equal(await options.evaluate(() => document.activeElement.id), 'link');
  // Tab order: link, browser name, Add, Scan.
  await options.getByLabel('Activation link').focus();
  const order = [];
  for (let i = 0; i < 3; i++) {
    await options.keyboard.press('Tab');
    order.push(await options.evaluate(() => document.activeElement.id));
  }
  assert.deepEqual(order, ['device-name', 'add', 'scan']);
});

test('a push token is renamed in this browser; an empty name is refused, Escape keeps the old one', async () => {
  const item = options.locator('#tokens > li').first();
  const tokenId = await item.getAttribute('data-token-id');
  assert.equal((await stored()).pushTokens[tokenId].tokenName, 'Demo Portal');
  const rename = item.getByRole('button', { name: 'Rename Demo Portal (alice at Demo Org)' });

  await rename.click();
  const name = item.getByRole('textbox', { name: 'Name', exact: true });
  assert.equal(await name.inputValue(), 'Demo Portal');
  await name.fill('   ');
  await item.getByRole('button', { name: 'Save' }).click();
  await options.getByText('Give the token a name.').waitFor();
  assert.equal((await stored()).pushTokens[tokenId].tokenName, 'Demo Portal');

  await name.fill('Work VPN');
  await options.keyboard.press('Escape');
  assert.equal(await rename.evaluate((el) => el === document.activeElement), true);
  assert.equal((await stored()).pushTokens[tokenId].tokenName, 'Demo Portal');

  await rename.click();
  await name.fill('  Work VPN ');
  await options.keyboard.press('Enter');
  await options.getByText('Renamed to Work VPN.').waitFor();
  await item.getByRole('heading', { name: 'Work VPN' }).waitFor();
  assert.equal((await stored()).pushTokens[tokenId].tokenName, 'Work VPN');
  await item.getByRole('switch', { name: 'Push requests for Work VPN (alice at Demo Org)' }).waitFor();
  const focused = await options.evaluate(() => document.activeElement?.getAttribute('aria-label'));
  assert.equal(focused, 'Rename Work VPN (alice at Demo Org)');
});

test('the login pages a server declares are named when its token is added, and in the token list', async () => {
  // A server may have codes typed at sign-in pages other than its own (docs/protocol.md §3,
  // `loginOrigins`); the person learns which before any code is typed there.
  const portal = await startServer(['--login-origin', 'https://portal.example.com', '--login-origin', 'https://sso.example.net:8443']);
  const serverHost = new URL(portal.url).host;
  // The person allows them when the browser asks, as the token is added.
  const declared = ['https://portal.example.com/*', 'https://sso.example.net/*'];
  await allowSites(browser, declared);
  const held = async () => (await options.evaluate(() => chrome.permissions.getAll())).origins;
  try {
    assert.equal(
      await paste(portal.link),
      `Added Demo Portal for alice at Demo Org. PushOTP will type this token's codes at portal.example.com, at sso.example.net:8443 and at its server, ${serverHost}.`,
    );
    const added = Object.values((await stored()).pushTokens).find((t) => t.server === portal.url);
    assert.deepEqual(added.loginOrigins, ['https://portal.example.com', 'https://sso.example.net:8443']);
    const item = options.locator(`#tokens > li[data-token-id="${added.tokenId}"]`);
    await item.waitFor();
    assert.equal(await item.locator('.token-sites').textContent(), `portal.example.com, sso.example.net:8443, ${serverHost}`);
    // A token whose server declared none types codes at its server alone.
    const plain = Object.values((await stored()).pushTokens).find((t) => !t.loginOrigins);
    assert.equal(await options.locator(`#tokens > li[data-token-id="${plain.tokenId}"] .token-sites`).textContent(), new URL(plain.server).host);
    // PushOTP asked for them with the server, and lists them under Sites.
    for (const pattern of declared) assert.ok((await held()).includes(pattern), `${pattern} in ${await held()}`);
    await options.locator('li[data-origin="https://portal.example.com"]').getByText('sign-in page of Demo Portal.').waitFor();
    await options.evaluate((tokenId) => chrome.runtime.sendMessage({ type: 'token.remove', tokenId }), added.tokenId);
    // With the token gone, so is PushOTP's access to them.
    await options.locator('li[data-origin="https://portal.example.com"]').waitFor({ state: 'detached' });
    for (const pattern of declared) assert.ok(!(await held()).includes(pattern), `${pattern} in ${await held()}`);
  } finally {
    await portal.stop();
  }
});

test('the page made no console errors', () => {
  assert.deepEqual(browser.errors, []);
});
