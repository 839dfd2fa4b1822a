// A sign-in that started in this browser, against the real server and the real extension in
// Chromium: the login page carries a fresh binding for each page load, the push request commits
// to it, and the extension finds it only in a frame of the request's origin whose every ancestor
// has that origin. Found: the popup says "Started in this browser" with the tab's title and
// origin, approves with one press (no number), and the server audits the approval as bound.
// Not found: the popup warns that the sign-in did not start here, asks for the number, and the
// approval is audited unbound: the login page framed by a page of another origin, the login page
// in a sandboxed frame of its own origin, a page carrying the binding of an earlier login, and a
// login tab that navigated away after the push arrived (nothing is sent then; the request turns
// unbound and asks for its number).
import assert from 'node:assert/strict';
import path from 'node:path';
import { mkdir } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { ROOT, launchWithExtension, openExtensionPage } from '../support/browser.mjs';
import { enroll, recordNotifications, session, waitForSession } from '../support/extension.mjs';
import { freePort, signIn, startServer } from '../support/server.mjs';

const SCREENSHOTS = path.join(ROOT, 'tests/artifacts/screenshots');
const WARNING = 'This sign-in did not start in this browser. Approve only if you are signing in on another device right now.';

let browser;
let server;
let strict; // --require-same-browser
let helper; // an extension page for enrollment and storage reads
let token;
/** The server's audit lines, as it logs them. */
let audit = '';

before(async () => {
  [browser, strict, server] = await Promise.all([
    launchWithExtension(),
    startServer(['--require-same-browser']),
    startServer(['--deny-cooldown', '0', '--max-pending', '100'], {
      log: 'warn,pushotp_server::audit=info',
      onOutput: (text) => {
        audit += text;
      },
    }),
  ]);
  helper = await openExtensionPage(browser, 'popup.html');
  token = await enroll(helper, server.link);
  await enroll(helper, strict.link);
  await mkdir(SCREENSHOTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  await Promise.all([server?.stop(), strict?.stop()]);
});

/** The extension's own errors (web pages framed in odd ways may log theirs). */
const extensionErrors = () => browser.errors.filter((e) => e.startsWith('chrome-extension://') || e.startsWith('service worker'));

/** The audit lines of approvals so far. */
const approvals = () => audit.split('\n').filter((line) => line.includes('push_approved'));

/** How many approvals the tests so far saw audited. */
let counted = 0;

/** Waits for the next approval's audit line and returns it; it must be the only new one. */
async function nextApproval() {
  for (let i = 0; i < 100 && approvals().length <= counted; i++) await new Promise((resolve) => setTimeout(resolve, 100));
  counted += 1;
  assert.equal(approvals().length, counted, audit);
  return approvals()[counted - 1];
}

/** The popup, as a tab the size of the toolbar popup. */
async function openPopup() {
  const popup = await openExtensionPage(browser, 'popup.html');
  await popup.setViewportSize({ width: 380, height: 640 });
  return popup;
}

/** Waits until the worker keeps `count` requests. */
function arrived(count = 1) {
  return waitForSession(helper, (s) => Object.keys(s.pending ?? {}).length === count);
}

/** Waits until nothing is pending. */
function settled() {
  return waitForSession(helper, (s) => Object.keys(s.pending ?? {}).length === 0);
}

/** Signed out of the demo app in the browser, then the password step in `page`. */
async function passwordStep(page, at = server) {
  await browser.context.clearCookies();
  await page.goto(`${at.url}/app`);
  await page.waitForURL(`${at.url}/app/login`);
  await page.getByLabel('Username').fill('alice');
  await page.getByLabel('Password').fill('alice-demo');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${at.url}/auth`);
}

/** "Use my mobile" in the login page `where` (a page or a frame): the number it shows. */
async function pushFrom(where) {
  await where.getByRole('button', { name: 'Use my mobile to autosend a password' }).click();
  const number = where.getByTestId('match-number').filter({ hasText: /^\s*\d{2}\s*$/ });
  await number.waitFor();
  return (await number.textContent()).trim();
}

/** The binding the login page `where` carries. */
const bindingOf = (where) => where.locator('meta[name="pushotp-binding"]').getAttribute('content');

/**
 * The server's answer to framing, taken off the login page's response, as a server without
 * that protection would serve it: the extension must not count on it.
 */
async function framable(route) {
  const response = await route.fetch();
  const headers = { ...response.headers() };
  delete headers['x-frame-options'];
  if (headers['content-security-policy']) headers['content-security-policy'] = headers['content-security-policy'].replace(/frame-ancestors [^;]*/, 'frame-ancestors *');
  await route.fulfill({ response, headers });
}

/** Picks `number` in the popup and approves. */
async function approveWithNumber(popup, number) {
  await popup.getByRole('button', { name: number, exact: true }).click();
  await popup.getByRole('button', { name: 'Approve' }).click();
  await popup.getByText('Approved. You are being signed in to Demo Portal.').waitFor();
}

/** The popup shows the waiting request as one that did not start here, with its numbers. */
async function showsUnbound(popup) {
  await popup.getByText(WARNING).waitFor();
  assert.ok(await popup.locator('#bound').isHidden());
  await popup.getByText('Pick the number shown on the sign-in page').waitFor();
  assert.equal(await popup.locator('#numbers button').count(), 3);
  assert.ok(await popup.getByRole('button', { name: 'Approve' }).isDisabled());
  // Said with the heading, where the focus goes.
  assert.equal(await popup.locator('#app').getAttribute('aria-describedby'), 'unbound');
  // Deny is the prominent choice.
  assert.equal(await popup.locator('#deny').getAttribute('class'), 'danger prominent');
  assert.equal(await popup.locator('#approve').getAttribute('class'), '');
}

test('a sign-in started in this browser shows its tab, approves with one press without the number, and is audited bound', async () => {
  const login = await browser.context.newPage();
  await passwordStep(login);
  await pushFrom(login);
  await arrived();
  const title = await login.title();

  const popup = await openPopup();
  await popup.getByText('Started in this browser').waitFor();
  assert.equal(await popup.locator('#bound-title').textContent(), `“${title}”`);
  assert.equal(await popup.locator('#bound-origin').textContent(), server.url);
  assert.ok(await popup.getByText(WARNING).isHidden());
  assert.equal(await popup.locator('#app').getAttribute('aria-describedby'), 'bound-note bound-title bound-origin');
  // No number to pick: Approve is ready, and the prominent choice.
  assert.ok(await popup.locator('#numbers').isHidden());
  assert.ok(await popup.getByRole('button', { name: 'Approve' }).isEnabled());
  assert.equal(await popup.locator('#approve').getAttribute('class'), 'primary');
  assert.equal(await popup.locator('#deny').getAttribute('class'), 'danger');
  await popup.screenshot({ path: path.join(SCREENSHOTS, 'popup-bound.png') });
  await popup.emulateMedia({ colorScheme: 'dark' });
  await popup.screenshot({ path: path.join(SCREENSHOTS, 'popup-bound-dark.png') });
  await popup.emulateMedia({ colorScheme: 'light' });

  // "Go to the tab" brings the login page's tab to the front.
  const { pending } = await session(helper);
  const { tabId } = Object.values(pending)[0].bound;
  await popup.bringToFront();
  assert.equal(await helper.evaluate((id) => chrome.tabs.get(id).then((t) => t.active), tabId), false);
  await popup.getByRole('button', { name: 'Go to the tab' }).click();
  await helper.waitForFunction((id) => chrome.tabs.get(id).then((t) => t.active), tabId);
  await popup.bringToFront();

  await popup.getByRole('button', { name: 'Approve' }).click();
  await popup.getByText('Approved. You are being signed in to Demo Portal.').waitFor();
  await login.waitForURL(`${server.url}/app`);
  await login.getByText('You are signed in as').waitFor();
  assert.match(await nextApproval(), /\bbound\b/);
    await Promise.all([login.close(), popup.close()]);
  assert.deepEqual(extensionErrors(), []);
});

test('the notification says where the sign-in started; a bound one approves from it, an unbound one with numbers does not', async () => {
  // What the worker asks of the notifications API, as it asks it.
  const notice = await recordNotifications(browser);

  // Bound: approved from the notification's button, no popup needed.
  const login = await browser.context.newPage();
  await passwordStep(login);
  await pushFrom(login);
  const { pending } = await arrived();
  const [id] = Object.keys(pending);
  const bound = await notice(`request:${id}`);
  assert.match(bound.message, /^Started in this browser\. alice at /);
  assert.deepEqual(
    bound.buttons.map((b) => b.title),
    ['Approve', 'Deny'],
  );
  const outcome = await browser.worker.evaluate((id) => globalThis.pushotp.onNotificationButton(id, 0), `request:${id}`);
  assert.equal(outcome?.status, 'approved');
  await login.waitForURL(`${server.url}/app`);
  assert.match(await nextApproval(), /\bbound\b/);
  await login.close();
  await settled();

  // Unbound (the sign-in of another device): the warning, and the button only opens the popup.
  const other = await signIn(server.url, 'alice', 'alice-demo');
  const pushed = await other.push();
  assert.equal(pushed.status, 200, JSON.stringify(pushed.body));
  const { pending: waiting } = await arrived();
  const [otherId] = Object.keys(waiting);
  const unbound = await notice(`request:${otherId}`);
  assert.ok(unbound.message.startsWith(WARNING), unbound.message);
  assert.equal(unbound.buttons[0].title, 'Choose the number…');
  const popups = () => browser.context.pages().filter((p) => p.url().endsWith('/extension/popup.html') && p !== helper);
  const before = popups().length;
  assert.equal(await browser.worker.evaluate((id) => globalThis.pushotp.onNotificationButton(id, 0), `request:${otherId}`), null);
  for (let i = 0; i < 50 && popups().length === before; i++) await new Promise((resolve) => setTimeout(resolve, 100));
  for (const popup of popups()) await popup.close();
  assert.equal((await other.state()).state, 'waiting');
  await helper.evaluate((requestId) => chrome.runtime.sendMessage({ type: 'request.answer', requestId, decision: 'deny' }), otherId);
  await settled();

  // Bound, but its tab navigated away before the button was pressed: nothing is sent, the popup
  // opens, and the notification now carries the warning and what its button opens.
  const moved = await browser.context.newPage();
  await passwordStep(moved);
  await pushFrom(moved);
  const { pending: third } = await arrived();
  const [movedId] = Object.keys(third);
  assert.match((await notice(`request:${movedId}`)).message, /^Started in this browser\./);
  await moved.goto(`${server.url}/app/login`);
  const opened = popups().length;
  assert.equal(await browser.worker.evaluate((id) => globalThis.pushotp.onNotificationButton(id, 0), `request:${movedId}`), null);
  for (let i = 0; i < 50 && popups().length === opened; i++) await new Promise((resolve) => setTimeout(resolve, 100));
  for (const popup of popups()) await popup.close();
  const updated = await browser.worker.evaluate((id) => globalThis.__notices[id], `request:${movedId}`);
  assert.ok(updated?.message.startsWith(WARNING), JSON.stringify(updated));
  assert.equal(updated.buttons[0].title, 'Choose the number…');
  assert.equal(approvals().length, counted);
  assert.equal((await session(helper)).pending[movedId].bound, undefined);
  await helper.evaluate((requestId) => chrome.runtime.sendMessage({ type: 'request.answer', requestId, decision: 'deny' }), movedId);
  await settled();
  await moved.close();
  assert.deepEqual(extensionErrors(), []);
});

test('the login page framed by a page of another origin is not a sign-in of this browser', async () => {
  const tab = await browser.context.newPage();
  await passwordStep(tab);
  // A page of another origin (another port: the same site, so that the login's cookies still
  // go to the framed page) framing the login page.
  const outer = `http://127.0.0.1:${await freePort()}/portal`;
  await tab.route(outer, (route) =>
    route.fulfill({ contentType: 'text/html', body: `<!doctype html><title>Portal</title><iframe id="login" src="${server.url}/auth" width="600" height="500"></iframe>` }),
  );
  await tab.route(`${server.url}/auth`, framable);
  await tab.goto(outer);
  const frame = tab.frameLocator('#login');
  const number = await pushFrom(frame);
  assert.match(await bindingOf(frame), /^[A-Za-z0-9_-]{22}$/);
  await arrived();

  const popup = await openPopup();
  await showsUnbound(popup);
  await popup.screenshot({ path: path.join(SCREENSHOTS, 'popup-unbound.png') });
  await popup.emulateMedia({ colorScheme: 'dark' });
  await popup.screenshot({ path: path.join(SCREENSHOTS, 'popup-unbound-dark.png') });
  await popup.emulateMedia({ colorScheme: 'light' });
  await approveWithNumber(popup, number);
  assert.match(await nextApproval(), /\bunbound\b/);
  await settled();
  await Promise.all([tab.close(), popup.close()]);
  assert.deepEqual(extensionErrors(), []);
});

test('the login page in a sandboxed frame of its own origin is not a sign-in of this browser', async () => {
  const tab = await browser.context.newPage();
  await passwordStep(tab);
  // A page of the server's own origin whose frame is sandboxed: the login page's document there
  // has an opaque origin, and its scripts are not the origin's.
  const outer = `${server.url}/sandboxed-portal`;
  await tab.route(outer, (route) =>
    route.fulfill({
      contentType: 'text/html',
      body: '<!doctype html><title>Portal</title><iframe id="login" sandbox="allow-scripts" src="/auth" width="600" height="500"></iframe>',
    }),
  );
  await tab.route(`${server.url}/auth`, framable);
  await tab.goto(outer);
  await tab.frameLocator('#login').locator('meta[name="pushotp-binding"]').waitFor({ state: 'attached' });
  assert.match(await bindingOf(tab.frameLocator('#login')), /^[A-Za-z0-9_-]{22}$/);
  // The sandboxed page cannot push (its requests are of no origin): the push goes out for it
  // from the page around it, committing to the sandboxed page's binding, the login's newest.
  const number = await pushFromPage(tab);
  await arrived();

  const popup = await openPopup();
  await showsUnbound(popup);
  await approveWithNumber(popup, number);
  assert.match(await nextApproval(), /\bunbound\b/);
  await settled();
  await Promise.all([tab.close(), popup.close()]);
  assert.deepEqual(extensionErrors(), []);
});

test('a page carrying the binding of an earlier, completed login does not bind a new one', async () => {
  // An earlier login, signed in from this browser.
  const earlier = await browser.context.newPage();
  await passwordStep(earlier);
  const old = await bindingOf(earlier);
  await pushFrom(earlier);
  await arrived();
  const popup = await openPopup();
  await popup.getByText('Started in this browser').waitFor();
  await popup.getByRole('button', { name: 'Approve' }).click();
  await earlier.waitForURL(`${server.url}/app`);
  assert.match(await nextApproval(), /\bbound\b/);
  await settled();

  // A page of the server's origin still carrying that login's binding, and a new login of the
  // same person started elsewhere.
  const stale = await browser.context.newPage();
  await stale.route(`${server.url}/old-login`, (route) =>
    route.fulfill({ contentType: 'text/html', body: `<!doctype html><meta name="pushotp-binding" content="${old}"><title>Verify it's you</title><p>An old login page.</p>` }),
  );
  await stale.goto(`${server.url}/old-login`);
  const number = await pushElsewhere();
  await arrived();
  await showsUnbound(popup);
  await approveWithNumber(popup, number);
  assert.match(await nextApproval(), /\bunbound\b/);
  await settled();
  await Promise.all([earlier.close(), stale.close(), popup.close()]);
  assert.deepEqual(extensionErrors(), []);
});

test('the binding written into the body of another page of the origin does not bind', async () => {
  // A relay's own sign-in: it loaded the login page, so it holds that load's binding, the one
  // its push commits to, and has it written where the site lets users write (a comment).
  const relayed = await signIn(server.url, 'alice', 'alice-demo');
  const html = await (await fetch(`${server.url}/auth`, { headers: { cookie: relayed.cookie } })).text();
  const binding = html.match(/<meta name="pushotp-binding" content="([A-Za-z0-9_-]{22})">/)[1];
  const comments = await browser.context.newPage();
  await comments.route(`${server.url}/comments`, (route) =>
    route.fulfill({
      contentType: 'text/html',
      body: `<!doctype html><title>Comments</title><p>Nice portal!</p><div class="comment"><meta name="pushotp-binding" content="${binding}"></div>`,
    }),
  );
  await comments.goto(`${server.url}/comments`);
  const { status, body } = await relayed.push();
  assert.equal(status, 200, JSON.stringify(body));
  await arrived();
  const popup = await openPopup();
  await showsUnbound(popup);
  await approveWithNumber(popup, String(body.number));
  assert.match(await nextApproval(), /\bunbound\b/);
  await settled();
  await Promise.all([comments.close(), popup.close()]);
  assert.deepEqual(extensionErrors(), []);
});

test('a login tab that navigated away after the push arrived: Approve sends nothing, and the request asks for its number', async () => {
  const login = await browser.context.newPage();
  await passwordStep(login);
  const number = await pushFrom(login);
  const { pending } = await arrived();
  const [id] = Object.keys(pending);
  const popup = await openPopup();
  await popup.getByText('Started in this browser').waitFor();
  // The popup's own look at the tabs is done: what follows is the look of the approval.
  await popup.locator('body[data-refreshed]').waitFor({ state: 'attached' });

  await login.goto(`${server.url}/app/login`);
  await popup.bringToFront();
  await popup.getByRole('button', { name: 'Approve' }).click();
  await showsUnbound(popup);
  await popup.getByText('The sign-in page is no longer open in this browser, so nothing was approved.').waitFor();
  // The popup may cover the number: it says where to look, but names no tab of this browser,
  // since the sign-in page is no longer one of them.
  const where = `The number is on the sign-in page of ${new URL(server.url).host}.`;
  await popup.getByText(where, { exact: true }).waitFor();
  await popup.screenshot({ path: path.join(SCREENSHOTS, 'popup-where-to-look.png') });
  // Nothing went to the server: still waiting there, and no approval audited.
  assert.equal(approvals().length, counted);
  assert.ok((await session(helper)).pending[id]);
  assert.equal((await session(helper)).pending[id].bound, undefined);

  await approveWithNumber(popup, number);
  assert.match(await nextApproval(), /\bunbound\b/);
  await settled();
  await Promise.all([login.close(), popup.close()]);
  assert.deepEqual(extensionErrors(), []);
});

/**
 * "Use my mobile" for the login whose page is framed in `tab`, asked from `tab` (the server's
 * origin) as the login page itself asks: the push commits to the binding of the login's newest
 * page load. Returns the number the login page would show.
 */
async function pushFromPage(tab) {
  const { status, body } = await tab.evaluate(async () => {
    const reply = await fetch('/auth/push', { method: 'POST' });
    return { status: reply.status, body: await reply.json() };
  });
  assert.equal(status, 200, JSON.stringify(body));
  return String(body.number);
}

/**
 * A login of the same person on another device, its page loaded there (a binding this browser
 * never saw) before "Use my mobile": its number.
 */
async function pushElsewhere() {
  const other = await signIn(server.url, 'alice', 'alice-demo');
  const page = await fetch(`${server.url}/auth`, { headers: { cookie: other.cookie } });
  assert.match(await page.text(), /<meta name="pushotp-binding" content="[A-Za-z0-9_-]{22}">/);
  const { status, body } = await other.push();
  assert.equal(status, 200, JSON.stringify(body));
  return String(body.number);
}

test('a popup opened after the login tab navigated away looks again and shows the request unbound', async () => {
  const login = await browser.context.newPage();
  await passwordStep(login);
  await pushFrom(login);
  const { pending } = await arrived();
  assert.ok(Object.values(pending)[0].bound, 'kept as started in this browser');
  await login.goto(`${server.url}/app/login`);
  const popup = await openPopup();
  await showsUnbound(popup);
  assert.equal(Object.values((await session(helper)).pending)[0].bound, undefined);
  await popup.getByRole('button', { name: 'Deny' }).click();
  await popup.getByRole('button', { name: 'No' }).click();
  await settled();
  await Promise.all([login.close(), popup.close()]);
  assert.deepEqual(extensionErrors(), []);
});

test('where only same-browser approvals count, an approval from elsewhere is refused and said so; one from here signs in', async () => {
  // A sign-in of another device: unbound, refused by the server, and no try counted.
  const other = await signIn(strict.url, 'alice', 'alice-demo');
  const pushed = await other.push();
  assert.equal(pushed.status, 200, JSON.stringify(pushed.body));
  await arrived();
  const popup = await openPopup();
  await showsUnbound(popup);
  await popup.getByRole('button', { name: String(pushed.body.number), exact: true }).click();
  await popup.getByRole('button', { name: 'Approve' }).click();
  await popup.getByText('This sign-in must be approved from the browser you are signing in with. Nothing was approved, and no try was counted.').waitFor();
  assert.deepEqual(await other.state(), { state: 'rejected', reason: 'unbound', number: null });
  await settled();

  // The same person signing in in this browser: bound, one press, signed in.
  const login = await browser.context.newPage();
  await passwordStep(login, strict);
  await pushFrom(login);
  await arrived();
  await popup.getByText('Started in this browser').waitFor();
  await popup.getByRole('button', { name: 'Approve' }).click();
  await login.waitForURL(`${strict.url}/app`);
  await login.getByText('You are signed in as').waitFor();
  await settled();
  await Promise.all([login.close(), popup.close()]);
  assert.deepEqual(extensionErrors(), []);
});
