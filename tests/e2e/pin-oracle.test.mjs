// Nothing a login page receives lets a thief who copied the browser profile test PINs offline
// (docs/threat-model.md, Passcode guesser; docs/protocol.md §5, "What the login page gets").
// A PIN push token approves a sign-in in the popup with the right PIN, while a script of the
// login page's origin (as an injected third-party script or an XSS would) records everything it
// can read: every value of every field, as events, as a poll and at form submission, and the
// page's text. Then the profile is copied as a thief would (tests/e2e/copied-profile.test.mjs)
// and the thief tries PINs: for each candidate, the right one among wrong ones, the keys are
// unmasked with the core and every passcode they could give is made (the request-bound OCRA
// passcode of this request, HOTP codes of the first counters, TOTP codes around now). None of
// them is anything the page saw. What the page saw is the server's sign-in code of that login,
// as the server's database keeps it (a MAC under the server key), and nothing else. And the search is not
// blind: with the approval's passcode among what the page saw, it singles out the right PIN.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { ClassicLevel } from 'classic-level';
import { launchWithExtension, openExtensionPage } from '../support/browser.mjs';
import { enroll, session } from '../support/extension.mjs';
import { ROOT } from '../support/root.mjs';
import { startServer } from '../support/server.mjs';
import * as tools from '../../extension/pkg/pushotp_tools.js';

tools.initSync({ module: await readFile(path.join(ROOT, 'extension/pkg/pushotp_tools_bg.wasm')) });

const PIN = '5821';
// A few wrong PINs beside the right one: enough to show the test tells them apart, without
// running Argon2id for all 10,000.
const CANDIDATES = ['0000', '1234', PIN, '5812', '9999'];

let browser;
let server;
let copy;
let data;

before(async () => {
  // The server keeps its data in a file, so that the test can read what it stored for a login.
  data = await mkdtemp(path.join(tmpdir(), 'pushotp-oracle-server-'));
  [browser, server] = await Promise.all([launchWithExtension(), startServer(['--require-pin'], { database: path.join(data, 'pushotp.db') })]);
});

after(async () => {
  await browser?.close();
  if (browser?.profile) await rm(browser.profile, { recursive: true, force: true });
  if (copy) await rm(copy, { recursive: true, force: true });
  await server?.stop();
  if (data) await rm(data, { recursive: true, force: true });
});

/**
 * Each login of the server's SQLite database, `[id, login_code]`: what it keeps of the login's
 * sign-in code (docs/protocol.md §5), read with Python's sqlite3 as tests/support/privacyidea.mjs
 * reads privacyIDEA's.
 */
async function storedLogins() {
  const script = 'import json, sqlite3, sys\nc = sqlite3.connect(sys.argv[1])\nprint(json.dumps([list(r) for r in c.execute("select id, login_code from logins")]))';
  const { stdout } = await promisify(execFile)('python3', ['-c', script, path.join(data, 'pushotp.db')]);
  return JSON.parse(stdout);
}

/**
 * What the server keeps of sign-in code `code` of login `id` (server/src/signin.rs
 * `login_code_mac`): HMAC-SHA256 under HMAC-SHA256(server key, "pushotp-server mac login-code")
 * of the login's id, a zero byte and the code, unpadded base64url. The server key is the file
 * beside the database.
 */
async function loginCodeMac(id, code) {
  const serverKey = await readFile(path.join(data, 'pushotp.db.key'));
  const key = createHmac('sha256', serverKey).update('pushotp-server mac login-code').digest();
  return createHmac('sha256', key).update(`${id}\0${code}`).digest('base64url');
}

/**
 * What a script of the login page's origin installs before the page's own: it records every
 * value any field holds (on input and change events, on every form submission, and by polling)
 * into the origin's session storage, which outlives a navigation, and keeps the page from
 * leaving on its own (no event stream), so that whatever is filled arrives while it watches.
 */
function recorder() {
  const seen = new Set(JSON.parse(sessionStorage.getItem('seen') ?? '[]'));
  const note = (value) => {
    if (typeof value !== 'string' || value === '' || seen.has(value)) return;
    seen.add(value);
    sessionStorage.setItem('seen', JSON.stringify([...seen]));
  };
  const fields = () => document.querySelectorAll('input, textarea');
  for (const type of ['input', 'change', 'keyup', 'paste']) {
    document.addEventListener(type, (e) => note(e.target?.value), true);
  }
  document.addEventListener(
    'submit',
    (e) => {
      for (const [, value] of new FormData(e.target)) note(String(value));
    },
    true,
  );
  setInterval(() => {
    for (const field of fields()) note(field.value);
  }, 5);
  window.EventSource = class {
    addEventListener() {}
    close() {}
  };
}

/** RFC 4648 §6 base32 without padding. */
function base32(bytes) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

/** Every entry of the LevelDB at `dir` (a copy: opening may write), key → parsed value. */
async function readLevelDb(dir) {
  const db = new ClassicLevel(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8', createIfMissing: false });
  const entries = {};
  try {
    for await (const [key, value] of db.iterator()) entries[key] = JSON.parse(value);
  } finally {
    await db.close();
  }
  return entries;
}

/**
 * Every passcode the token's `K_otp` (base64url) could have given for the request `requestId`
 * (base64url): the request-bound OCRA passcode (RFC 6287, docs/protocol.md §5), and what a
 * counter or the clock would have made (HOTP for counters 0 to 30, TOTP of 30 s two steps
 * either side of now).
 */
function passcodesOf(kOtp, { algorithm, digits }, requestId, now) {
  const key = Buffer.from(kOtp, 'base64url');
  const question = Buffer.from(requestId, 'base64url').toString('hex');
  const codes = [tools.ocra(`OCRA-1:HOTP-${algorithm}-${digits}:QH32`, key.toString('hex'), { question })];
  const secret = base32(key);
  for (let counter = 0; counter <= 30; counter++) codes.push(tools.hotp({ type: 'hotp', secret, algorithm, digits }, counter));
  for (let step = -2; step <= 2; step++) codes.push(tools.totp({ type: 'totp', secret, algorithm, digits, period: 30 }, now + step * 30_000));
  return codes;
}

test('after a PIN approval, nothing the login page could read recovers the PIN from a copied profile', { timeout: 180_000 }, async () => {
  const options = await openExtensionPage(browser, 'options.html');
  await options.locator('body[data-ready]').waitFor();
  const token = await enroll(options, server.link, { pin: PIN });
  assert.equal(token.pin.required, true);

  // The sign-in, on the real login page with the recorder in it.
  const login = await browser.context.newPage();
  await login.addInitScript(recorder);
  await login.goto(`${server.url}/app`);
  await login.waitForURL(`${server.url}/app/login`);
  await login.getByLabel('Username').fill('alice');
  await login.getByLabel('Password').fill('alice-demo');
  await login.getByRole('button', { name: 'Sign in' }).click();
  await login.getByRole('button', { name: 'Use my mobile to autosend a password' }).click();
  await login.getByTestId('match-number').filter({ hasText: /^\s*\d{2}\s*$/ }).waitFor();
  const number = (await login.getByTestId('match-number').textContent()).trim();

  // The approval, with the right PIN (no number: the sign-in started in this browser).
  assert.match(number, /^\d{2}$/);
  const popup = await openExtensionPage(browser, 'popup.html');
  await popup.getByText('Started in this browser').waitFor();
  await popup.getByRole('button', { name: 'Approve' }).click();
  await popup.locator('#pin').pressSequentially(PIN);
  await popup.locator('#pin').press('Enter');
  await popup.getByText('Approved. You are being signed in to Demo Portal.').waitFor();
  const { outcomes } = await session(options);
  const [requestId] = Object.keys(outcomes ?? {});
  assert.ok(requestId, 'the approval is kept as an outcome');

  // What the page received: the authenticator filled the login field.
  await login.waitForFunction(() => JSON.parse(sessionStorage.getItem('seen') ?? '[]').some((v) => /^\d{6,10}$/.test(v)), null, {
    timeout: 10_000,
  });
  const seen = new Set(await login.evaluate(() => JSON.parse(sessionStorage.getItem('seen') ?? '[]')));
  seen.add(await login.locator('#passcode').inputValue());
  for (const word of (await login.locator('body').innerText()).match(/\d{6,10}/g) ?? []) seen.add(word);
  const filled = [...seen].filter((v) => /^\d{6,10}$/.test(v));
  assert.ok(filled.length > 0, `the page saw a code: ${[...seen]}`);
  // The one code the page saw is the sign-in code the server issued for this login: its MAC
  // is what the server keeps on the login, the only one.
  assert.equal(filled.length, 1, `the page saw one code: ${filled}`);
  const logins = await storedLogins();
  assert.equal(logins.length, 1, 'one login');
  const [[loginId, kept]] = logins;
  assert.equal(kept, await loginCodeMac(loginId, filled[0]));
  const now = Date.now();

  // The thief's copy of the profile.
  const { extensionId, profile } = browser;
  await browser.close({ keepProfile: true });
  copy = await mkdtemp(path.join(tmpdir(), 'pushotp-oracle-'));
  const settings = path.join(profile, 'Default', 'Local Extension Settings', extensionId);
  await cp(settings, path.join(copy, 'settings'), { recursive: true });
  const stored = (await readLevelDb(path.join(copy, 'settings'))).pushTokens[token.tokenId];
  assert.ok(stored?.masked, 'the copy holds the masked keys');

  // Each candidate PIN unmasks keys (a wrong PIN gives wrong ones, never an error); none of
  // their passcodes is what the page saw, so the page confirms no PIN.
  const codesOf = new Map(CANDIDATES.map((pin) => [pin, passcodesOf(tools.unmaskKeys(stored.masked, pin).otp, stored.otp, requestId, now)]));
  for (const [pin, codes] of codesOf) {
    const hits = codes.filter((code) => seen.has(code));
    assert.deepEqual(hits, [], `PIN ${pin}: the page saw ${hits} among its passcodes`);
  }
  // The control: had the page seen the approval's passcode (the request-bound OCRA passcode the
  // right PIN's keys give, which the approval sent to the server), the same search would have
  // found the PIN, and only it.
  const [approvalPasscode] = codesOf.get(PIN);
  const leaked = new Set([...seen, approvalPasscode]);
  const confirmed = CANDIDATES.filter((pin) => codesOf.get(pin).some((code) => leaked.has(code)));
  assert.deepEqual(confirmed, [PIN], 'the search finds the PIN from a page that saw the approval\'s passcode');
});
