// Stopping the server while a login page waits on its event stream and a device holds its
// socket: the real server binary gets SIGTERM and must exit within a few seconds, not when the
// last request expires. The login page says the server went away and keeps trying; when the
// server is back on the same database and the sign-in is still valid, approving it in the
// extension signs the person in.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { launchWithExtension, openExtensionPage } from '../support/browser.mjs';
import { enroll, waitForSession } from '../support/extension.mjs';
import { startServer } from '../support/server.mjs';

/** How long a stop may take: open streams and sockets end at once, requests in flight finish. */
const STOP_WITHIN_MS = 5_000;

let browser;
let dataDir;
let server;
let helper;

before(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'pushotp-shutdown-'));
  [browser, server] = await Promise.all([launchWithExtension(), startServer([], { database: path.join(dataDir, 'server.db') })]);
  helper = await openExtensionPage(browser, 'popup.html');
  await enroll(helper, server.link);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** Sends SIGTERM and resolves to the milliseconds until the process exited, or null after `limit`. */
function stopTimed(child, limit) {
  const started = performance.now();
  const exited = new Promise((resolve) => child.once('exit', () => resolve(performance.now() - started)));
  child.kill('SIGTERM');
  return Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve(null), limit))]);
}

test('SIGTERM ends the waiting login page\'s stream and the device socket at once; the page retries and completes after a restart', async (t) => {
  const login = await browser.context.newPage();
  await login.goto(`${server.url}/app/login`);
  await login.getByLabel('Username').fill('alice');
  await login.getByLabel('Password').fill('alice-demo');
  await login.getByRole('button', { name: 'Sign in' }).click();
  await login.getByRole('button', { name: 'Use my mobile to autosend a password' }).click();
  await login.getByText('Waiting for your approval…').waitFor();
  const number = (await login.getByTestId('match-number').textContent()).trim();
  // The request came over the extension's socket: both connections are open.
  const s = await waitForSession(helper, (x) => Object.values(x.pending ?? {}).some((p) => p.via === 'socket'));
  const [{ request }] = Object.values(s.pending);

  const port = Number(new URL(server.url).port);
  const took = await stopTimed(server.process, 2 * STOP_WITHIN_MS);
  assert.ok(took !== null && took < STOP_WITHIN_MS, `the server took ${took === null ? 'more than 10 s' : `${Math.round(took)} ms`} to stop`);
  assert.equal(server.process.exitCode, 0);
  t.diagnostic(`stopped ${Math.round(took)} ms after SIGTERM`);

  // The page says so, and keeps trying.
  await login.getByText('The server went away. Reconnecting…').waitFor({ timeout: 10_000 });

  // Back on the same database and port: the page picks up its sign-in, and approving the request
  // the extension still holds signs in.
  server = await startServer([], { database: path.join(dataDir, 'server.db'), port });
  await login.getByText('Waiting for your approval…').waitFor({ timeout: 15_000 });
  const popup = await openExtensionPage(browser, 'popup.html');
  await popup.locator(`#request[data-id="${request.id}"]`).waitFor();
  // Started in this browser, whose login page is still open: one press, no number.
  assert.match(number, /^\d{2}$/);
  await popup.getByText('Started in this browser').waitFor();
  await popup.getByRole('button', { name: 'Approve' }).click();
  await popup.getByText('Approved. You are being signed in to Demo Portal.').waitFor({ timeout: 15_000 });
  await login.waitForURL(`${server.url}/app`);
  await login.getByText('You are signed in as').waitFor();
  await popup.close();
  await login.close();
});

test('no console errors in the extension, apart from its socket refused while the server was down', () => {
  const port = new URL(server.url).port;
  // The login page's own reconnection attempts fail while the server is down, as they should.
  const extension = browser.errors.filter((e) => e.startsWith('service worker:') || e.startsWith('chrome-extension://'));
  const unexpected = extension.filter(
    (e) => !(e.startsWith('service worker:') && (e.includes(`127.0.0.1:${port}/`) || /ERR_CONNECTION_(REFUSED|RESET)/.test(e))),
  );
  assert.deepEqual(unexpected, []);
});
