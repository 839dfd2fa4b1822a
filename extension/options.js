// SPDX-License-Identifier: MIT OR Apache-2.0
// The options page: adds push tokens from an activation link (pasted, or scanned from the QR
// code in another tab), lists them, and holds the settings.
//
// Enrollment runs here, not in the service worker: the page redeems the link with the server
// (docs/protocol.md §3), asks for a PIN when the server requires one (§6), and hands the
// finished token to the worker, the only writer of tokens. Settings are saved from here.
import * as tools from './tools.js';
import { Message, ask } from './messages.js';
import { pushTokens, saveSettings, settings } from './store.js';

const $ = (id) => document.getElementById(id);

const form = $('add-form');
const linkInput = $('link');
const deviceInput = $('device-name');
const addButton = $('add');
const scanButton = $('scan');
const addStatus = $('add-status');
const retryButton = $('retry-save');
const tabChoice = $('tab-choice');
const tabList = $('tab-list');
const tokenList = $('tokens');
const tokensStatus = $('tokens-status');
const settingsStatus = $('settings-status');
const pinDialog = $('pin-dialog');
const removeDialog = $('remove-dialog');

const ENROLL_PREFIX = 'pushotp://enroll?';
const SERVER_TIMEOUT_MS = 20_000;
const MAX_IMAGE_SIDE = 8192;

/** A message for a person; `kind` is `error`, `ok` or `''` (progress). */
function say(element, text, kind = '') {
  element.textContent = text;
  element.className = kind ? `status ${kind}` : 'status';
}

/** An error whose message is written for the person, not for developers. */
class Problem extends Error {}

// ---------------------------------------------------------------------------------------------
// Enrollment

/** Why a link cannot be used, from the core's error code. */
function linkProblem(err) {
  switch (err?.code) {
    case 'expired':
      return 'This activation link has expired. Ask your organization for a new one.';
    case 'unsupported_version':
      return 'This activation link is for a newer version of PushOTP. Update the extension, or ask your organization for a link for this version.';
    case 'missing_parameter':
      return 'This activation link is incomplete: part of it is missing. Copy the whole link again.';
    case 'too_long':
      return 'This is too long to be an activation link. Copy only the link that starts with pushotp://enroll?';
    case 'wrong_scheme':
      return 'This is not a PushOTP activation link. It must start with pushotp://enroll?';
    case 'malformed_uri':
    case 'invalid_parameter':
    case 'invalid_base32':
      return 'This activation link is damaged: part of it is not as PushOTP expects. Copy the whole link again.';
    default:
      return `This activation link cannot be used (${err?.message ?? err}).`;
  }
}

/** Whether a device name fits the protocol's text rule (§ field rules). */
function deviceNameProblem(name) {
  if (name === '') return 'Give this browser a name, such as "Chrome on my laptop".';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) return 'The browser name cannot contain control characters.';
  if (new TextEncoder().encode(name).length > 256) return 'The browser name is too long.';
  return null;
}

/** Redeems the link with its server: the server's JSON answer, or a Problem. */
async function redeem(started) {
  const host = new URL(started.server).host;
  let reply;
  try {
    reply = await fetch(`${started.server}/api/v1/enroll`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(started.request),
      credentials: 'omit',
      cache: 'no-store',
      signal: AbortSignal.timeout(SERVER_TIMEOUT_MS),
    });
  } catch (err) {
    if (err?.name === 'TimeoutError') {
      throw new Problem(`The server ${host} did not answer in time. Try again later; the link has not been used.`);
    }
    throw new Problem(`Could not reach the server ${host}. Check your network connection and try again; the link has not been used.`);
  }
  if (reply.status === 401) {
    throw new Problem('This activation link was already used or has expired. Ask your organization for a new one.');
  }
  if (reply.status === 429) {
    throw new Problem(`The server ${host} is getting too many requests. Wait a minute and try again.`);
  }
  if (reply.status >= 500) {
    throw new Problem(`The server ${host} had a problem (error ${reply.status}). Try again later; the link has not been used.`);
  }
  let body = null;
  try {
    body = await reply.json();
  } catch {
    // Not JSON: said below.
  }
  if (!reply.ok) {
    const detail = typeof body?.message === 'string' ? `: ${body.message}` : '';
    throw new Problem(`The server ${host} refused to add the token (error ${reply.status}${detail}).`);
  }
  if (body === null || typeof body !== 'object') {
    throw new Problem(`The address ${host} in the link did not answer as a PushOTP server does.`);
  }
  return body;
}

/** The token of a pending, accepted enrollment that is not yet saved. */
let unsaved = null;

function warnBeforeLeaving(event) {
  event.preventDefault();
}

function holdUnsaved(token) {
  unsaved = token;
  window.addEventListener('beforeunload', warnBeforeLeaving);
}

function releaseUnsaved() {
  unsaved = null;
  window.removeEventListener('beforeunload', warnBeforeLeaving);
}

/** Where the focus was when the form became busy: disabling its controls drops the focus. */
let focusBeforeBusy = null;

function setBusy(busy) {
  if (busy && form.getAttribute('aria-busy') !== 'true') focusBeforeBusy = document.activeElement;
  form.setAttribute('aria-busy', String(busy));
  for (const element of [addButton, scanButton, linkInput, deviceInput]) element.disabled = busy;
  const lost = document.activeElement === document.body || document.activeElement === null;
  if (!busy && lost && focusBeforeBusy?.isConnected) focusBeforeBusy.focus();
}

/**
 * Adds the token of one activation link. Every outcome ends in a message in the add section;
 * once the server has accepted the link, the person is never left without knowing that it is
 * used up.
 */
async function enroll(link) {
  if (unsaved) {
    say(addStatus, `The server already accepted ${unsaved.tokenName}: save it first with "Try saving again", then add the next token.`, 'error');
    retryButton.focus();
    return;
  }
  linkInput.removeAttribute('aria-invalid');
  const deviceName = deviceInput.value.trim();
  const nameProblem = deviceNameProblem(deviceName);
  if (nameProblem) {
    deviceInput.setAttribute('aria-invalid', 'true');
    say(addStatus, nameProblem, 'error');
    deviceInput.focus();
    return;
  }
  if (link === '') {
    linkInput.setAttribute('aria-invalid', 'true');
    say(addStatus, 'Paste an activation link first, or scan its QR code.', 'error');
    linkInput.focus();
    return;
  }
  setBusy(true);
  say(addStatus, 'Adding the token…');
  try {
    await tools.ready;
    let started;
    try {
      started = tools.enrollRequest(link, deviceName, Date.now());
    } catch (err) {
      linkInput.setAttribute('aria-invalid', 'true');
      throw new Problem(linkProblem(err));
    }
    const known = (await pushTokens())[started.tokenId];
    if (known) {
      throw new Problem(`This activation link was already used: its token, ${known.tokenName} for ${known.user} at ${known.issuer}, is already in this browser.`);
    }
    const reply = await redeem(started);
    let token;
    try {
      token = tools.completeEnrollment(link, started.request, reply);
    } catch (err) {
      // The server may have spent the link, but its answer cannot be trusted.
      const why = err?.code === 'bad_tag'
        ? 'its answer did not verify, so it may have been changed on the way'
        : 'its answer was not as the protocol requires';
      throw new Problem(`The server ${new URL(started.server).host} accepted the link, but ${why}. The token was not added, and the link is probably used up: ask your organization for a new one, and use a network you trust.`);
    }
    // From here on the link is spent: the token exists only in this page until it is saved.
    token = { ...token, server: started.server, deviceName };
    holdUnsaved(token);
    if (token.pin.required) {
      const pin = await choosePin(token);
      if (pin === null) {
        releaseUnsaved();
        throw new Problem(`${token.tokenName} was not added, because no PIN was chosen. The activation link is used up now: ask ${token.issuer} for a new one to try again.`);
      }
      say(addStatus, 'Protecting the token with your PIN…');
      // Lets the message paint before the Argon2id work blocks the page for a moment.
      await new Promise((resolve) => setTimeout(resolve, 30));
      const masked = tools.maskKeys(token.keys.otp, token.keys.answer, pin);
      const keys = { ...token.keys };
      delete keys.otp;
      delete keys.answer;
      token = { ...token, keys, masked };
      holdUnsaved(token);
    }
    await save();
    linkInput.value = '';
  } catch (err) {
    let text = err instanceof Problem ? err.message : `The token could not be added: ${err?.message ?? err}.`;
    if (unsaved && !(err instanceof Problem)) {
      // Failed after the server accepted the link, before anything could be saved.
      text += ` The activation link is used up now: ask ${unsaved.issuer} for a new one to try again.`;
      releaseUnsaved();
    }
    say(addStatus, text, 'error');
  } finally {
    setBusy(false);
  }
}

/** Hands the accepted token to the service worker; on failure offers to try again. */
async function save() {
  const token = unsaved;
  try {
    await ask({ type: Message.TOKEN_ADD, token });
  } catch (err) {
    retryButton.hidden = false;
    throw new Problem(`The server accepted ${token.tokenName}, but PushOTP could not save it (${err.message}). Try saving again. If you close this page first, the token is lost and you need a new activation link.`);
  }
  releaseUnsaved();
  retryButton.hidden = true;
  const pin = token.masked ? ' It is protected by your PIN.' : '';
  say(addStatus, `Added ${token.tokenName} for ${token.user} at ${token.issuer}.${pin}`, 'ok');
}

retryButton.addEventListener('click', async () => {
  if (!unsaved) return;
  retryButton.disabled = true;
  say(addStatus, 'Saving the token…');
  try {
    await save();
    linkInput.value = '';
    linkInput.focus();
  } catch (err) {
    say(addStatus, err.message, 'error');
  } finally {
    retryButton.disabled = false;
  }
});

form.addEventListener('submit', (event) => {
  event.preventDefault();
  enroll(linkInput.value.trim());
});

linkInput.addEventListener('input', () => linkInput.removeAttribute('aria-invalid'));

deviceInput.addEventListener('change', async () => {
  const name = deviceInput.value.trim();
  if (deviceNameProblem(name)) return;
  deviceInput.removeAttribute('aria-invalid');
  try {
    await saveSetting('deviceName', name);
  } catch (err) {
    say(addStatus, `The browser name could not be saved: ${err.message}`, 'error');
  }
});

// ---------------------------------------------------------------------------------------------
// PIN

/**
 * Asks the person to choose a PIN for `token`, typed twice. Resolves with the PIN, or with
 * null when they stop (after being told that the link is used up).
 */
function choosePin(token) {
  const pin = $('pin');
  const again = $('pin-again');
  const error = $('pin-error');
  const fields = $('pin-fields');
  const leave = $('pin-leave');
  $('pin-intro').textContent =
    `${token.issuer} protects ${token.tokenName} for ${token.user} with a PIN. You will type it to approve each sign-in. ` +
    `It is never stored or sent anywhere, so if you forget it you need a new activation link; after ${token.pin.maxTries} wrong PINs in a row the token locks.`;
  $('pin-leave-text').textContent =
    `If you stop now, ${token.tokenName} is not added. The server has already used up this activation link, so to try again you need a new one from ${token.issuer}.`;
  pin.value = '';
  again.value = '';
  error.textContent = '';
  fields.hidden = false;
  leave.hidden = true;
  for (const input of [pin, again]) input.removeAttribute('aria-invalid');

  return new Promise((resolve) => {
    const controller = new AbortController();
    const { signal } = controller;
    const finish = (value) => {
      controller.abort();
      pin.value = '';
      again.value = '';
      if (pinDialog.open) pinDialog.close();
      resolve(value);
    };
    const askToLeave = () => {
      fields.hidden = true;
      leave.hidden = false;
      $('pin-back').focus();
    };
    const back = () => {
      leave.hidden = true;
      fields.hidden = false;
      pin.focus();
    };
    const invalid = (input, text) => {
      input.setAttribute('aria-invalid', 'true');
      error.textContent = text;
      input.focus();
    };
    for (const input of [pin, again]) {
      input.addEventListener(
        'input',
        () => {
          // Digits only: anything else is dropped as it is typed or pasted.
          const digits = input.value.replace(/\D/g, '').slice(0, 8);
          if (digits !== input.value) input.value = digits;
          input.removeAttribute('aria-invalid');
        },
        { signal },
      );
    }
    $('pin-form').addEventListener(
      'submit',
      (event) => {
        event.preventDefault();
        if (!leave.hidden) return;
        for (const input of [pin, again]) input.removeAttribute('aria-invalid');
        if (!/^\d{4,8}$/.test(pin.value)) {
          invalid(pin, 'The PIN must be 4 to 8 digits.');
        } else if (again.value !== pin.value) {
          again.value = '';
          invalid(again, 'The two PINs are not the same. Type the PIN again.');
        } else {
          finish(pin.value);
        }
      },
      { signal },
    );
    $('pin-cancel').addEventListener('click', askToLeave, { signal });
    $('pin-back').addEventListener('click', back, { signal });
    $('pin-stop').addEventListener('click', () => finish(null), { signal });
    // Escape asks first, as Cancel does; Escape on the warning stops, as the browser closes a
    // dialog anyway when Escape comes twice in a row.
    pinDialog.addEventListener(
      'cancel',
      (event) => {
        if (leave.hidden) {
          event.preventDefault();
          askToLeave();
        }
      },
      { signal },
    );
    pinDialog.addEventListener('close', () => finish(null), { signal });
    pinDialog.showModal();
    pin.focus();
  });
}

// ---------------------------------------------------------------------------------------------
// Scanning the QR code in another tab

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function isWebPage(tab) {
  return /^https?:\/\//.test(tab.url ?? '');
}

export function tabLabel(tab) {
  let host = '';
  try {
    host = new URL(tab.url).host;
  } catch {
    // A tab without a readable address is labelled by its title only.
  }
  const title = tab.title?.trim() || host || 'Untitled tab';
  return host && title !== host ? `${title} (${host})` : title;
}

function dataUrlToBlob(dataUrl) {
  const [head, data] = dataUrl.split(',', 2);
  const type = /^data:([^;,]+)/.exec(head)?.[1] ?? 'image/png';
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  return new Blob([bytes], { type });
}

/** The texts of every QR code in a screenshot. */
async function decodeScreenshot(dataUrl) {
  const bitmap = await createImageBitmap(dataUrlToBlob(dataUrl));
  // The core reads images up to 8192 pixels a side; larger screens are scaled down to that.
  const scale = Math.min(1, MAX_IMAGE_SIDE / Math.max(bitmap.width, bitmap.height));
  const width = Math.floor(bitmap.width * scale);
  const height = Math.floor(bitmap.height * scale);
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d', { willReadFrequently: true });
  context.drawImage(bitmap, 0, 0, width, height);
  bitmap.close();
  const image = context.getImageData(0, 0, canvas.width, canvas.height);
  try {
    return tools.decodeQr(image.data, image.width, image.height);
  } catch (err) {
    throw new Problem(`The picture of the tab could not be read (${err?.code ?? err?.message ?? err}).`);
  }
}

/** A screenshot of a window's visible tab; browsers allow only a few per second. */
async function capture(windowId) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await chrome.tabs.captureVisibleTab(windowId, { format: 'png' });
    } catch (err) {
      if (attempt >= 2 || !/MAX_CAPTURE|quota|rate/i.test(String(err?.message))) throw err;
      await sleep(600);
    }
  }
}

/**
 * Reads the QR codes shown in `tab`. A tab hidden behind another one is brought to the front
 * for the screenshot, and the tab that was in front is brought back afterwards.
 */
export async function scanTab(tab) {
  await tools.ready;
  let front = null;
  if (!tab.active) {
    [front] = await chrome.tabs.query({ active: true, windowId: tab.windowId });
    await chrome.tabs.update(tab.id, { active: true });
  }
  try {
    // A tab just brought to the front may not have painted yet: look twice before giving up.
    for (let attempt = 0; attempt < (front ? 3 : 1); attempt++) {
      if (front) await sleep(attempt === 0 ? 150 : 500);
      const texts = await decodeScreenshot(await capture(tab.windowId));
      if (texts.length > 0 || attempt === 2) return texts;
    }
    return [];
  } finally {
    if (front) await chrome.tabs.update(front.id, { active: true }).catch(() => {});
  }
}

/** What scanning `tab` found, as a link or a Problem explaining what was there instead. */
async function linkIn(tab) {
  let texts;
  try {
    texts = await scanTab(tab);
  } catch (err) {
    if (err instanceof Problem) throw err;
    throw new Problem(`The tab ${tabLabel(tab)} could not be captured (${err?.message ?? err}). Bring it to the front of its window and try again.`);
  }
  const link = texts.find((text) => text.startsWith(ENROLL_PREFIX));
  if (link) return link;
  if (texts.some((text) => /^otpauth(-migration)?:\/\//i.test(text))) {
    throw new Problem(`The QR code in ${tabLabel(tab)} is for a one-time code app (otpauth://), not a PushOTP activation link.`);
  }
  if (texts.length > 0) {
    throw new Problem(`The QR code in ${tabLabel(tab)} is not a PushOTP activation link.`);
  }
  return null;
}

function hideTabChoice() {
  tabChoice.hidden = true;
  tabList.replaceChildren();
}

/** Lets the person pick the tab with the QR code among `tabs`. */
function offerTabs(tabs, message) {
  tabList.replaceChildren(
    ...tabs.map((tab) => {
      const item = $('tab-template').content.firstElementChild.cloneNode(true);
      const button = item.querySelector('button');
      button.textContent = tabLabel(tab);
      button.addEventListener('click', () => scanChosen(tab));
      return item;
    }),
  );
  tabChoice.hidden = false;
  say(addStatus, message);
  tabList.querySelector('button')?.focus();
}

async function scanChosen(tab) {
  hideTabChoice();
  setBusy(true);
  say(addStatus, `Looking for the QR code in ${tabLabel(tab)}…`);
  let link = null;
  try {
    link = await linkIn(await chrome.tabs.get(tab.id));
    if (!link) say(addStatus, `No QR code was found in ${tabLabel(tab)}. Scroll the page until the whole QR code is visible, then scan again.`, 'error');
  } catch (err) {
    say(addStatus, err instanceof Problem ? err.message : `The tab could not be scanned: ${err?.message ?? err}`, 'error');
  } finally {
    setBusy(false);
  }
  scanButton.focus();
  if (link) {
    linkInput.value = link;
    await enroll(link);
  }
}

/**
 * Finds the activation QR code: first in the tabs people can see (the front tab of each other
 * window), then in the one web page behind this tab if there is just one; with several, the
 * person picks.
 */
async function scan() {
  hideTabChoice();
  retryButton.hidden = true;
  setBusy(true);
  say(addStatus, 'Looking for the QR code…');
  let link = null;
  let offered = false;
  try {
    await tools.ready;
    const self = await chrome.tabs.getCurrent();
    const tabs = (await chrome.tabs.query({ windowType: 'normal' }))
      .filter((tab) => tab.id !== self?.id && isWebPage(tab))
      .sort((a, b) => (b.lastAccessed ?? 0) - (a.lastAccessed ?? 0));
    if (tabs.length === 0) {
      throw new Problem('No web page is open. Open the page with the QR code in another tab, then scan again.');
    }
    // What each tab tried showed instead of an activation link.
    const empty = [];
    const found = [];
    const tryTab = async (tab) => {
      try {
        const result = await linkIn(tab);
        if (!result) empty.push(tabLabel(tab));
        return result;
      } catch (err) {
        if (!(err instanceof Problem)) throw err;
        found.push(err.message);
        return null;
      }
    };
    for (const tab of tabs.filter((t) => t.active)) {
      link = await tryTab(tab);
      if (link) break;
    }
    const hidden = tabs.filter((t) => !t.active);
    if (!link && hidden.length === 1) {
      link = await tryTab(hidden[0]);
    }
    if (!link) {
      const missing = empty.length ? `No QR code was found in ${empty.join(', ')}.` : '';
      const summary = [...found, missing].filter(Boolean).join(' ');
      if (hidden.length > 1) {
        offerTabs(hidden, summary || 'Several web pages are open behind this one.');
        offered = true;
      } else {
        throw new Problem(`${summary} Open the page with the activation QR code, scroll until the whole code is visible, then scan again.`.trim());
      }
    }
  } catch (err) {
    say(addStatus, err instanceof Problem ? err.message : `The QR code could not be scanned: ${err?.message ?? err}`, 'error');
  } finally {
    setBusy(false);
  }
  if (offered) {
    tabList.querySelector('button')?.focus();
  } else if (link) {
    linkInput.value = link;
    await enroll(link);
  }
}

scanButton.addEventListener('click', scan);
$('tab-choice-cancel').addEventListener('click', () => {
  hideTabChoice();
  say(addStatus, '');
  scanButton.focus();
});

// ---------------------------------------------------------------------------------------------
// Token list

/** tokenId → its list item, so that updates keep focus where it is. */
const items = new Map();
let tokensById = {};
let itemCount = 0;

function tokenItem(token) {
  let item = items.get(token.tokenId);
  if (!item) {
    item = $('token-template').content.firstElementChild.cloneNode(true);
    const key = `token-${++itemCount}`;
    item.dataset.tokenId = token.tokenId;
    const toggle = item.querySelector('.token-enabled');
    toggle.id = `${key}-enabled`;
    item.querySelector('.token-enabled-label').htmlFor = toggle.id;
    toggle.addEventListener('change', () => setEnabled(item.dataset.tokenId, toggle));
    item.querySelector('.token-remove').addEventListener('click', (event) => confirmRemove(item.dataset.tokenId, event.currentTarget));
    items.set(token.tokenId, item);
  }
  item.querySelector('.token-name').textContent = token.tokenName;
  item.querySelector('.badge').hidden = !token.masked && !token.pin?.required;
  item.querySelector('.token-user').textContent = token.user;
  item.querySelector('.token-issuer').textContent = token.issuer;
  item.querySelector('.token-server').textContent = token.server;
  item.querySelector('.token-device').textContent = token.deviceName;
  item.querySelector('.token-for').textContent = ` for ${token.tokenName} (${token.user} at ${token.issuer})`;
  const toggle = item.querySelector('.token-enabled');
  if (!toggle.disabled) toggle.checked = token.enabled !== false;
  item.querySelector('.token-remove').setAttribute('aria-label', `Remove ${token.tokenName} (${token.user} at ${token.issuer})`);
  return item;
}

function renderTokens(tokens) {
  tokensById = tokens;
  const list = Object.values(tokens).sort((a, b) => (a.addedAt ?? 0) - (b.addedAt ?? 0));
  for (const [id, item] of items) {
    if (!tokens[id]) {
      item.remove();
      items.delete(id);
    }
  }
  list.forEach((token, index) => {
    const item = tokenItem(token);
    if (tokenList.children[index] !== item) tokenList.insertBefore(item, tokenList.children[index] ?? null);
  });
  $('no-tokens').hidden = list.length > 0;
}

async function setEnabled(tokenId, toggle) {
  const enabled = toggle.checked;
  const token = tokensById[tokenId];
  const hadFocus = document.activeElement === toggle;
  toggle.disabled = true;
  try {
    await ask({ type: Message.TOKEN_ENABLE, tokenId, enabled });
    say(tokensStatus, `Push requests ${enabled ? 'on' : 'off'} for ${token?.tokenName ?? 'the token'}.`, 'ok');
  } catch (err) {
    toggle.checked = !enabled;
    say(tokensStatus, `Push requests for ${token?.tokenName ?? 'the token'} could not be turned ${enabled ? 'on' : 'off'}: ${err.message}`, 'error');
  } finally {
    toggle.disabled = false;
    if (hadFocus) toggle.focus();
  }
}

/** Counts the times the removal dialog was opened. */
let removals = 0;

function confirmRemove(tokenId, opener) {
  const token = tokensById[tokenId];
  if (!token) return;
  $('remove-title').textContent = `Remove ${token.tokenName}?`;
  $('remove-text').textContent = `You will no longer be able to approve sign-ins for ${token.user} at ${token.issuer} with this browser.`;
  const confirm = $('remove-confirm');
  const cancel = $('remove-cancel');
  const controller = new AbortController();
  const { signal } = controller;
  const session = ++removals;
  const done = () => {
    controller.abort();
    // Closed already (Escape) and perhaps opened again for another token: leave that one be.
    if (session !== removals) return;
    confirm.disabled = false;
    cancel.disabled = false;
    removeDialog.close();
  };
  cancel.addEventListener('click', () => {
    done();
    opener.focus();
  }, { signal });
  // Escape closes the dialog by itself (and focus goes back to the Remove button): the
  // listeners of this token go with it.
  removeDialog.addEventListener('close', () => controller.abort(), { signal });
  confirm.addEventListener('click', async () => {
    confirm.disabled = true;
    cancel.disabled = true;
    say(tokensStatus, `Removing ${token.tokenName}…`);
    let text;
    let kind = 'ok';
    try {
      const reply = await ask({ type: Message.TOKEN_REMOVE, tokenId });
      text = reply.serverNotified
        ? `${token.tokenName} was removed, and its server ${hostOf(token.server)} revoked it.`
        : `${token.tokenName} was removed from this browser, but its server ${hostOf(token.server)} could not be told. Ask ${token.issuer} to revoke the token for ${token.user}.`;
      if (!reply.serverNotified) kind = 'error';
    } catch (err) {
      text = `${token.tokenName} could not be removed: ${err.message}`;
      kind = 'error';
    }
    done();
    say(tokensStatus, text, kind);
    // The button that opened the dialog is gone when the token is: focus goes to the list.
    if (opener.isConnected) opener.focus();
    else $('tokens-heading').focus();
  }, { signal });
  removeDialog.showModal();
  cancel.focus();
}

function hostOf(url) {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

// ---------------------------------------------------------------------------------------------
// Settings

const switches = [...document.querySelectorAll('input[data-setting]')];

/** Settings changed here and not yet written: storage news must not flip them back meanwhile. */
const unwritten = new Map();
let writes = Promise.resolve();

/**
 * Saves one setting. Writes go one after the other: saveSettings reads, changes and writes the
 * whole object, so two at once could lose one.
 */
function saveSetting(name, value) {
  unwritten.set(name, (unwritten.get(name) ?? 0) + 1);
  const write = writes.then(() => saveSettings({ [name]: value }));
  writes = write.catch(() => {});
  return write.finally(() => {
    const left = unwritten.get(name) - 1;
    if (left > 0) unwritten.set(name, left);
    else unwritten.delete(name);
  });
}

/** What depends on other switches: buttons on a notification need the notification. */
function renderDependents() {
  $('approveFromNotification').disabled = !$('notifications').checked;
  $('paused').hidden = $('pushEnabled').checked;
}

function renderSettings(current) {
  for (const input of switches) {
    if (!unwritten.has(input.dataset.setting)) input.checked = Boolean(current[input.dataset.setting]);
  }
  renderDependents();
  if (document.activeElement !== deviceInput && !unwritten.has('deviceName')) {
    deviceInput.value = current.deviceName;
  }
}

for (const input of switches) {
  input.addEventListener('change', async () => {
    const name = input.dataset.setting;
    const label = input.labels[0].textContent;
    const value = input.checked;
    renderDependents();
    try {
      await saveSetting(name, value);
      say(settingsStatus, `${label}: ${value ? 'on' : 'off'}. Saved.`, 'ok');
    } catch (err) {
      input.checked = !value;
      renderDependents();
      say(settingsStatus, `${label} could not be saved: ${err.message}`, 'error');
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Start

chrome.storage.onChanged.addListener(async (changes, area) => {
  if (area !== 'local') return;
  if (changes.pushTokens) renderTokens(changes.pushTokens.newValue ?? {});
  if (changes.settings) renderSettings(await settings());
});

tools.ready.catch((err) => {
  say(addStatus, `PushOTP could not load its enrollment tools: ${err.message}`, 'error');
  addButton.disabled = true;
  scanButton.disabled = true;
});

/**
 * A link handed over in the address (`options.html#enroll=<link, percent-encoded>`, as the demo
 * command opens the page) is filled in for the person to add; it leaves the address at once, so
 * that the secret is not kept in the tab's history.
 */
function linkFromAddress() {
  const match = /^#enroll=(.+)$/.exec(location.hash);
  if (!match) return;
  history.replaceState(null, '', location.pathname);
  try {
    linkInput.value = decodeURIComponent(match[1]);
  } catch {
    return;
  }
  say(addStatus, 'An activation link was filled in. Check the name of this browser, then press Add.');
  addButton.focus();
}

renderSettings(await settings());
renderTokens(await pushTokens());
linkFromAddress();
document.body.dataset.ready = 'true';
