// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// The service worker. Listeners are registered synchronously at the top level so that the
// browser can wake the worker for them; work that needs the core awaits `ready`. Every message
// is one of messages.js; this is where each is dispatched to the module that owns it.
import * as access from './access.js';
import { ready, totp, hotp } from './core.js';
import { FromPage, Message, failure } from './messages.js';
import * as channel from './channel.js';
import * as enrollment from './enroll.js';
import * as otp from './otp.js';
import { onPageMessage } from './page.js';
import * as inbox from './inbox.js';
import * as notices from './notices.js';
import * as privacyidea from './privacyidea.js';
import * as pushTokenStore from './push-tokens.js';
import { closeToContentScripts, onChanged, pushTokens, settleInstall } from './store.js';
import * as vault from './vault.js';
import { checkPushToken, toolsReady } from './worker-tools.js';

const warn = (err) => console.warn(`PushOTP: ${err.message}`);

// First of all, storage is closed to the content scripts of web pages (store.js). Chromium keeps
// that in the profile, but not before the worker first ran: at the install, what a page wrote
// until then is cleared before the worker reads or writes local storage (`settleInstall`).
closeToContentScripts().catch(warn);
/** @type {(reason: string) => void} */
let installReason = () => {};
settleInstall(new Promise((resolve) => (installReason = resolve)));
chrome.runtime.onInstalled.addListener(({ reason }) => {
  installReason(reason);
  // Access to a site that no token uses (left by an earlier version) goes back.
  access.sync({ release: 'unused' }).catch(warn);
});

/**
 * Answers one message. The extension's own pages may ask anything below; content scripts only
 * the page questions of page.js; other extensions nothing. Unknown types are refused.
 * @param {import('./messages.js').ToWorker} message
 * @param {chrome.runtime.MessageSender} sender
 * @returns {Promise<{ok: boolean, [key: string]: unknown}>}
 */
async function onMessage(message, sender) {
  if (sender.id !== chrome.runtime.id) return failure({ code: 'forbidden', message: 'not this extension' });
  if (!isExtensionPage(sender)) {
    // Content scripts may ask only about their own page (page.js).
    const fromPage = /** @type {import('./messages.js').FromContent} */ (/** @type {unknown} */ (message));
    if (Object.values(FromPage).includes(fromPage?.type)) return onPageMessage(fromPage, sender, otp.currentCode);
    return failure({ code: 'forbidden', message: 'not an extension page' });
  }
  switch (message?.type) {
    case Message.CODE_REQUEST: {
      await ready;
      const { token, at } = message;
      const code = token?.type === 'hotp' ? hotp(token, token.counter ?? 0) : totp(token, at ?? Date.now());
      return { ok: true, code };
    }
    case Message.TOKEN_ADD:
      await addToken(message.token);
      return { ok: true };
    case Message.TOKEN_ENROLL:
      return { ok: true, ...(await enrollment.start(message.link, message.deviceName, addToken)) };
    case Message.TOKEN_ENROLL_FINISH:
      return { ok: true, ...(await enrollment.finish(message.enrollment, message.pin ?? null, addToken)) };
    case Message.TOKEN_ENROLL_CANCEL:
      await enrollment.cancel(message.enrollment, channel.removeAtServer);
      return { ok: true };
    case Message.TOKEN_ENABLE:
      await pushTokenStore.updateToken(message.tokenId, (t) => ({ ...t, enabled: Boolean(message.enabled) }));
      return { ok: true };
    case Message.TOKEN_RENAME: {
      const name = typeof message.name === 'string' ? message.name.trim() : '';
      if (!name || name.length > 64) return failure({ code: 'invalid_name', message: 'A name has 1 to 64 characters.' });
      await pushTokenStore.updateToken(message.tokenId, (t) => ({ ...t, tokenName: name }));
      return { ok: true };
    }
    case Message.TOKEN_CONFIRM_SITE:
      await pushTokenStore.confirmSite(message.tokenId, message.origin);
      return { ok: true };
    case Message.TOKEN_REMOVE: {
      const token = (await pushTokens())[message.tokenId];
      if (!token) return failure({ code: 'unknown_token', message: 'No such token.' });
      // A token restored in another browser lives on there: only this copy goes.
      const told = token.restoredElsewhereAt ? 'restored_elsewhere' : await channel.removeAtServer(token);
      await pushTokenStore.forgetToken(message.tokenId);
      return { ok: true, serverNotified: told === 'removed', restoredElsewhere: told === 'restored_elsewhere' };
    }
    case Message.REQUEST_ANSWER:
      return { ok: true, outcome: await inbox.answer(message) };
    case Message.REQUESTS_REFRESH:
      privacyidea.pollOften();
      await Promise.all([channel.sync(), channel.poll(), privacyidea.poll(), inbox.expire()]);
      // Where each waiting request started, as the tabs are now.
      await inbox.relocate();
      return { ok: true };
    case Message.PI_ENROLL:
      return { ok: true, token: await privacyidea.enroll(message.link, message.pin) };
    case Message.PI_REMOVE:
      await privacyidea.remove(message.serial);
      return { ok: true };
    case Message.PI_RESUME:
      await privacyidea.resume(message.serial, message.pin);
      return { ok: true };
    case Message.PI_FILL:
      return { ok: true, ...(await privacyidea.fill(message)) };
    case Message.OUTCOME_DISMISS:
      await inbox.dismiss(message.requestId);
      return { ok: true };
    case Message.OTP_ADD:
      return { ok: true, ...(await otp.add(message.tokens)) };
    case Message.OTP_RENAME:
      await otp.rename(message.id, message.issuer, message.account);
      return { ok: true };
    case Message.OTP_REORDER:
      await otp.reorder(message.ids);
      return { ok: true };
    case Message.OTP_DELETE:
      await otp.remove(message.id);
      return { ok: true };
    case Message.OTP_CODES:
      return { ok: true, codes: await otp.codes(message.at ?? Date.now()) };
    case Message.OTP_NEXT:
      return { ok: true, code: await otp.next(message.id) };
    case Message.OTP_FILL:
      return { ok: true, ...(await otp.fill(message.id, message.tabId, message.confirmSite === true, message.origin ?? null)) };
    case Message.VAULT_STATUS:
      return { ok: true, ...(await vault.status()) };
    case Message.VAULT_UNLOCK:
      await vault.unlock(message.key);
      return { ok: true };
    case Message.VAULT_LOCK:
      await vault.lock();
      return { ok: true };
    case Message.VAULT_SET_PASSWORD:
      await vault.setPassword(message.key, message.kdf);
      return { ok: true };
    case Message.VAULT_REMOVE_PASSWORD:
      await vault.removePassword();
      return { ok: true };
    case Message.VAULT_EXPORT:
      return { ok: true, file: await vault.exportFile(message.key, message.kdf) };
    case Message.VAULT_IMPORT:
      return { ok: true, ...(await vault.importFile(message.file, message.key)) };
    case Message.SITES_LIST:
      return { ok: true, sites: await access.list() };
    case Message.SITE_REMOVE:
      return { ok: true, removed: await access.forgetSite(message.origin) };
    default:
      return failure({ code: 'unknown_message', message: `unknown message type ${/** @type {any} */ (message)?.type}` });
  }
}

/** @param {chrome.runtime.MessageSender} sender */
function isExtensionPage(sender) {
  return typeof sender.url === 'string' && sender.url.startsWith(chrome.runtime.getURL(''));
}

/**
 * Keeps an enrolled token once the core checked its shape (`checkPushToken`, which throws
 * `invalid_token`); the core made its keys.
 * @param {any} token
 */
async function addToken(token) {
  await toolsReady();
  checkPushToken(token);
  await pushTokenStore.addToken({ ...token, enabled: true, addedAt: Date.now() });
}

chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
  onMessage(message, sender).then(sendResponse, (err) => sendResponse(failure(err)));
  // Keeps the channel open for the asynchronous reply.
  return true;
});

// With this listener the browser starts the worker when it starts: the channels revive (below)
// and storage is closed to content scripts again, in case the profile lost the level it kept.
chrome.runtime.onStartup.addListener(() => {
  access.sync({ release: 'unused' }).catch(warn);
});

// A site granted or taken back, on an extension page or in the browser's own settings: the
// content scripts follow.
chrome.permissions.onAdded.addListener(() => access.sync().catch(warn));
chrome.permissions.onRemoved.addListener(() => access.sync().catch(warn));

chrome.alarms.onAlarm.addListener((alarm) => {
  if (alarm.name === channel.WATCHDOG_ALARM) {
    channel.sync().catch(warn);
    privacyidea.poll().catch(warn);
    inbox.expire().catch(warn);
    enrollment.sweep().catch(warn);
  }
  if (alarm.name === vault.LOCK_ALARM) vault.lockIfDue().catch(warn);
});

chrome.notifications.onButtonClicked.addListener((id, index) => {
  inbox.onNotificationButton(id, index).catch(warn);
});
chrome.notifications.onClicked.addListener((id) => {
  inbox.onNotificationClicked(id).catch(warn);
  notices.onNotificationClicked(id).catch(warn);
});

onChanged((changes, area) => {
  if (area === 'local' && (changes.pushTokens || changes.settings)) {
    channel.sync().catch(warn);
    channel.registerWebPush().catch(warn);
  }
});

// The content scripts follow the tokens; a site no token uses any more is given back.
onChanged((changes, area) => {
  if (area === 'local' && (changes.pushTokens || changes.otpTokens || changes.piTokens)) access.sync({ release: access.dropped(changes) }).catch(warn);
});

// A new auto-lock time counts from now.
onChanged((changes, area) => {
  const change = area === 'local' && changes.settings;
  if (change && change.newValue?.autoLockMinutes !== change.oldValue?.autoLockMinutes) vault.touch().catch(warn);
});

// A Web Push message carries the same `{ type: 'push', request }`, `{ type: 'ended', ended }` or
// `{ type: 'notice', notice }` as the socket.
self.addEventListener('push', (/** @type {any} */ event) => {
  let message = null;
  try {
    message = event.data?.json();
  } catch {
    console.warn('PushOTP: dropped a push message that is not JSON');
  }
  // Whose it is, only its tag shows (channel.js `webPushServers`).
  const from = channel.webPushServers();
  if (message?.type === 'push') event.waitUntil(from.then((servers) => inbox.receive('push', [message.request], { via: 'webpush', servers })));
  if (message?.type === 'ended') event.waitUntil(from.then((servers) => inbox.end('push', [message.ended], { via: 'webpush', servers })));
  if (message?.type === 'notice') event.waitUntil(from.then((servers) => notices.receive([message.notice], servers)));
});

// Everything the notification buttons do, reachable from the worker's console (and tests):
// the same functions the listeners above call.
globalThis.pushotp = Object.freeze({
  onNotificationButton: inbox.onNotificationButton,
  onNotificationClicked: inbox.onNotificationClicked,
  lockIfDue: vault.lockIfDue,
});

// Each start of the worker (install, browser start, alarm, push, message) revives the channels
// and fetches what was sent while it slept.
channel.ensureWatchdog().catch(warn);
access.sync().catch(warn);
channel.sync().catch(warn);
channel.poll().catch(warn);
privacyidea.poll().catch(warn);
inbox.expire().catch(warn);
channel.registerWebPush().catch(warn);
vault.lockIfDue().catch(warn);
pushTokenStore.migrateKeys().catch(warn);
privacyidea.forgetEarlierForms().catch(warn);
enrollment.sweep().catch(warn);
