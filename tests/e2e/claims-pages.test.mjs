// What docs/threat-model.md promises of the extension's pages, in real Chromium with the real
// server: the popup's answer buttons are disabled while an answer is on its way, and a token
// that waits for its PIN is dropped from the worker when the person gives up or closes the page.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchWithExtension, openExtensionPage } from '../support/browser.mjs';
import { enroll, waitForSession } from '../support/extension.mjs';
import { signIn, startServer } from '../support/server.mjs';

let browser;
let matching; // number matching
let pinned; // PIN-protected tokens
let helper; // an extension page for storage reads
before(async () => {
  [browser, matching, pinned] = await Promise.all([launchWithExtension(), startServer(['--deny-cooldown', '0']), startServer(['--require-pin'])]);
  helper = await openExtensionPage(browser, 'options.html');
  await helper.locator('body[data-ready]').waitFor();
});
after(async () => {
  await browser?.close();
  await Promise.all([matching?.stop(), pinned?.stop()]);
});

/**
 * From now on the worker's answers to the server are held until `release`, as a slow network
 * would hold them; `sent` counts those it sent.
 */
async function holdAnswers() {
  await browser.worker.evaluate(() => {
    globalThis.__realFetch ??= globalThis.fetch;
    globalThis.__answers = 0;
    globalThis.__held = new Promise((resolve) => {
      globalThis.__release = resolve;
    });
    globalThis.fetch = async (input, init) => {
      if (new URL(String(input)).pathname === '/api/v1/answers') {
        globalThis.__answers++;
        await globalThis.__held;
      }
      return globalThis.__realFetch(input, init);
    };
  });
  return {
    sent: () => browser.worker.evaluate(() => globalThis.__answers),
    release: () => browser.worker.evaluate(() => globalThis.__release()),
  };
}

/** Checks that every answer button of `popup` is disabled, and a press on them does nothing. */
async function allDisabled(popup) {
  const buttons = [popup.getByRole('button', { name: 'Approve' }), popup.getByRole('button', { name: 'Deny' }), ...(await popup.locator('#numbers button').all())];
  for (const button of buttons) assert.equal(await button.isDisabled(), true, await button.textContent());
}

test('the popup\'s answer buttons are disabled while an answer is on its way', async () => {
  const token = await enroll(helper, matching.link);
  const popup = await openExtensionPage(browser, 'popup.html');
  await popup.setViewportSize({ width: 380, height: 600 });
  const approve = popup.getByRole('button', { name: 'Approve' });
  const deny = popup.getByRole('button', { name: 'Deny' });
  const numbers = popup.locator('#numbers button');
  /** A sign-in whose request the popup shows with its numbers. */
  const shown = async () => {
    const login = await signIn(matching.url, 'alice', 'alice-demo');
    const { body } = await login.push();
    const s = await waitForSession(helper, (x) => Object.values(x.pending ?? {}).some((p) => p.request.tokenId === token.tokenId));
    const id = Object.values(s.pending).find((p) => p.request.tokenId === token.tokenId).request.id;
    await popup.locator(`#request[data-id="${id}"]`).waitFor();
    await numbers.first().waitFor();
    assert.equal(await numbers.count(), 3);
    return { login, number: body.number };
  };
  /** Waits until the worker sent the answer, then checks the buttons while it is held. */
  const whileOnItsWay = async (held, progress) => {
    for (let i = 0; i < 50 && (await held.sent()) === 0; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(await held.sent(), 1);
    await popup.getByText(progress).waitFor();
    await allDisabled(popup);
    // Still so a moment later, after whatever the worker wrote meanwhile (an approval's next
    // HOTP counter) made the popup render again.
    await new Promise((resolve) => setTimeout(resolve, 500));
    await allDisabled(popup);
    // A press on a disabled button answers nothing and asks nothing.
    await approve.click({ force: true });
    await deny.click({ force: true });
    assert.equal(await popup.getByRole('dialog').count(), 0);
    assert.equal(await held.sent(), 1);
  };

  // Approve, with the number.
  let held = await holdAnswers();
  const first = await shown();
  await popup.getByRole('button', { name: String(first.number), exact: true }).click();
  assert.equal(await approve.isEnabled(), true);
  await approve.click();
  await whileOnItsWay(held, 'Sending your answer…');
  assert.equal((await first.login.state()).state, 'waiting');
  await held.release();
  await popup.getByText('Approved. You are being signed in to Demo Portal.').waitFor();
  assert.equal((await first.login.state()).state, 'approved');
  assert.equal(await held.sent(), 1, 'one answer');

  // Deny: nothing is written before it leaves, so only the popup's own step disables the buttons.
  held = await holdAnswers();
  const second = await shown();
  assert.equal(await deny.isEnabled(), true);
  await deny.click();
  await popup.getByRole('dialog', { name: 'Report this as a sign-in you did not make?' }).getByRole('button', { name: 'No' }).click();
  await whileOnItsWay(held, 'Denying…');
  assert.equal((await second.login.state()).state, 'waiting');
  await held.release();
  await popup.locator('#outcomes').getByText(/^Denied\./).waitFor();
  assert.equal((await second.login.state()).state, 'denied');
  assert.equal(await held.sent(), 1, 'one answer');
  await popup.close();
});

/** The enrollments waiting in the worker (session storage), once they are `count`. */
async function waiting(count) {
  const read = async () => (await helper.evaluate(() => chrome.storage.session.get('enrollments'))).enrollments ?? {};
  for (let i = 0; i < 50 && Object.keys(await read()).length !== count; i++) await new Promise((resolve) => setTimeout(resolve, 100));
  return read();
}

/** Opens the options page and adds the PIN token of `link` up to the PIN dialog. */
async function atThePin(link) {
  const page = await openExtensionPage(browser, 'options.html');
  await page.locator('body[data-ready]').waitFor();
  await page.getByLabel('Activation link').fill(link);
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Choose a PIN' });
  await dialog.waitFor();
  assert.equal(Object.keys(await waiting(1)).length, 1, 'the accepted token waits in the worker');
  return { page, dialog };
}

test('a token waiting for its PIN is dropped when the person stops without adding it', async () => {
  const { page, dialog } = await atThePin(pinned.link);
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await dialog.getByRole('button', { name: 'Stop without adding' }).click();
  await page.locator('#add-status.error').waitFor();
  assert.match(await page.locator('#add-status').textContent(), /^Demo Portal was not added, because no PIN was chosen\./);
  // Dropped while the page is still open.
  assert.deepEqual(await waiting(0), {});
  await page.close();
});

test('a token waiting for its PIN is dropped when its page closes', async () => {
  const other = await startServer(['--require-pin']);
  try {
    const { page } = await atThePin(other.link);
    await page.close();
    assert.deepEqual(await waiting(0), {});
    // Nothing was added.
    const { pushTokens = {} } = await helper.evaluate(() => chrome.storage.local.get('pushTokens'));
    assert.equal(Object.values(pushTokens).filter((t) => t.server === other.url).length, 0);
  } finally {
    await other.stop();
  }
});

test('no console errors', () => {
  assert.deepEqual(browser.errors, []);
});
