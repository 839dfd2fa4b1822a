// The extension as a privacyIDEA push token, against a real privacyIDEA 3.14 from PyPI
// (scripts/privacyidea.sh) and the real extension in Chromium: enrollment from the link in the
// options page, then sign-ins triggered at /validate/check and answered in the popup: approve,
// deny, deny and report (privacyIDEA logs the reason), presence options right and wrong,
// several challenges paged through, and a challenge altered on its way never shown. Then, in a
// second browser whose popup was never opened, privacyIDEA's own web UI login: the worker polls
// every few seconds while it waits for the push, and code-to-phone codes are filled into the
// privacyIDEA server's page or a site confirmed for the token, never into another page.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';
import { clickToolbarButton, launchWithExtension, openExtensionPage } from '../support/browser.mjs';
import { allowServerOf, confirmSites, contentScriptOf, session, waitForSession } from '../support/extension.mjs';
import { servePages } from '../support/pages.mjs';
import { startPrivacyIdea } from '../support/privacyidea.mjs';

let pi;
let browser;
let helper;
let skip = false;
const tokens = {};

before(async () => {
  pi = await startPrivacyIdea();
  if (pi.skipped) {
    skip = `privacyIDEA tests skipped: ${pi.skipped}`;
    pi = null;
    return;
  }
  browser = await launchWithExtension();
  helper = await openExtensionPage(browser, 'popup.html');
});

after(async () => {
  await browser?.close();
  await pi?.stop();
});

/** privacyIDEA challenges the worker keeps for `serial`. */
const piPending = (s, serial) => Object.values(s.pending ?? {}).filter((p) => p.kind === 'privacyidea' && p.request.tokenId === serial);

/** Waits until the worker keeps `count` challenges of `serial` (the popup page asks it to poll). */
async function arrived(serial, count = 1) {
  await helper.evaluate(() => chrome.runtime.sendMessage({ type: 'requests.refresh' }));
  return waitForSession(helper, (s) => piPending(s, serial).length === count, 15_000);
}

async function openPopup() {
  const popup = await openExtensionPage(browser, 'popup.html');
  await popup.setViewportSize({ width: 380, height: 600 });
  return popup;
}

/** A sign-in at privacyIDEA: the user's PIN at /validate/check starts a push challenge. */
async function trigger(user = 'alice') {
  const reply = await pi.check(user, '1234');
  assert.equal(reply.result.authentication, 'CHALLENGE', JSON.stringify(reply));
  return reply.detail;
}

async function outcome(popup, requestId) {
  const box = popup.locator(`#outcomes .outcome[data-id="${requestId}"]`);
  await box.waitFor();
  return box.locator('p').first().textContent();
}

const shown = (popup) => popup.locator('#request').getAttribute('data-id');

/** The failed tries privacyIDEA counts for `serial`. */
const failcount = async (serial) => (await pi.admin('GET', `/token/?serial=${serial}`)).result.value.tokens[0].failcount;

test('enrolls from the privacyIDEA link in the options page', async (t) => {
  if (skip) return t.skip(skip);
  const { serial, link } = await pi.initPushToken('alice');
  assert.match(link, /^otpauth:\/\/pipush\/PIPU/);
  const options = await openExtensionPage(browser, 'options.html');
  await options.locator('#pi-link').fill(link);
  await options.locator('#pi-add').click();
  await options.getByText(`Added ${serial} from privacyIDEA.`).waitFor({ timeout: 30_000 });
  await options.locator(`#pi-tokens li[data-serial="${serial}"]`).waitFor();
  const stored = (await helper.evaluate(() => chrome.storage.local.get('piTokens'))).piTokens[serial];
  assert.equal(stored.url, `${pi.url}/ttype/push`);
  assert.equal(stored.sslverify, false);
  assert.match(stored.serverKey, /^MIICIjANBgkqhkiG9w0BAQEF/);
  // The device key is derived from a seed in the vault's secrets (plain: no password, no PIN);
  // neither the key nor its public half is stored anywhere, and IndexedDB has no key store.
  const { secrets } = await helper.evaluate(() => chrome.storage.local.get('secrets'));
  assert.deepEqual(Object.keys(secrets.pi[serial]), ['seed']);
  assert.match(secrets.pi[serial].seed, /^[A-Za-z0-9_-]{43}$/);
  assert.deepEqual(Object.keys(stored).sort(), ['addedAt', 'appForceUnlock', 'enabled', 'issuer', 'label', 'pin', 'serial', 'serverKey', 'sslverify', 'ttlMinutes', 'url']);
  const databases = await helper.evaluate(async () => (await indexedDB.databases()).map((d) => d.name));
  assert.ok(!databases.includes('pushotp-privacyidea'), `IndexedDB: ${databases}`);
  // privacyIDEA has the RSA-2048 key the seed derives (SPKI DER, base64).
  const info = (await pi.admin('GET', `/token/?serial=${serial}`)).result.value.tokens[0].info;
  assert.match(info.public_key_smartphone.replace(/\s/g, ''), /MIIBIjANBgkqhkiG9w0BAQEF/);
  // The token is here: a second use of the link is refused before privacyIDEA is asked.
  await options.locator('#pi-link').fill(link);
  await options.locator('#pi-add').click();
  await options.getByText(`${serial} is already in this browser: PushOTP keeps it as it is. Remove it first to enroll it again.`).waitFor({ timeout: 30_000 });
  await options.close();
  tokens.alice = serial;
});

test('approve in the popup: privacyIDEA reports accept and the login finishes', async (t) => {
  if (skip) return t.skip(skip);
  const { transaction_id: tx } = await trigger();
  assert.deepEqual(await pi.pollTransaction(tx), { status: 'pending', value: false });
  const popup = await openPopup();
  // The first poll of a token in this worker's life derives its device key from the seed,
  // which takes from a fifth of a second to several seconds, depending on the seed
  // (BENCHMARKS.md), more on a busy machine.
  await popup.getByRole('heading', { name: 'privacyIDEA test', level: 2 }).waitFor({ timeout: 60_000 });
  assert.equal(await popup.locator('#lead').textContent(), 'Sign in as alice@realm1 from 127.0.0.1?');
  assert.equal(await popup.locator('#account').textContent(), `${tokens.alice} · ${tokens.alice}`);
  assert.equal(await popup.locator('#request').getAttribute('data-kind'), 'privacyidea');
  assert.ok(await popup.locator('#ip').isHidden());
  assert.equal(await popup.locator('#arrived').textContent(), 'just now');
  // No sign-in page of the token waits in this browser (the sign-in went to /validate/check):
  // the same warning as a push request that did not start here.
  await popup.getByText('This sign-in did not start in this browser. Approve only if you are signing in on another device right now.').waitFor();
  assert.ok(await popup.locator('#bound').isHidden());
  const id = await shown(popup);
  await popup.getByRole('button', { name: 'Approve' }).click();
  assert.equal(await outcome(popup, id), 'Approved. You are being signed in to privacyIDEA test.');
  assert.deepEqual(await pi.pollTransaction(tx), { status: 'accept', value: true });
  const done = await pi.check('alice', '', tx);
  assert.equal(done.result.authentication, 'ACCEPT');
  await popup.getByText('No sign-in requests are waiting.').waitFor();
  await popup.close();
});

test('deny: privacyIDEA reports declined and the login fails', async (t) => {
  if (skip) return t.skip(skip);
  const { transaction_id: tx } = await trigger();
  const popup = await openPopup();
  await popup.getByRole('heading', { name: 'privacyIDEA test', level: 2 }).waitFor({ timeout: 15_000 });
  const id = await shown(popup);
  await popup.getByRole('button', { name: 'Deny' }).click();
  await popup.locator('#deny-only').click();
  assert.equal(await outcome(popup, id), 'Denied. The sign-in to privacyIDEA test was refused.');
  assert.deepEqual(await pi.pollTransaction(tx), { status: 'declined', value: false });
  assert.equal((await pi.check('alice', '', tx)).result.authentication, 'REJECT');
  const events = (await pi.authenticationLog()).filter((e) => JSON.stringify(e).includes('CHALLENGE_DECLINED_UNKNOWN_TRIGGER'));
  assert.equal(events.length, 0);
  await popup.close();
});

test('deny and report: privacyIDEA logs a sign-in the person did not start', async (t) => {
  if (skip) return t.skip(skip);
  const { transaction_id: tx } = await trigger();
  const popup = await openPopup();
  await popup.getByRole('heading', { name: 'privacyIDEA test', level: 2 }).waitFor({ timeout: 15_000 });
  const id = await shown(popup);
  await popup.getByRole('button', { name: 'Deny' }).click();
  await popup.getByRole('button', { name: 'Yes, Report' }).click();
  assert.match(await outcome(popup, id), /^Reported\./);
  assert.deepEqual(await pi.pollTransaction(tx), { status: 'declined', value: false });
  const events = (await pi.authenticationLog()).filter((e) => JSON.stringify(e).includes('CHALLENGE_DECLINED_UNKNOWN_TRIGGER'));
  assert.equal(events.length, 1, 'the decline reason unknown_trigger reached privacyIDEA');
  await popup.close();
});

test('presence: a wrong option is refused and the request stays; the right one signs in', async (t) => {
  if (skip) return t.skip(skip);
  await pi.authPolicy({ push_require_presence: true });
  try {
    const detail = await trigger();
    const right = detail.presence_answer;
    assert.ok(right, JSON.stringify(detail));
    const popup = await openPopup();
    await popup.getByText('Pick the option shown on the sign-in page').waitFor({ timeout: 15_000 });
    const options = await popup.locator('#numbers button').allTextContents();
    assert.ok(options.includes(right) && options.length >= 2, options.join());
    assert.ok(await popup.locator('#approve').isDisabled());
    const id = await shown(popup);
    const wrong = options.find((o) => o !== right);
    await popup.getByRole('button', { name: wrong, exact: true }).click();
    await popup.getByRole('button', { name: 'Approve' }).click();
    await outcome(popup, id);
    assert.deepEqual(await pi.pollTransaction(detail.transaction_id), { status: 'pending', value: false });
    // Still answerable: the right option now.
    await popup.getByRole('button', { name: right, exact: true }).click();
    await popup.getByRole('button', { name: 'Approve' }).click();
    await popup.waitForFunction((id) => document.querySelector(`#outcomes .outcome[data-id="${id}"]`)?.textContent.startsWith('Approved'), id);
    assert.deepEqual(await pi.pollTransaction(detail.transaction_id), { status: 'accept', value: true });
    assert.equal((await pi.check('alice', '', detail.transaction_id)).result.authentication, 'ACCEPT');
    await popup.close();
  } finally {
    await pi.authPolicy();
  }
});

test('several challenges: the popup pages through them and answers the one shown', async (t) => {
  if (skip) return t.skip(skip);
  const first = await trigger();
  const second = await trigger();
  await arrived(tokens.alice, 2);
  const popup = await openPopup();
  await popup.locator('#position').getByText('1 of 2').waitFor({ timeout: 15_000 });
  const one = await shown(popup);
  await popup.getByRole('button', { name: 'Next request' }).click();
  await popup.locator('#position').getByText('2 of 2').waitFor();
  const two = await shown(popup);
  assert.notEqual(one, two);
  await popup.getByRole('button', { name: 'Approve' }).click();
  await outcome(popup, two);
  const states = [await pi.pollTransaction(first.transaction_id), await pi.pollTransaction(second.transaction_id)];
  assert.deepEqual(states.map((s) => s.status).sort(), ['accept', 'pending']);
  // The other one is still shown, and is denied.
  assert.equal(await shown(popup), one);
  await popup.getByRole('button', { name: 'Deny' }).click();
  await popup.locator('#deny-only').click();
  await outcome(popup, one);
  await popup.getByText('No sign-in requests are waiting.').waitFor();
  await popup.close();
});

test('code to phone: the approval shows the code the sign-in page asks for', async (t) => {
  if (skip) return t.skip(skip);
  await pi.authPolicy({ push_code_to_phone: true });
  try {
    const detail = await trigger();
    assert.equal(detail.client_mode, 'interactive');
    const popup = await openPopup();
    await popup.getByRole('heading', { name: 'privacyIDEA test', level: 2 }).waitFor({ timeout: 15_000 });
    const id = await shown(popup);
    await popup.getByRole('button', { name: 'Approve' }).click();
    await outcome(popup, id);
    const code = await popup.locator(`#outcomes .outcome[data-id="${id}"] .display-code`).textContent();
    assert.match(code, /^\d{2}$/);
    assert.match(await popup.locator(`#outcomes .outcome[data-id="${id}"] p`).textContent(), /Enter the code to log in: \d{2}$/);
    assert.equal((await pi.check('alice', code, detail.transaction_id)).result.authentication, 'ACCEPT');
    await popup.close();
  } finally {
    await pi.authPolicy();
  }
});

test('a token whose server asks for a PIN: chosen at enrollment, asked before each approval', async (t) => {
  if (skip) return t.skip(skip);
  await pi.enrollPolicy({ push_force_app_pin: true });
  let serial;
  try {
    let link;
    ({ serial, link } = await pi.initPushToken('bob'));
    assert.match(link, /&pin=True/);
    const options = await openExtensionPage(browser, 'options.html');
    await options.locator('#pi-link').fill(link);
    await options.locator('#pi-add').click();
    // No vault password here: the page says one protects the PIN better.
    await options.getByText('A password for PushOTP (under Security and backup) protects this PIN better.').waitFor();
    await options.getByLabel('Choose a PIN for this token').fill('2468');
    await options.locator('#pi-add').click();
    await options.getByText(`Added ${serial} from privacyIDEA.`).waitFor({ timeout: 30_000 });
    await options.close();
  } finally {
    await pi.enrollPolicy();
  }
  // The seed is stored masked with the PIN: no digest, no key, nothing that confirms a PIN.
  const { secrets } = await helper.evaluate(() => chrome.storage.local.get('secrets'));
  assert.deepEqual(Object.keys(secrets.pi[serial]), ['masked']);
  assert.deepEqual(Object.keys(secrets.pi[serial].masked).sort(), ['masked', 'params', 'salt']);
  const { transaction_id: tx } = await trigger('bob');
  const popup = await openPopup();
  await popup.locator('#account').getByText(serial, { exact: false }).waitFor({ timeout: 15_000 });
  const id = await shown(popup);
  // A wrong PIN gives a valid key of its own: the device cannot tell, privacyIDEA refuses it.
  await popup.getByRole('button', { name: 'Approve' }).click();
  await popup.getByLabel('PIN', { exact: true }).fill('1357');
  await popup.locator('#pin-ok').click();
  assert.equal(await outcome(popup, id), 'privacyIDEA did not accept the approval: the PIN may be wrong. Try again.');
  assert.deepEqual(await pi.pollTransaction(tx), { status: 'pending', value: false });
  // privacyIDEA 3.14 does not count the refused signature against the token
  // (docs/threat-model.md, Known limits).
  assert.equal(await failcount(serial), 0);
  // Without a PIN, no approval, whatever the token's stored fields say: the seed needs it.
  await helper.evaluate(async (serial) => {
    const { piTokens } = await chrome.storage.local.get('piTokens');
    piTokens[serial] = { ...piTokens[serial], pin: false, appForceUnlock: null };
    await chrome.storage.local.set({ piTokens });
  }, serial);
  const bare = await helper.evaluate((requestId) => chrome.runtime.sendMessage({ type: 'request.answer', requestId, decision: 'approve' }), id);
  assert.equal(bare.error?.code, 'pin_required', JSON.stringify(bare));
  assert.deepEqual(await pi.pollTransaction(tx), { status: 'pending', value: false });
  await helper.evaluate(async (serial) => {
    const { piTokens } = await chrome.storage.local.get('piTokens');
    piTokens[serial] = { ...piTokens[serial], pin: true };
    await chrome.storage.local.set({ piTokens });
  }, serial);
  const right = await helper.evaluate((requestId) => chrome.runtime.sendMessage({ type: 'request.answer', requestId, decision: 'approve', pin: '2468' }), id);
  assert.equal(right.outcome?.status, 'approved', JSON.stringify(right));
  assert.deepEqual(await pi.pollTransaction(tx), { status: 'accept', value: true });
  await popup.close();
  tokens.bob = serial;
});

test('a privacyIDEA approval while the vault is locked fails with `locked`', async (t) => {
  if (skip) return t.skip(skip);
  const kdf = { salt: 'AAECAwQFBgcICQoLDA0ODw', memoryKib: 64, iterations: 1, parallelism: 1 };
  const key = await helper.evaluate(async (kdf) => {
    const tools = await import('./tools.js');
    await tools.ready;
    const { salt, memoryKib, iterations, parallelism } = kdf;
    return tools.deriveKey('vault password', salt, { memoryKib, iterations, parallelism });
  }, kdf);
  const ask = (message) => helper.evaluate((m) => chrome.runtime.sendMessage(m), message);
  assert.equal((await ask({ type: 'vault.setPassword', key, kdf })).ok, true);
  try {
    const { transaction_id: tx } = await trigger();
    const [item] = piPending(await arrived(tokens.alice), tokens.alice);
    assert.equal((await ask({ type: 'vault.lock' })).ok, true);
    assert.deepEqual(await helper.evaluate(() => chrome.storage.session.get('piSeeds')), {});
    for (const answer of [{ decision: 'approve' }, { decision: 'approve', pin: '2468' }]) {
      const reply = await ask({ type: 'request.answer', requestId: item.request.id, ...answer });
      assert.equal(reply.error?.code, 'locked', JSON.stringify(reply));
    }
    assert.deepEqual(await pi.pollTransaction(tx), { status: 'pending', value: false });
    // Unlocked, the same challenge is approved.
    assert.equal((await ask({ type: 'vault.unlock', key })).ok, true);
    const reply = await ask({ type: 'request.answer', requestId: item.request.id, decision: 'approve' });
    assert.equal(reply.outcome?.status, 'approved', JSON.stringify(reply));
    assert.deepEqual(await pi.pollTransaction(tx), { status: 'accept', value: true });
  } finally {
    await ask({ type: 'vault.removePassword' });
  }
});

test('a PIN token polls again once its PIN is entered: a browser restart forgets the key', async (t) => {
  if (skip) return t.skip(skip);
  const serial = tokens.bob;
  // What a browser restart leaves: no seed in session memory.
  await helper.evaluate(() => chrome.storage.session.remove('piSeeds'));
  const { transaction_id: tx } = await trigger('bob');
  const before = await pi.polls(serial);
  await helper.evaluate(() => chrome.runtime.sendMessage({ type: 'requests.refresh' }));
  assert.equal(await pi.polls(serial), before, 'a PIN token without its key polled');
  assert.deepEqual(piPending(await session(helper), serial), []);

  const popup = await openPopup();
  const form = popup.locator(`#pi-resume li[data-serial="${serial}"]`);
  await form.waitFor();
  // A wrong PIN's key: privacyIDEA refuses the poll.
  await form.getByLabel(`PIN of ${serial}`, { exact: false }).fill('1357');
  await form.getByRole('button', { name: 'Look for sign-ins' }).click();
  await form.getByText('privacyIDEA did not accept the key of this PIN: the PIN may be wrong.').waitFor({ timeout: 15_000 });
  assert.equal(await failcount(serial), 0, 'privacyIDEA counts a refused poll');
  assert.deepEqual(await helper.evaluate(() => chrome.storage.session.get('piSeeds')), {});
  // The right one: the challenge arrives, the form goes, and polling goes on with that key.
  await form.getByLabel(`PIN of ${serial}`, { exact: false }).fill('2468');
  await form.getByRole('button', { name: 'Look for sign-ins' }).click();
  await form.waitFor({ state: 'detached', timeout: 15_000 });
  assert.ok(await popup.locator('#pi-resume').isHidden());
  const [item] = piPending(await arrived(serial), serial);
  const right = await helper.evaluate((requestId) => chrome.runtime.sendMessage({ type: 'request.answer', requestId, decision: 'approve', pin: '2468' }), item.request.id);
  assert.equal(right.outcome?.status, 'approved', JSON.stringify(right));
  assert.deepEqual(await pi.pollTransaction(tx), { status: 'accept', value: true });
  await popup.close();
});

/**
 * A relay in front of privacyIDEA that changes the question of every challenge a poll returns,
 * leaving the server's signature as it was.
 */
async function startTamperingRelay(target) {
  const seen = { polls: 0, altered: 0 };
  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const reply = await fetch(`${target}${req.url}`, {
      method: req.method,
      headers: { 'content-type': req.headers['content-type'] ?? 'application/x-www-form-urlencoded' },
      body: req.method === 'GET' ? undefined : Buffer.concat(chunks),
    });
    let body = await reply.text();
    if (req.method === 'GET' && req.url.startsWith('/ttype/push')) {
      seen.polls++;
      const json = JSON.parse(body);
      for (const challenge of json.result?.value ?? []) {
        challenge.question = 'Sign in to your bank?';
        seen.altered++;
      }
      body = JSON.stringify(json);
    }
    res.writeHead(reply.status, { 'content-type': 'application/json' });
    res.end(body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, seen, close: () => new Promise((r) => server.close(r)) };
}

test('a challenge altered on its way is never shown', async (t) => {
  if (skip) return t.skip(skip);
  const relay = await startTamperingRelay(pi.url);
  try {
    // bob's token talks to privacyIDEA through the relay.
    const { serial, link } = await pi.initPushToken('bob');
    const relayed = link.replace(/url=[^&]*/, `url=${encodeURIComponent(`${relay.url}/ttype/push`)}`);
    await allowServerOf(helper, relayed);
    const reply = await helper.evaluate((link) => chrome.runtime.sendMessage({ type: 'pi.enroll', link }), relayed);
    assert.ok(reply.ok, JSON.stringify(reply));
    const { transaction_id: tx } = await trigger('bob');
    await helper.evaluate(() => chrome.runtime.sendMessage({ type: 'requests.refresh' }));
    for (let i = 0; i < 50 && relay.seen.altered === 0; i++) await new Promise((r) => setTimeout(r, 200));
    assert.ok(relay.seen.altered >= 1, 'the relay altered a polled challenge');
    await helper.evaluate(() => chrome.runtime.sendMessage({ type: 'requests.refresh' }));
    assert.equal(piPending(await session(helper), serial).length, 0);
    assert.deepEqual(await pi.pollTransaction(tx), { status: 'pending', value: false });
  } finally {
    await relay.close();
  }
});

test('the QR code is scanned from the page behind the options page, and the token is listed once', async (t) => {
  if (skip) return t.skip(skip);
  const { serial, qr } = await pi.initPushToken('bob');
  assert.match(qr, /^data:image\/png;base64,/);
  // privacyIDEA's enrollment page, as its web UI shows it: the QR code as an image.
  const enrollPage = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><title>Enroll a push token</title><h1>Scan this QR code</h1><img src="${qr}" width="300" height="300" style="image-rendering: pixelated">`);
  });
  await new Promise((resolve) => enrollPage.listen(0, '127.0.0.1', resolve));
  const page = await browser.context.newPage();
  try {
    await page.goto(`http://127.0.0.1:${enrollPage.address().port}/`);
    // The toolbar button clicked there, the options page opens in front of it, as from the
    // toolbar menu.
    await clickToolbarButton(browser, page);
    const options = await openExtensionPage(browser, 'options.html');
    await options.locator('#pi-scan').click();
    await options.getByText(`Added ${serial} from privacyIDEA.`).waitFor({ timeout: 30_000 });
    const item = options.locator(`#pi-tokens li[data-serial="${serial}"]`);
    assert.equal(await item.locator('span').first().textContent(), `${serial} · ${new URL(pi.url).host}`);
    // The page was brought forward for the picture, then the options page again.
    assert.equal(await options.evaluate(async () => (await chrome.tabs.getCurrent()).active), true);
    await options.close();
  } finally {
    await page.close();
    await new Promise((resolve) => enrollPage.close(resolve));
  }
});

// privacyIDEA's web UI ------------------------------------------------------------------------
// A second browser, in which the popup is opened only to answer: the popup polls every 3 s for
// two minutes once opened, which would hide whether the sign-in page alone sped the polling up.

let web = null; // { browser, helper, serial, pages }

/** The second browser with carol's token, and privacyIDEA checking the web UI login. */
async function webSetup() {
  if (web) return web;
  const second = await launchWithExtension();
  const helper = await openExtensionPage(second, 'options.html');
  const { serial, link } = await pi.initPushToken('carol');
  await allowServerOf(helper, link);
  const reply = await helper.evaluate((link) => chrome.runtime.sendMessage({ type: 'pi.enroll', link }), link);
  assert.ok(reply.ok, JSON.stringify(reply));
  await pi.webuiPolicy();
  web = { browser: second, helper, serial, pages: await servePages() };
  return web;
}

after(async () => {
  await web?.browser.close();
  await web?.pages.stop();
});

/** Opens privacyIDEA's web UI at `base` and signs in as carol with her token PIN. */
async function webLogin(base = pi.url) {
  const page = await web.browser.context.newPage();
  await page.goto(`${base}/`);
  await page.locator('#username').fill('carol');
  await page.locator('#password').fill('1234');
  await page.getByRole('button', { name: 'Login Button' }).click();
  // The challenge step: privacyIDEA's message and the field for a response.
  await page.locator('#otp').waitFor({ timeout: 15_000 });
  return page;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The popup of the second browser, opened over `front` (the tab it fills into). */
async function webPopup(front) {
  // The person opens it with the toolbar button, on that tab.
  await clickToolbarButton(web.browser, front);
  const popup = await openExtensionPage(web.browser, 'popup.html');
  await popup.setViewportSize({ width: 380, height: 600 });
  return popup;
}

/** Has `page` ask privacyIDEA's polltransaction every half second for `ms`, as the web UI does while it waits. */
function pollTransaction(page, ms) {
  return page.evaluate(async (ms) => {
    for (let end = Date.now() + ms; Date.now() < end; ) {
      await fetch('/validate/polltransaction?transaction_id=12345678901234567890');
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }, ms);
}

test('a page polling privacyIDEA speeds polling up only at the server\'s origin, and only while it polls', async (t) => {
  if (skip) return t.skip(skip);
  const { serial } = await webSetup();
  // privacyIDEA's web UI at localhost: not the origin of the token's server (127.0.0.1), nor a
  // site confirmed for it. At most the 30 s watchdog alarm polls meanwhile. An everyday token
  // is confirmed for localhost, so that PushOTP's scripts run there (on a site no token uses,
  // none runs at all), but not the one that notices privacyIDEA pages: no privacyIDEA token
  // uses the site.
  await confirmSites(web.browser, [pi.url.replace('127.0.0.1', 'localhost')]);
  const other = await web.browser.context.newPage();
  await other.goto(`${pi.url.replace('127.0.0.1', 'localhost')}/`);
  await other.locator('#username').waitFor({ timeout: 15_000 });
  let before = await pi.polls(serial);
  const polling = pollTransaction(other, 9_000);
  const scripts = await contentScriptOf(web.browser, other.mainFrame());
  await scripts.ready();
  // A content script of the site that hints all the same (a compromised one) is not heeded.
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(await scripts.send({ type: 'page.piWaiting' }), { ok: true, polling: false });
    await sleep(2_000);
  }
  await polling;
  assert.equal(await scripts.evaluate('globalThis.pushotpMarks?.piHints ?? 0'), 0, 'no privacyIDEA script on the site');
  assert.ok((await pi.polls(serial)) - before <= 1, 'no fast polling for a page of another origin');
  await other.close();
  // The same page at the server's origin (its login form, no challenge shown: only the polling
  // tells) is heeded: polls every 3 s.
  const page = await web.browser.context.newPage();
  await page.goto(`${pi.url}/`);
  await page.locator('#username').waitFor({ timeout: 15_000 });
  const started = Date.now();
  before = await pi.polls(serial);
  await pollTransaction(page, 5_000);
  await sleep(started + 12_000 - Date.now());
  const during = (await pi.polls(serial)) - before;
  assert.ok(during >= 3, `${during} polls in 12 s`);
  // Once the page stops, the fast polling ends (20 s after its last hint). The page counts as
  // waiting for 5 s after its last poll, so a second hint may come 10 s after the first when the
  // last poll ended late; with it the last fast poll starts up to 33 s after the page began.
  await sleep(started + 36_000 - Date.now());
  before = await pi.polls(serial);
  await sleep(10_000);
  assert.ok((await pi.polls(serial)) - before <= 1, 'the fast polling stopped');
  await page.close();
});

test('the web UI login waits for a push: it arrives without the popup, every few seconds, and approving signs in', async (t) => {
  if (skip) return t.skip(skip);
  await webSetup();
  const { serial, helper } = web;
  const started = Date.now();
  const page = await webLogin();
  assert.match(await page.locator('.login-message').textContent(), /confirm the authentication on your mobile device/);
  // The challenge is in the worker's pending list within a few 3 s polls, not the 30 s alarm,
  // and nobody opened the popup.
  await waitForSession(helper, (s) => piPending(s, serial).length === 1, 12_000);
  const arrival = Date.now() - started;
  assert.ok(arrival < 12_000, `arrived after ${arrival} ms`);
  // While the page waits the worker keeps polling every few seconds.
  const before = await pi.polls(serial);
  await sleep(12_000);
  const during = (await pi.polls(serial)) - before;
  assert.ok(during >= 3, `${during} polls in 12 s while the page waits`);
  // Approving in the popup finishes the web UI's login.
  const popup = await webPopup(page);
  await popup.getByRole('heading', { name: 'privacyIDEA test', level: 2 }).waitFor({ timeout: 15_000 });
  assert.equal(await popup.locator('#lead').textContent(), 'Sign in as carol@realm1 from 127.0.0.1?');
  // privacyIDEA's challenge names no page: no warning that this tab is another site.
  assert.ok(await popup.locator('#tab-warning').isHidden());
  // Its sign-in page waits in this browser, at the token's server: the hint names that tab.
  await popup.getByText('Started in this browser').waitFor();
  assert.equal(await popup.locator('#bound-title').textContent(), `“${await page.title()}”`);
  assert.equal(await popup.locator('#bound-origin').textContent(), new URL(pi.url).origin);
  assert.ok(await popup.getByText('This sign-in did not start in this browser. Approve only if you are signing in on another device right now.').isHidden());
  const id = await shown(popup);
  await popup.getByRole('button', { name: 'Approve' }).click();
  assert.equal(await outcome(popup, id), 'Approved. You are being signed in to privacyIDEA test.');
  await page.locator('app-login').waitFor({ state: 'detached', timeout: 15_000 });
  assert.doesNotMatch(page.url(), /login/);
  await popup.close();
  await page.close();
});

test('code to phone: the code is filled into the privacyIDEA page or a confirmed site, never another page', async (t) => {
  if (skip) return t.skip(skip);
  await webSetup();
  const { serial, helper, pages } = web;
  await pi.authPolicy({ push_code_to_phone: true });
  try {
    // A sign-in page of another origin with a one-time-code field, open beside the web UI.
    const other = await web.browser.context.newPage();
    await other.goto(`${pages.url}/pages/plain.html`);
    const otherOrigin = new URL(pages.url).origin;

    // The web UI in front: the code lands in its field, and the login goes through with it.
    const page = await webLogin();
    assert.match(await page.locator('.login-message').textContent(), /enter the code displayed on your smartphone/i);
    await waitForSession(helper, (s) => piPending(s, serial).length === 1, 12_000);
    let popup = await webPopup(page);
    await popup.getByRole('heading', { name: 'privacyIDEA test', level: 2 }).waitFor({ timeout: 15_000 });
    let id = await shown(popup);
    await popup.getByRole('button', { name: 'Approve' }).click();
    await outcome(popup, id);
    const box = popup.locator(`#outcomes .outcome[data-id="${id}"]`);
    const code = await box.locator('.display-code').textContent();
    assert.match(code, /^\d{2}$/);
    assert.equal(await box.locator('.fill-note').textContent(), `Filled into ${new URL(pi.url).host}.`);
    assert.equal(await page.locator('#otp').inputValue(), code);
    assert.equal(await other.locator('#code').inputValue(), '');
    await popup.close();
    await page.getByRole('button', { name: 'Login Button' }).click();
    await page.locator('app-login').waitFor({ state: 'detached', timeout: 15_000 });
    await page.close();

    // The other page in front: nothing is filled, and the popup says why.
    const detail = await trigger('carol');
    // No page waits for this one (it was started at /validate/check): fetched on request.
    await helper.evaluate(() => chrome.runtime.sendMessage({ type: 'requests.refresh' }));
    await waitForSession(helper, (s) => piPending(s, serial).length === 1, 12_000);
    popup = await webPopup(other);
    await popup.getByRole('heading', { name: 'privacyIDEA test', level: 2 }).waitFor({ timeout: 15_000 });
    id = await shown(popup);
    await popup.getByRole('button', { name: 'Approve' }).click();
    await outcome(popup, id);
    const second = popup.locator(`#outcomes .outcome[data-id="${id}"]`);
    const code2 = await second.locator('.display-code').textContent();
    const host = new URL(pages.url).host;
    assert.equal(
      await second.locator('.fill-note').textContent(),
      `Not filled into ${host}: it is neither this token's privacyIDEA server nor a site you confirmed for it.`,
    );
    assert.equal(await other.locator('#code').inputValue(), '');
    // Filling it there needs the person's confirmation; declined, nothing is filled.
    await second.getByRole('button', { name: `Fill the code into ${host}` }).click();
    await popup
      .locator('#site-title')
      .getByText(`Fill codes of ${serial} (privacyIDEA) into ${host}? Only confirm if you sign in there with this privacyIDEA token.`)
      .waitFor();
    // Only the newest code is offered: the first one, used already, has no fill button.
    assert.equal(await popup.locator('#outcomes .fill-code').count(), 1);
    await popup.locator('#site-cancel').click();
    await second.locator('.fill-note').getByText(`Nothing was filled into ${host}.`, { exact: true }).waitFor();
    assert.equal(await other.locator('#code').inputValue(), '');
    // Confirmed, the site joins the token's and the code is filled.
    await second.getByRole('button', { name: `Fill the code into ${host}` }).click();
    await popup.locator('#site-confirm').click();
    await second.locator('.fill-note').getByText(`Filled into ${host}.`, { exact: true }).waitFor();
    assert.equal(await other.locator('#code').inputValue(), code2);
    const stored = (await helper.evaluate(() => chrome.storage.local.get('piTokens'))).piTokens[serial];
    assert.deepEqual(stored.sites, [otherOrigin]);
    // The options page lists the confirmed site with the token.
    const options = await openExtensionPage(web.browser, 'options.html');
    await options.locator(`#pi-tokens li[data-serial="${serial}"] .pi-sites`).getByText(`Fills codes into ${host} too.`).waitFor();
    await options.close();
    assert.equal((await pi.check('carol', code2, detail.transaction_id)).result.authentication, 'ACCEPT');
    await popup.close();
    await other.close();
  } finally {
    await pi.authPolicy();
  }
});

test('code to phone: a tab that moves to another site while the person is asked gets neither the code nor the trust', async (t) => {
  if (skip) return t.skip(skip);
  await webSetup();
  const { serial, helper, pages } = web;
  // A third origin with a one-time-code field, where the tab goes during the question.
  const elsewhere = createServer((request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end('<!doctype html><title>Elsewhere</title><form><label>Code <input id="code" autocomplete="one-time-code" inputmode="numeric"></label></form>');
  });
  await new Promise((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
  const elsewhereOrigin = `http://127.0.0.1:${elsewhere.address().port}`;
  await pi.authPolicy({ push_code_to_phone: true });
  try {
    // A page of a site not (yet) confirmed for the token in front.
    const tab = await web.browser.context.newPage();
    await tab.goto(`${pages.other}/pages/plain.html`);
    const host = new URL(pages.other).host;
    await trigger('carol');
    await helper.evaluate(() => chrome.runtime.sendMessage({ type: 'requests.refresh' }));
    await waitForSession(helper, (s) => piPending(s, serial).length === 1, 12_000);
    const popup = await webPopup(tab);
    await popup.getByRole('heading', { name: 'privacyIDEA test', level: 2 }).waitFor({ timeout: 15_000 });
    const id = await shown(popup);
    await popup.getByRole('button', { name: 'Approve' }).click();
    await outcome(popup, id);
    const box = popup.locator(`#outcomes .outcome[data-id="${id}"]`);
    await box.locator('.fill-code').waitFor();
    // After the approval the focus is on the message's dismiss button, not on Fill: a second
    // key press neither fills nor asks to trust the site.
    assert.equal(await popup.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Dismiss this message');
    // The person is asked about this site; meanwhile the tab navigates elsewhere.
    await box.getByRole('button', { name: `Fill the code into ${host}` }).click();
    await popup.locator('#site-title').getByText(`into ${host}? Only confirm`, { exact: false }).waitFor();
    await tab.goto(`${elsewhereOrigin}/`);
    await tab.locator('#code').waitFor();
    const note = box.locator('.fill-note');
    const asked = await note.textContent();
    await popup.locator('#site-confirm').click();
    // Whatever the worker did, the popup's note changes once it is done.
    for (let i = 0; i < 100 && (await note.textContent()) === asked; i++) await sleep(100);
    // Refused before any code would be sent, to a tab whose content script is there to take one.
    await (await contentScriptOf(web.browser, tab.mainFrame())).ready();
    assert.equal(await tab.locator('#code').inputValue(), '');
    const stored = (await helper.evaluate(() => chrome.storage.local.get('piTokens'))).piTokens[serial];
    assert.ok(!(stored.sites ?? []).includes(elsewhereOrigin), `sites: ${stored.sites}`);
    assert.ok(!(stored.sites ?? []).includes(new URL(pages.other).origin), `sites: ${stored.sites}`);
    assert.equal(await note.textContent(), `Nothing was filled: the tab is no longer on ${host}.`);
    // Asked directly, the worker refuses the same way: a confirmation names the site it is for.
    const tabId = await helper.evaluate(async (url) => (await chrome.tabs.query({})).find((t) => t.url?.startsWith(url))?.id, elsewhereOrigin);
    const direct = await helper.evaluate(
      ({ id, tabId }) => Promise.all([
        chrome.runtime.sendMessage({ type: 'pi.fill', requestId: id, tabId, confirmSite: true }),
        chrome.runtime.sendMessage({ type: 'pi.fill', requestId: id, tabId, origin: 'http://localhost:1', confirmSite: true }),
      ]),
      { id, tabId },
    );
    assert.deepEqual(direct.map((r) => r.error?.code), ['invalid_parameter', 'tab_changed']);
    assert.equal(await tab.locator('#code').inputValue(), '');
    const after = (await helper.evaluate(() => chrome.storage.local.get('piTokens'))).piTokens[serial];
    assert.deepEqual(after.sites, stored.sites);
    await popup.close();
    await tab.close();
  } finally {
    await pi.authPolicy();
    elsewhere.closeAllConnections();
    await new Promise((resolve) => elsewhere.close(resolve));
  }
});

test('a challenge that privacyIDEA no longer lists leaves the open popup, which says so', async (t) => {
  if (skip) return t.skip(skip);
  // Only this test's challenge waits.
  await pi.expireChallenges();
  await arrived(tokens.alice, 0);
  await trigger();
  const s = await arrived(tokens.alice);
  const [{ request }] = piPending(s, tokens.alice);
  const popup = await openPopup();
  await popup.locator(`#request[data-id="${request.id}"]`).waitFor({ timeout: 15_000 });
  assert.equal(await popup.evaluate(() => chrome.action.getBadgeText({})), '1');
  // It expires at privacyIDEA (or is answered elsewhere): the next poll no longer lists it.
  await pi.expireChallenges();
  await popup.getByText('No sign-in requests are waiting.').waitFor({ timeout: 15_000 });
  assert.equal(await outcome(popup, request.id), 'No longer waiting. The sign-in to privacyIDEA test was answered elsewhere or expired.');
  assert.equal(await popup.evaluate(() => chrome.action.getBadgeText({})), '');
  await popup.close();
});

test('a link naming a serial already held is refused before privacyIDEA is asked, and the token stays as it was', async (t) => {
  if (skip) return t.skip(skip);
  const { serial, link } = await pi.initPushToken('bob');
  const options = await openExtensionPage(browser, 'options.html');
  await options.locator('#pi-link').fill(link);
  await options.locator('#pi-add').click();
  await options.getByText(`Added ${serial} from privacyIDEA.`).waitFor({ timeout: 30_000 });
  const held = async () => {
    const { piTokens, secrets } = await helper.evaluate(() => chrome.storage.local.get(['piTokens', 'secrets']));
    return { token: piTokens[serial], secret: secrets.pi[serial] };
  };
  const before = await held();
  // A server, privacyIDEA here, hands out a second enrollment link for the same serial, as a
  // hostile one would to take over the entry of a token the person holds.
  const again = await pi.admin('POST', '/token/init', { type: 'push', genkey: '1', serial, user: 'bob', realm: 'realm1', pin: '1234' });
  assert.equal(again.detail.serial, serial);
  const second = again.detail.pushurl.value;
  const reply = await helper.evaluate((l) => chrome.runtime.sendMessage({ type: 'pi.enroll', link: l }), second);
  assert.equal(reply.error?.code, 'already_enrolled', JSON.stringify(reply));
  await options.locator('#pi-link').fill(second);
  await options.locator('#pi-add').click();
  await options.getByText(`${serial} is already in this browser: PushOTP keeps it as it is. Remove it first to enroll it again.`).waitFor({ timeout: 30_000 });
  assert.deepEqual(await held(), before);
  // privacyIDEA was not asked: the token still waits for its device there.
  const info = (await pi.admin('GET', `/token/?serial=${serial}`)).result.value.tokens[0];
  assert.equal(info.rollout_state, 'clientwait');
  await options.close();
});

test('no console errors in the extension', (t) => {
  if (skip) return t.skip(skip);
  assert.deepEqual(browser.errors, []);
  // privacyIDEA's web UI logs its own errors into its tabs (a header Chromium refuses to set):
  // only the extension's count here.
  const ours = (web?.browser.errors ?? []).filter((e) => !/^https?:\/\/(127\.0\.0\.1|localhost):\d+\/.*Refused to set unsafe header "User-Agent"/.test(e));
  assert.deepEqual(ours, []);
});
