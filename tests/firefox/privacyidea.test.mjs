// privacyIDEA push tokens in Firefox, against a real privacyIDEA (3.14, from PyPI, on 127.0.0.1:
// tests/support/privacyidea.mjs): enrolled from the privacyIDEA link in the options page
// (Firefox asks for the server's site within the click on Add), a challenge approved in the popup
// (privacyIDEA then accepts the sign-in), another denied (privacyIDEA declines it).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchFirefox } from '../support/firefox.mjs';
import { startPrivacyIdea } from '../support/privacyidea.mjs';

let pi;
let browser;
let skip = false;
let serial;
before(async () => {
  pi = await startPrivacyIdea();
  if (pi.skipped) {
    skip = `privacyIDEA tests skipped: ${pi.skipped}`;
    pi = null;
    return;
  }
  browser = await launchFirefox();
});
after(async () => {
  await browser?.close();
  await pi?.stop();
});

/** A sign-in at privacyIDEA: the user's PIN at /validate/check starts a push challenge. */
async function trigger() {
  const reply = await pi.check('alice', '1234');
  assert.equal(reply.result.authentication, 'CHALLENGE', JSON.stringify(reply));
  return reply.detail.transaction_id;
}

/** The popup in a tab, once the challenge is there (the first poll derives the device key). */
async function popupWithChallenge() {
  const popup = await browser.openExtensionPage('popup.html');
  await popup.until(async () => (await popup.count('#request[data-kind="privacyidea"]:not([hidden])')) === 1, 'the challenge', 90_000);
  return popup;
}

test('enrolls from the privacyIDEA link in the options page', async (t) => {
  if (skip) return t.skip(skip);
  const enrollment = await pi.initPushToken('alice');
  serial = enrollment.serial;
  const options = await browser.openExtensionPage('options.html');
  await options.waitFor('body[data-ready="true"]');
  await options.fill('#pi-link', enrollment.link);
  await options.click('#pi-add');
  await options.waitForText(`Added ${serial} from privacyIDEA.`, 60_000);
  assert.equal(await options.count(`#pi-tokens li[data-serial="${serial}"]`), 1);
  // privacyIDEA has the device's RSA key.
  const info = (await pi.admin('GET', `/token/?serial=${serial}`)).result.value.tokens[0].info;
  assert.match(info.public_key_smartphone.replace(/\s/g, ''), /MIIBIjANBgkqhkiG9w0BAQEF/);
  await options.close();
});

test('approve in the popup: privacyIDEA accepts the sign-in; deny: it declines', async (t) => {
  if (skip) return t.skip(skip);
  const approved = await trigger();
  let popup = await popupWithChallenge();
  await popup.click('#approve');
  await popup.waitForText('Approved. You are being signed in to privacyIDEA test.');
  assert.deepEqual(await pi.pollTransaction(approved), { status: 'accept', value: true });
  assert.equal((await pi.check('alice', '', approved)).result.authentication, 'ACCEPT');
  await popup.close();

  const denied = await trigger();
  popup = await popupWithChallenge();
  await popup.click('#deny');
  await popup.click('#deny-only');
  await popup.waitForText('Denied.');
  assert.equal((await pi.pollTransaction(denied)).status, 'declined');
  await popup.close();
});
