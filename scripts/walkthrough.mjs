// Plays the README's demo as a person would, in Chromium with a window (on the display, or
// Xvfb's: run it through scripts/walkthrough.sh), and saves a screenshot of each step into
// tests/artifacts/walkthrough/. It starts the demo with scripts/demo.sh, opens PushOTP's options
// page with the activation link filled in as the demo does, adds the token, signs in to the
// demo app with "Use my mobile to autosend a password", approves in PushOTP's toolbar popup with
// one press (the sign-in started in this browser: no number to pick) and sees the app signed in;
// then sees the warning on a sign-in someone else started elsewhere, denies and reports it,
// adds a second token from the app's QR code with the options page's scanner, and an everyday
// code whose code the popup shows. Any step that does not do what the README says stops it
// with the step's name, a screenshot of every open page and a non-zero exit.
//
//   scripts/walkthrough.sh        (after scripts/build-wasm.sh and cargo build -p pushotp-server)
//
// The toolbar popup is opened the way PushOTP opens it from its notification
// (chrome.action.openPopup) and is reached through a second DevTools connection, since the
// browser shows it outside the tab strip.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { ROOT, launchWithExtension } from '../tests/support/browser.mjs';
import { freePort, signIn } from '../tests/support/server.mjs';

const OUT = path.join(ROOT, 'tests/artifacts/walkthrough');
/** The everyday code the README suggests trying. */
const OTP_LINK = 'otpauth://totp/Demo:alice?secret=JBSWY3DPEHPK3PXP&issuer=Demo';
const OTP_SECRET = 'JBSWY3DPEHPK3PXP';
const VIEWPORT = { width: 1000, height: 700 };
/** How long one action may wait for what it looks for, in ms. */
const STEP_TIMEOUT = 10_000;

const started = Date.now();
let stepCount = 0;
let shotCount = 0;
/** What is cleaned up at the end, however it ends. */
const open = { demo: null, browser: null, devtools: null, devtoolsPort: 0, dir: null };

/** Saves a screenshot of `page` as NN-name.png. */
async function shot(page, name) {
  const file = path.join(OUT, `${String(++shotCount).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** Runs one step of the walkthrough, named as the README names it. */
async function step(name, fn) {
  const at = Date.now();
  stepCount++;
  try {
    await fn();
  } catch (err) {
    err.step = name;
    throw err;
  }
  console.log(`ok ${stepCount} - ${name} (${((Date.now() - at) / 1000).toFixed(1)} s)`);
}

/** scripts/demo.sh without its browser, in a folder of its own on a free port. */
async function startDemo() {
  open.dir = await mkdtemp(path.join(tmpdir(), 'pushotp-walkthrough-'));
  const address = `127.0.0.1:${await freePort()}`;
  const env = { ...process.env, PUSHOTP_DEMO_DIR: open.dir, PUSHOTP_DEMO_ADDRESS: address };
  const demo = spawn(path.join(ROOT, 'scripts/demo.sh'), ['--no-build', '--no-browser'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  open.demo = demo;
  let output = '';
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`scripts/demo.sh did not start within 30 s:\n${output}`)), 30_000);
    const read = (chunk) => {
      output += chunk;
      if (output.includes('Its log follows.')) {
        clearTimeout(timer);
        resolve();
      }
    };
    demo.stdout.on('data', read);
    demo.stderr.on('data', read);
    demo.on('exit', (code) => reject(new Error(`scripts/demo.sh exited with ${code}:\n${output}`)));
  });
  const link = /^pushotp:\/\/enroll\?\S+$/m.exec(output)?.[0];
  assert.ok(link, `an activation link in the demo's output:\n${output}`);
  const app = /Demo app: +(\S+)/.exec(output)?.[1];
  assert.equal(app, `http://${address}/app`);
  return { url: `http://${address}`, app, link, output };
}

/**
 * Opens PushOTP's toolbar popup over `front` with a click on its button (DevTools'
 * `Extensions.triggerAction`, the click a person makes), which also lets PushOTP act on that
 * tab (`activeTab`). The browser shows the popup outside its tabs: a DevTools connection made
 * after it opened finds it among the pages (one made before is not told about it).
 */
async function openPopup(browser, front) {
  await front.bringToFront();
  await open.devtools?.close().catch(() => {});
  open.devtools = await chromium.connectOverCDP(`http://127.0.0.1:${open.devtoolsPort}`);
  const session = await open.devtools.newBrowserCDPSession();
  const { targetInfos } = await session.send('Target.getTargets', { filter: [{ type: 'tab' }] });
  const tab = targetInfos.find((t) => t.url === front.url());
  await session.send('Extensions.triggerAction', { id: browser.extensionId, targetId: tab.targetId });
  await session.detach();
  const url = `chrome-extension://${browser.extensionId}/extension/popup.html`;
  for (let i = 0; i < 30; i++) {
    await open.devtools?.close().catch(() => {});
    open.devtools = await chromium.connectOverCDP(`http://127.0.0.1:${open.devtoolsPort}`);
    const popup = open.devtools.contexts().flatMap((c) => c.pages()).find((p) => p.url() === url);
    if (popup) {
      popup.setDefaultTimeout(STEP_TIMEOUT);
      await popup.waitForLoadState();
      return popup;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the toolbar popup did not open');
}

/** Scrolls a section's heading to the top of the page, with a little room above it. */
function scrollTo(heading) {
  heading.scrollIntoView({ block: 'start' });
  window.scrollBy(0, -16);
}

/** RFC 6238 TOTP (SHA-1, 6 digits, 30 s) of a base32 secret at `ms`, to check what the popup shows. */
function totp(secret, ms) {
  let bits = '';
  for (const c of secret) bits += 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(ms / 30_000)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

async function walk() {
  await rm(OUT, { recursive: true, force: true });
  await mkdir(OUT, { recursive: true });

  let demo;
  await step('scripts/demo.sh starts the server and prints the activation link', async () => {
    demo = await startDemo();
  });

  open.devtoolsPort = await freePort();
  const browser = await launchWithExtension({ headless: false, viewport: VIEWPORT, args: [`--remote-debugging-port=${open.devtoolsPort}`] });
  open.browser = browser;
  const { context, extensionId } = browser;
  // A step that does not happen fails within seconds, not Playwright's half minute.
  context.setDefaultTimeout(STEP_TIMEOUT);

  // The demo's two tabs: the demo app, and the options page with the link filled in.
  const app = await context.newPage();
  await app.goto(demo.app);
  const options = await context.newPage();
  await step('the options page opens with the activation link filled in; Add adds the token', async () => {
    await options.goto(`chrome-extension://${extensionId}/extension/options.html#enroll=${encodeURIComponent(demo.link)}`);
    await options.getByText('An activation link was filled in. Check the name of this browser, then press Add.').waitFor();
    assert.equal(await options.getByLabel('Activation link').inputValue(), demo.link);
    await shot(options, 'options-link-filled');
    await options.getByRole('button', { name: 'Add', exact: true }).click();
    await options.getByText('Added Demo Portal for alice at Demo Org.').waitFor();
    await shot(options, 'options-token-added');
  });

  let number;
  await step('sign in to the demo app as alice and choose "Use my mobile to autosend a password"', async () => {
    await app.bringToFront();
    await app.waitForURL(/\/app\/login$/);
    await app.getByLabel('Username').fill('alice');
    await app.getByLabel('Password').fill('alice-demo');
    await shot(app, 'app-sign-in');
    await app.getByRole('button', { name: 'Sign in' }).click();
    await app.getByRole('button', { name: 'Use my mobile to autosend a password' }).waitFor();
    await shot(app, 'login-page');
    await app.getByRole('button', { name: 'Use my mobile to autosend a password' }).click();
    const shown = app.getByTestId('match-number');
    await shown.waitFor();
    number = (await shown.textContent()).trim();
    assert.match(number, /^\d{1,2}$/);
    await shot(app, 'login-page-number');
  });

  await step('the popup shows the request from London, started in this browser; Approve signs the app in', async () => {
    const popup = await openPopup(browser, app);
    await popup.getByText('Started in this browser').waitFor();
    assert.equal(await popup.locator('#bound-origin').textContent(), new URL(demo.url).origin);
    assert.equal(await popup.locator('#ip').textContent(), '81.2.69.142');
    assert.match(await popup.locator('#place').textContent(), /London/);
    await popup.locator('#map svg').waitFor();
    await shot(popup, 'popup-request');
    await popup.emulateMedia({ colorScheme: 'dark' });
    await shot(popup, 'popup-request-dark');
    await popup.emulateMedia({ colorScheme: 'light' });
    await popup.getByRole('button', { name: 'Approve' }).click();
    await popup.locator('#outcomes').getByText(/^Approved\./).waitFor();
    await shot(popup, 'popup-approved');
    await app.getByTestId('signed-in').waitFor();
    assert.match(await app.getByTestId('signed-in').textContent(), /signed in as alice/);
    await shot(app, 'app-signed-in');
  });

  await step('a sign-in someone else started: the warning and the numbers; Deny, then Yes, Report; the sign-in is refused', async () => {
    // Someone with alice's password, in another browser.
    const intruder = await signIn(demo.url, 'alice', 'alice-demo');
    const { status } = await intruder.push();
    assert.equal(status, 200);
    const popup = await openPopup(browser, app);
    await popup.getByText('This sign-in did not start in this browser.', { exact: false }).waitFor();
    await popup.locator('#numbers button').first().waitFor();
    await shot(popup, 'popup-unexpected-request');
    await popup.emulateMedia({ colorScheme: 'dark' });
    await shot(popup, 'popup-unexpected-request-dark');
    await popup.emulateMedia({ colorScheme: 'light' });
    await popup.getByRole('button', { name: 'Deny' }).click();
    const dialog = popup.getByRole('dialog', { name: 'Report this as a sign-in you did not make?' });
    await dialog.waitFor();
    await shot(popup, 'popup-report-question');
    await dialog.getByRole('button', { name: 'Yes, Report' }).click();
    await popup.locator('#outcomes').getByText(/^Reported\./).waitFor();
    await shot(popup, 'popup-reported');
    assert.deepEqual(await intruder.state(), { state: 'denied', reason: 'reported', number: null });
  });

  await step('"Add a push authenticator" shows a QR code; the options page scans it from the tab', async () => {
    await app.bringToFront();
    await app.getByRole('button', { name: 'Add a push authenticator' }).click();
    await app.getByTestId('enroll-qr').locator('svg').waitFor();
    await shot(app, 'app-enroll-qr');
    // PushOTP looks only at a tab whose toolbar button was clicked: a click there, then Scan.
    await (await openPopup(browser, app)).close();
    await options.bringToFront();
    await options.getByRole('button', { name: 'Scan QR code from the current tab' }).click();
    await options.getByText('Added Demo Portal for alice at Demo Org.').waitFor();
    assert.equal(await options.locator('#tokens li').count(), 2);
    await options.locator('#tokens-heading').evaluate(scrollTo);
    await shot(options, 'options-token-scanned');
  });

  await step('both pages show the same code; Confirm on the app page makes the token work', async () => {
    const code = (await options.getByTestId('add-confirm').locator('strong').textContent()).trim();
    await options.locator('#add-status').evaluate(scrollTo);
    await shot(options, 'options-enroll-code');
    await app.bringToFront();
    await app.getByTestId('enroll-code').filter({ hasText: code }).waitFor();
    await shot(app, 'app-enroll-confirm');
    await app.getByRole('button', { name: 'Confirm' }).click();
    await app.getByTestId('enroll-status').filter({ hasText: /^Confirmed\./ }).waitFor();
    await shot(app, 'app-enroll-confirmed');
  });

  await step('an everyday code from an otpauth:// link; the popup shows its code', async () => {
    await options.getByLabel('Link', { exact: true }).fill(OTP_LINK);
    await options.getByRole('button', { name: 'Add from link' }).click();
    await options.locator('#otp-tokens li').filter({ hasText: 'Demo' }).waitFor();
    await options.locator('#otp-heading').evaluate(scrollTo);
    await shot(options, 'options-everyday-code');
    const popup = await openPopup(browser, options);
    const value = popup.locator('#code-list li').filter({ hasText: 'Demo' }).locator('.code-value');
    await popup.waitForFunction(() => /^\d{3} \d{3}$/.test(document.querySelector('#code-list .code-value')?.textContent ?? ''));
    const code = (await value.textContent()).replace(' ', '');
    const now = Date.now();
    assert.ok([now - 2000, now].some((at) => totp(OTP_SECRET, at) === code), `the popup shows ${code}`);
    await shot(popup, 'popup-everyday-code');
  });

  await step('no errors in the extension', async () => {
    assert.deepEqual(browser.errors, []);
  });
}

async function closeAll() {
  await open.devtools?.close().catch(() => {});
  await open.browser?.close().catch(() => {});
  if (open.demo && open.demo.exitCode === null) {
    open.demo.kill('SIGTERM');
    await new Promise((resolve) => (open.demo.exitCode === null ? open.demo.once('exit', resolve) : resolve()));
  }
  if (open.dir) await rm(open.dir, { recursive: true, force: true });
}

try {
  await walk();
  console.log(`walkthrough: ${stepCount} steps, ${shotCount} screenshots in ${path.relative(process.cwd(), OUT)}/ (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  await closeAll();
} catch (err) {
  console.error(`\nnot ok ${stepCount} - ${err.step ?? 'setting up'}\n${err.stack ?? err}`);
  // What the person would have seen at that moment.
  const pages = [...(open.browser?.context.pages() ?? []), ...(open.devtools?.contexts().flatMap((c) => c.pages()) ?? [])];
  for (const [index, page] of pages.entries()) {
    await page.screenshot({ path: path.join(OUT, `failed-${index}.png`) }).catch(() => {});
  }
  await closeAll();
  process.exit(1);
}
