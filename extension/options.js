// SPDX-License-Identifier: MIT OR Apache-2.0
// The options page: adds push tokens from an activation link (pasted, or scanned from the QR
// code in another tab), lists them, manages the everyday (TOTP/HOTP) codes, and holds the
// settings.
//
// Enrollment runs here, not in the service worker: the page redeems the link with the server
// (docs/protocol.md §3), asks for a PIN when the server requires one (§6), and hands the
// finished token to the worker, the only writer of tokens. Settings are saved from here.
import * as tools from './tools.js';
import { Message, ask } from './messages.js';
import { byOrder, otpTokens, pushTokens, saveSettings, settings } from './store.js';
import './security.js';

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

/**
 * What a scan looks for. Push enrollment and everyday codes share the scanning below; each has
 * its own links, messages, buttons and tab choice.
 * @typedef {object} ScanKind
 * @property {(text: string) => boolean} accepts  whether a QR code's text is a link of this kind
 * @property {(tab: object, texts: string[]) => string} wrong  what the tab showed instead
 * @property {string} what               how the messages name the QR code
 * @property {HTMLElement} status        where the messages go
 * @property {HTMLButtonElement} button  the scan button
 * @property {HTMLElement} choice        the tab choice
 * @property {HTMLElement} list          its list of tabs
 * @property {(busy: boolean) => void} setBusy
 * @property {(links: string[]) => unknown} use  what to do with the links found
 */

/** @type {ScanKind} */
const ENROLL_SCAN = {
  accepts: (text) => text.startsWith(ENROLL_PREFIX),
  wrong(tab, texts) {
    if (texts.some((text) => /^otpauth(-migration)?:\/\//i.test(text))) {
      return `The QR code in ${tabLabel(tab)} is for a one-time code app (otpauth://), not a PushOTP activation link. Add it under Everyday codes.`;
    }
    return `The QR code in ${tabLabel(tab)} is not a PushOTP activation link.`;
  },
  what: 'the activation QR code',
  status: addStatus,
  button: scanButton,
  choice: tabChoice,
  list: tabList,
  setBusy: (busy) => setBusy(busy),
  async use([link]) {
    linkInput.value = link;
    await enroll(link);
  },
};

/** What scanning `tab` found: the links of `kind`, or a Problem explaining what was there instead. */
async function linksIn(tab, kind) {
  let texts;
  try {
    texts = await scanTab(tab);
  } catch (err) {
    if (err instanceof Problem) throw err;
    throw new Problem(`The tab ${tabLabel(tab)} could not be captured (${err?.message ?? err}). Bring it to the front of its window and try again.`);
  }
  const links = texts.filter(kind.accepts);
  if (links.length > 0) return links;
  if (texts.length > 0) throw new Problem(kind.wrong(tab, texts));
  return null;
}

function hideTabChoice(kind) {
  kind.choice.hidden = true;
  kind.list.replaceChildren();
}

/** Lets the person pick the tab with the QR code among `tabs`. */
function offerTabs(tabs, message, kind) {
  kind.list.replaceChildren(
    ...tabs.map((tab) => {
      const item = $('tab-template').content.firstElementChild.cloneNode(true);
      const button = item.querySelector('button');
      button.textContent = tabLabel(tab);
      button.addEventListener('click', () => scanChosen(tab, kind));
      return item;
    }),
  );
  kind.choice.hidden = false;
  say(kind.status, message);
  kind.list.querySelector('button')?.focus();
}

async function scanChosen(tab, kind) {
  hideTabChoice(kind);
  kind.setBusy(true);
  say(kind.status, `Looking for the QR code in ${tabLabel(tab)}…`);
  let links = null;
  try {
    links = await linksIn(await chrome.tabs.get(tab.id), kind);
    if (!links) say(kind.status, `No QR code was found in ${tabLabel(tab)}. Scroll the page until the whole QR code is visible, then scan again.`, 'error');
  } catch (err) {
    say(kind.status, err instanceof Problem ? err.message : `The tab could not be scanned: ${err?.message ?? err}`, 'error');
  } finally {
    kind.setBusy(false);
  }
  kind.button.focus();
  if (links) await kind.use(links);
}

/**
 * Finds the QR code: first in the tabs people can see (the front tab of each other window),
 * then in the one web page behind this tab if there is just one; with several, the person
 * picks.
 */
async function scan(kind) {
  hideTabChoice(kind);
  if (kind === ENROLL_SCAN) retryButton.hidden = true;
  kind.setBusy(true);
  say(kind.status, 'Looking for the QR code…');
  let links = null;
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
    // What each tab tried showed instead of a link of this kind.
    const empty = [];
    const found = [];
    const tryTab = async (tab) => {
      try {
        const result = await linksIn(tab, kind);
        if (!result) empty.push(tabLabel(tab));
        return result;
      } catch (err) {
        if (!(err instanceof Problem)) throw err;
        found.push(err.message);
        return null;
      }
    };
    for (const tab of tabs.filter((t) => t.active)) {
      links = await tryTab(tab);
      if (links) break;
    }
    const hidden = tabs.filter((t) => !t.active);
    if (!links && hidden.length === 1) {
      links = await tryTab(hidden[0]);
    }
    if (!links) {
      const missing = empty.length ? `No QR code was found in ${empty.join(', ')}.` : '';
      const summary = [...found, missing].filter(Boolean).join(' ');
      if (hidden.length > 1) {
        offerTabs(hidden, summary || 'Several web pages are open behind this one.', kind);
        offered = true;
      } else {
        throw new Problem(`${summary} Open the page with ${kind.what}, scroll until the whole code is visible, then scan again.`.trim());
      }
    }
  } catch (err) {
    say(kind.status, err instanceof Problem ? err.message : `The QR code could not be scanned: ${err?.message ?? err}`, 'error');
  } finally {
    kind.setBusy(false);
  }
  if (offered) {
    kind.list.querySelector('button')?.focus();
  } else if (links) {
    await kind.use(links);
  }
}

scanButton.addEventListener('click', () => scan(ENROLL_SCAN));
$('tab-choice-cancel').addEventListener('click', () => {
  hideTabChoice(ENROLL_SCAN);
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
    const nameInput = item.querySelector('.token-rename-name');
    nameInput.id = `${key}-name`;
    item.querySelector('.token-rename-label').htmlFor = nameInput.id;
    item.querySelector('.token-rename-start').addEventListener('click', () => startTokenRename(item));
    item.querySelector('.token-rename-save').addEventListener('click', () => saveTokenRename(item));
    item.querySelector('.token-rename-cancel').addEventListener('click', () => endTokenRename(item));
    item.querySelector('.token-rename').addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && event.target === nameInput) {
        event.preventDefault();
        saveTokenRename(item);
      } else if (event.key === 'Escape') {
        event.preventDefault();
        endTokenRename(item);
      }
    });
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
  item.querySelector('.token-rename-start').setAttribute('aria-label', `Rename ${token.tokenName} (${token.user} at ${token.issuer})`);
  return item;
}

function startTokenRename(item) {
  const token = tokensById[item.dataset.tokenId];
  if (!token) return;
  const input = item.querySelector('.token-rename-name');
  input.value = token.tokenName;
  item.querySelector('.token-rename').hidden = false;
  item.querySelector('.token-head').hidden = true;
  item.querySelector('.token-rename-start').hidden = true;
  input.focus();
  input.select();
}

function endTokenRename(item) {
  item.querySelector('.token-rename').hidden = true;
  item.querySelector('.token-head').hidden = false;
  item.querySelector('.token-rename-start').hidden = false;
  item.querySelector('.token-rename-start').focus();
}

async function saveTokenRename(item) {
  const input = item.querySelector('.token-rename-name');
  const name = input.value.trim();
  if (!name) {
    say(tokensStatus, 'Give the token a name.', 'error');
    input.focus();
    return;
  }
  try {
    await ask({ type: Message.TOKEN_RENAME, tokenId: item.dataset.tokenId, name });
    say(tokensStatus, `Renamed to ${name}.`, 'ok');
    endTokenRename(item);
  } catch (err) {
    say(tokensStatus, `The token could not be renamed: ${err.message}`, 'error');
  }
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
// Everyday codes

const otpLinkForm = $('otp-link-form');
const otpLinkInput = $('otp-link');
const otpStatus = $('otp-status');
const otpListStatus = $('otp-list-status');
const otpList = $('otp-tokens');
const otpPreview = $('otp-preview');
const otpManualForm = $('otp-manual-form');

/** What a core error code means for a typed-in or scanned code. */
function otpProblem(err) {
  switch (err?.code) {
    case 'empty_secret':
    case 'missing_secret':
      return 'The secret key is missing.';
    case 'invalid_base32':
      return 'The secret key is not valid: it may only contain the letters A to Z and the digits 2 to 7.';
    case 'too_long':
      return 'The secret key is too long.';
    case 'invalid_digits':
      return 'Codes must have 6 to 10 digits.';
    case 'invalid_period':
      return 'The period must be a whole number of seconds, at least 1.';
    case 'unknown_algorithm':
      return 'The algorithm must be SHA-1, SHA-256 or SHA-512.';
    case 'unknown_token_type':
      return 'The code must be time-based (TOTP) or counter-based (HOTP).';
    case 'missing_counter':
      return 'A counter-based (HOTP) link needs its counter.';
    case 'wrong_scheme':
      return 'This is not a one-time code link. It must start with otpauth:// or otpauth-migration://.';
    case 'malformed_uri':
      return 'This link is damaged: part of it is not as expected. Copy the whole link again.';
    case 'invalid_migration':
      return 'This Google Authenticator export link is damaged. Export the codes again.';
    case 'invalid_parameter':
      return `A value is not valid (${err.message}).`;
    case 'locked':
      return 'PushOTP is locked. Unlock it first, then add the codes again.';
    default:
      return `The code cannot be added (${err?.message ?? err}).`;
  }
}

/** The tokens of one otpauth:// or otpauth-migration:// link (the core's parsers). */
function tokensOf(link) {
  if (/^otpauth-migration:/i.test(link)) return tools.importMigration(link).tokens;
  return [tools.parseUri(link)];
}

const otpName = (token) => [token.issuer, token.account].filter(Boolean).join(' · ') || 'Unnamed code';

function otpKind(token) {
  const algorithm = token.algorithm.replace(/^SHA(\d)/, 'SHA-$1');
  const base = `${token.digits} digits · ${algorithm}`;
  return token.type === 'totp' ? `Time-based · ${base} · every ${token.period} s` : `Counter-based · ${base} · next counter ${token.counter}`;
}

function setOtpBusy(busy) {
  otpLinkForm.setAttribute('aria-busy', String(busy));
  for (const element of [$('otp-link-add'), $('otp-scan'), otpLinkInput]) element.disabled = busy;
}

/** Codes found in a link or a QR code, waiting for "Add all". */
let proposed = [];

function hidePreview() {
  proposed = [];
  otpPreview.hidden = true;
  $('otp-preview-list').replaceChildren();
}

/** Shows the codes that will be added, for the person to add them all or cancel. */
function propose(tokens) {
  proposed = tokens;
  $('otp-preview-label').textContent =
    tokens.length === 1 ? 'This code will be added:' : `These ${tokens.length} codes will be added:`;
  $('otp-preview-list').replaceChildren(
    ...tokens.map((token) => {
      const item = document.createElement('li');
      item.textContent = `${otpName(token)} (${otpKind(token)})`;
      return item;
    }),
  );
  $('otp-preview-add').textContent = tokens.length === 1 ? 'Add it' : `Add all ${tokens.length}`;
  otpPreview.hidden = false;
  say(otpStatus, '');
  $('otp-preview-add').focus();
}

/** Hands tokens to the worker and says what happened. */
async function addOtp(tokens) {
  say(otpStatus, 'Adding…');
  try {
    const { ids, skipped } = await ask({ type: Message.OTP_ADD, tokens });
    const parts = [];
    if (ids.length > 0) parts.push(ids.length === 1 ? 'Added 1 code.' : `Added ${ids.length} codes.`);
    if (skipped.length > 0) {
      parts.push(`Already here, not added again: ${skipped.map(otpName).join(', ')}.`);
    }
    say(otpStatus, parts.join(' '), ids.length > 0 ? 'ok' : 'error');
    return true;
  } catch (err) {
    say(otpStatus, otpProblem(err), 'error');
    return false;
  }
}

/** The codes of several links (from a QR code scan or pasted), or a message saying why not. */
function collect(links) {
  const tokens = [];
  for (const link of links) {
    try {
      tokens.push(...tokensOf(link));
    } catch (err) {
      throw new Problem(otpProblem(err));
    }
  }
  return tokens;
}

otpLinkForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  hidePreview();
  const link = otpLinkInput.value.trim();
  otpLinkInput.removeAttribute('aria-invalid');
  if (link === '') {
    otpLinkInput.setAttribute('aria-invalid', 'true');
    say(otpStatus, 'Paste an otpauth:// link first, or scan its QR code.', 'error');
    otpLinkInput.focus();
    return;
  }
  let tokens;
  try {
    await tools.ready;
    tokens = collect([link]);
  } catch (err) {
    otpLinkInput.setAttribute('aria-invalid', 'true');
    say(otpStatus, err instanceof Problem ? err.message : otpProblem(err), 'error');
    otpLinkInput.focus();
    return;
  }
  if (tokens.length === 0) {
    say(otpStatus, 'This export link holds no codes.', 'error');
  } else if (tokens.length === 1) {
    if (await addOtp(tokens)) otpLinkInput.value = '';
  } else {
    otpLinkInput.value = '';
    propose(tokens);
  }
});

$('otp-preview-add').addEventListener('click', async () => {
  const tokens = proposed;
  hidePreview();
  if (tokens.length > 0) await addOtp(tokens);
  otpLinkInput.focus();
});
$('otp-preview-cancel').addEventListener('click', () => {
  hidePreview();
  say(otpStatus, 'Nothing was added.');
  otpLinkInput.focus();
});

/** @type {ScanKind} */
const OTP_SCAN = {
  accepts: (text) => /^otpauth(-migration)?:\/\//i.test(text),
  wrong(tab, texts) {
    if (texts.some((text) => text.startsWith(ENROLL_PREFIX))) {
      return `The QR code in ${tabLabel(tab)} is a PushOTP activation link: add it under "Add a push token".`;
    }
    return `The QR code in ${tabLabel(tab)} is not a one-time code (otpauth://).`;
  },
  what: 'the one-time code QR code',
  status: otpStatus,
  button: $('otp-scan'),
  choice: $('otp-tab-choice'),
  list: $('otp-tab-list'),
  setBusy: setOtpBusy,
  use(links) {
    try {
      const tokens = collect(links);
      if (tokens.length === 0) say(otpStatus, 'The QR code holds no codes.', 'error');
      else propose(tokens);
    } catch (err) {
      say(otpStatus, err.message, 'error');
    }
  },
};

$('otp-scan').addEventListener('click', () => {
  hidePreview();
  scan(OTP_SCAN);
});
$('otp-tab-choice-cancel').addEventListener('click', () => {
  hideTabChoice(OTP_SCAN);
  say(otpStatus, '');
  $('otp-scan').focus();
});

// Typed in ------------------------------------------------------------------------------------

$('otp-type').addEventListener('change', () => {
  const hotp = $('otp-type').value === 'hotp';
  $('otp-period-field').hidden = hotp;
  $('otp-counter-field').hidden = !hotp;
});

/** The field a core error code is about. */
const FIELD_OF = {
  empty_secret: 'otp-secret',
  missing_secret: 'otp-secret',
  invalid_base32: 'otp-secret',
  too_long: 'otp-secret',
  invalid_digits: 'otp-digits',
  invalid_period: 'otp-period',
};

otpManualForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  for (const input of otpManualForm.querySelectorAll('input')) input.removeAttribute('aria-invalid');
  const invalid = (id, text) => {
    $(id).setAttribute('aria-invalid', 'true');
    say(otpStatus, text, 'error');
    $(id).focus();
  };
  const issuer = $('otp-issuer').value.trim();
  const account = $('otp-account').value.trim();
  if (!issuer && !account) return invalid('otp-issuer', 'Give the code an issuer or an account name, so that you can tell it apart.');
  const type = $('otp-type').value;
  const number = (id) => (/^\d+$/.test($(id).value.trim()) ? Number($(id).value.trim()) : NaN);
  const digits = number('otp-digits');
  if (!Number.isInteger(digits)) return invalid('otp-digits', otpProblem({ code: 'invalid_digits' }));
  const token = { type, issuer, account, secret: $('otp-secret').value, algorithm: $('otp-algorithm').value, digits };
  if (type === 'totp') {
    token.period = number('otp-period');
    if (!Number.isInteger(token.period) || token.period < 1) return invalid('otp-period', otpProblem({ code: 'invalid_period' }));
  } else {
    token.counter = number('otp-counter');
    if (!Number.isSafeInteger(token.counter)) return invalid('otp-counter', 'The counter must be a whole number, 0 or more.');
  }
  let parsed;
  try {
    await tools.ready;
    // The core's own checks and canonical form: the token as a link and back.
    parsed = tools.parseUri(tools.formatUri(token));
  } catch (err) {
    return invalid(FIELD_OF[err?.code] ?? 'otp-secret', otpProblem(err));
  }
  if (await addOtp([parsed])) {
    otpManualForm.reset();
    $('otp-type').dispatchEvent(new Event('change'));
    $('otp-issuer').focus();
  }
});

// The list ------------------------------------------------------------------------------------

/** id → its list item, so that updates keep focus where it is. */
const otpItems = new Map();
let otpOrder = [];
let otpById = {};

function otpItem(token) {
  let item = otpItems.get(token.id);
  if (!item) {
    item = $('otp-template').content.firstElementChild.cloneNode(true);
    const key = `otp-${++itemCount}`;
    item.dataset.id = token.id;
    item.querySelector('.otp-rename-issuer').id = `${key}-issuer`;
    item.querySelector('.otp-rename-issuer-label').htmlFor = `${key}-issuer`;
    item.querySelector('.otp-rename-account').id = `${key}-account`;
    item.querySelector('.otp-rename-account-label').htmlFor = `${key}-account`;
    item.querySelector('.otp-rename-start').addEventListener('click', () => startRename(item));
    item.querySelector('.otp-rename-save').addEventListener('click', () => saveRename(item));
    item.querySelector('.otp-rename-cancel').addEventListener('click', () => endRename(item));
    item.querySelector('.otp-rename').addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && event.target.matches('input')) {
        event.preventDefault();
        saveRename(item);
      } else if (event.key === 'Escape') {
        event.preventDefault();
        endRename(item);
      }
    });
    item.querySelector('.otp-up').addEventListener('click', (event) => queueMove(item.dataset.id, -1, event.currentTarget));
    item.querySelector('.otp-down').addEventListener('click', (event) => queueMove(item.dataset.id, 1, event.currentTarget));
    item.querySelector('.otp-delete').addEventListener('click', (event) => confirmDelete(item.dataset.id, event.currentTarget));
    otpItems.set(token.id, item);
  }
  const name = otpName(token);
  item.querySelector('.otp-issuer').textContent = token.issuer || token.account;
  item.querySelector('.otp-account').textContent = token.issuer ? token.account : '';
  item.querySelector('.otp-kind').textContent = otpKind(token);
  item.querySelector('.otp-sites').textContent = token.sites.length
    ? `Fills into ${token.sites.map(hostOf).join(', ')}`
    : 'Not filled into any site yet.';
  item.querySelector('.otp-rename-start').setAttribute('aria-label', `Rename ${name}`);
  item.querySelector('.otp-up').setAttribute('aria-label', `Move ${name} up`);
  item.querySelector('.otp-down').setAttribute('aria-label', `Move ${name} down`);
  item.querySelector('.otp-delete').setAttribute('aria-label', `Delete ${name}`);
  return item;
}

function renderOtp(tokens) {
  otpById = tokens;
  const list = byOrder(tokens);
  otpOrder = list.map((t) => t.id);
  for (const [id, item] of otpItems) {
    if (!tokens[id]) {
      item.remove();
      otpItems.delete(id);
    }
  }
  const focused = document.activeElement;
  list.forEach((token, index) => {
    const item = otpItem(token);
    if (otpList.children[index] !== item) otpList.insertBefore(item, otpList.children[index] ?? null);
    item.querySelector('.otp-up').disabled = index === 0;
    item.querySelector('.otp-down').disabled = index === list.length - 1;
  });
  // Moving an item in the list drops the focus of its buttons: put it back.
  if (focused?.isConnected && document.activeElement !== focused && !focused.disabled) focused.focus();
  $('no-otp').hidden = list.length > 0;
}

function startRename(item) {
  const token = otpById[item.dataset.id];
  if (!token) return;
  item.querySelector('.otp-rename-issuer').value = token.issuer;
  item.querySelector('.otp-rename-account').value = token.account;
  item.querySelector('.otp-rename').hidden = false;
  item.querySelector('.token-head').hidden = true;
  item.querySelector('.otp-rename-start').hidden = true;
  item.querySelector('.otp-rename-issuer').focus();
}

function endRename(item) {
  item.querySelector('.otp-rename').hidden = true;
  item.querySelector('.token-head').hidden = false;
  item.querySelector('.otp-rename-start').hidden = false;
  item.querySelector('.otp-rename-start').focus();
}

async function saveRename(item) {
  const id = item.dataset.id;
  const issuer = item.querySelector('.otp-rename-issuer').value.trim();
  const account = item.querySelector('.otp-rename-account').value.trim();
  if (!issuer && !account) {
    say(otpListStatus, 'Give the code an issuer or an account name.', 'error');
    item.querySelector('.otp-rename-issuer').focus();
    return;
  }
  try {
    await ask({ type: Message.OTP_RENAME, id, issuer, account });
    say(otpListStatus, `Renamed to ${otpName({ issuer, account })}.`, 'ok');
    endRename(item);
  } catch (err) {
    say(otpListStatus, `The code could not be renamed: ${err.message}`, 'error');
  }
}

// Moves run one after another: each computes the new order from the one before it, so quick
// presses must not start from the same old order.
let moving = Promise.resolve();
function queueMove(id, step, button) {
  moving = moving.then(() => move(id, step, button));
}

async function move(id, step, button) {
  const at = otpOrder.indexOf(id);
  const to = at + step;
  if (at < 0 || to < 0 || to >= otpOrder.length) return;
  const ids = [...otpOrder];
  [ids[at], ids[to]] = [ids[to], ids[at]];
  const token = otpById[id];
  try {
    await ask({ type: Message.OTP_REORDER, ids });
    renderOtp({ ...otpById, ...Object.fromEntries(ids.map((x, order) => [x, { ...otpById[x], order }])) });
    say(otpListStatus, `${otpName(token)} is now number ${to + 1} of ${ids.length}.`, 'ok');
  } catch (err) {
    say(otpListStatus, `The codes could not be reordered: ${err.message}`, 'error');
  }
  // At the top or the bottom its button is disabled: the other one keeps the focus.
  const item = otpItems.get(id);
  const other = item?.querySelector(step < 0 ? '.otp-down' : '.otp-up');
  if (button.disabled) other?.focus();
  else button.focus();
}

function confirmDelete(id, opener) {
  const token = otpById[id];
  if (!token) return;
  const dialog = $('otp-delete-dialog');
  const name = otpName(token);
  $('otp-delete-title').textContent = `Delete ${name}?`;
  $('otp-delete-text').textContent = `Its secret is deleted from this browser. Unless you have it elsewhere, you will need another way to sign in to ${token.issuer || 'its site'}.`;
  const controller = new AbortController();
  const { signal } = controller;
  $('otp-delete-cancel').addEventListener('click', () => dialog.close(), { signal });
  dialog.addEventListener(
    'close',
    () => {
      controller.abort();
      if (opener.isConnected) opener.focus();
      else $('otp-heading').focus();
    },
    { signal },
  );
  $('otp-delete-confirm').addEventListener(
    'click',
    async () => {
      try {
        await ask({ type: Message.OTP_DELETE, id });
        say(otpListStatus, `${name} was deleted.`, 'ok');
      } catch (err) {
        say(otpListStatus, `${name} could not be deleted: ${err.message}`, 'error');
      }
      const item = otpItems.get(id);
      if (item && !otpById[id]) item.remove();
      dialog.close();
    },
    { signal },
  );
  dialog.showModal();
  $('otp-delete-cancel').focus();
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
  if (changes.otpTokens) renderOtp(changes.otpTokens.newValue ?? {});
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
renderOtp(await otpTokens());
linkFromAddress();
document.body.dataset.ready = 'true';
