// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// Reading a QR code from another tab, for every section that adds tokens from one: a screenshot
// of the tab (brought to the front for it when it is hidden), the core's QR decoder, and the
// choice of tab when several could hold the code. Each section says what it looks for (ScanKind).
import * as tools from '../tools.js';
import { Problem, fromTemplate, say } from './common.js';

/** @typedef {chrome.tabs.Tab} Tab */

/** How push activation links start (docs/protocol.md §3). */
export const ENROLL_PREFIX = 'pushotp://enroll?';
/** How the links of ordinary one-time codes start, single or a Google Authenticator export. */
export const OTPAUTH = /^otpauth(-migration)?:\/\//i;

const MAX_IMAGE_SIDE = 8192;

const sleep = (/** @type {number} */ ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Why no tab could be looked at: PushOTP may read another tab's address and picture only after
 * the person clicked its toolbar button on that tab (`activeTab`), or on a site it holds.
 */
const CLICK_FIRST = 'PushOTP looks only at a tab you clicked its toolbar button on: go to the tab with the QR code, click the PushOTP button in the toolbar, then scan again here.';

/** @param {Tab} tab */
export function isWebPage(tab) {
  return /^https?:\/\//.test(tab.url ?? '');
}

/** @param {Tab} tab */
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

/** @param {string} dataUrl */
function dataUrlToBlob(dataUrl) {
  const [head, data] = dataUrl.split(',', 2);
  const type = /^data:([^;,]+)/.exec(head)?.[1] ?? 'image/png';
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  return new Blob([bytes], { type });
}

/**
 * The texts of every QR code in a screenshot.
 * @param {string} dataUrl
 * @returns {Promise<string[]>}
 */
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
  // The core takes the RGBA bytes as a Uint8Array: a view of the same bytes, not a copy.
  const rgba = new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  try {
    return tools.decodeQr(rgba, image.width, image.height);
  } catch (err) {
    throw new Problem(`The picture of the tab could not be read (${err?.code ?? err?.message ?? err}).`);
  }
}

/**
 * A screenshot of a window's visible tab; browsers allow only a few per second.
 * @param {number} windowId
 */
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
 * @param {Tab} tab
 * @returns {Promise<string[]>}
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
 * @property {(tab: Tab, texts: string[]) => string} wrong  what the tab showed instead
 * @property {string} what               how the messages name the QR code
 * @property {HTMLElement} status        where the messages go
 * @property {HTMLButtonElement} button  the scan button
 * @property {HTMLElement} choice        the tab choice
 * @property {HTMLElement} list          its list of tabs
 * @property {(busy: boolean) => void} setBusy
 * @property {() => void} [starting]     what the section clears when a scan starts
 * @property {(links: string[]) => unknown} use  what to do with the links found
 */

/**
 * What scanning `tab` found: the links of `kind`, or a Problem explaining what was there instead.
 * @param {Tab} tab
 * @param {ScanKind} kind
 * @returns {Promise<string[]|null>}
 */
async function linksIn(tab, kind) {
  let texts;
  try {
    texts = await scanTab(tab);
  } catch (err) {
    if (err instanceof Problem) throw err;
    if (/activeTab|all_urls/.test(String(err?.message))) throw new Problem(CLICK_FIRST);
    throw new Problem(`The tab ${tabLabel(tab)} could not be captured (${err?.message ?? err}). Bring it to the front of its window and try again.`);
  }
  const links = texts.filter(kind.accepts);
  if (links.length > 0) return links;
  if (texts.length > 0) throw new Problem(kind.wrong(tab, texts));
  return null;
}

/** @param {ScanKind} kind */
export function hideTabChoice(kind) {
  kind.choice.hidden = true;
  kind.list.replaceChildren();
}

/**
 * Lets the person pick the tab with the QR code among `tabs`.
 * @param {Tab[]} tabs
 * @param {string} message
 * @param {ScanKind} kind
 */
function offerTabs(tabs, message, kind) {
  kind.list.replaceChildren(
    ...tabs.map((tab) => {
      const item = fromTemplate('tab-template');
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

/**
 * @param {Tab} tab
 * @param {ScanKind} kind
 */
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
 * @param {ScanKind} kind
 */
export async function scan(kind) {
  hideTabChoice(kind);
  kind.starting?.();
  kind.setBusy(true);
  say(kind.status, 'Looking for the QR code…');
  let links = null;
  let offered = false;
  try {
    await tools.ready;
    const self = await chrome.tabs.getCurrent();
    const others = (await chrome.tabs.query({ windowType: 'normal' })).filter((tab) => tab.id !== self?.id);
    const tabs = others.filter(isWebPage).sort((a, b) => (b.lastAccessed ?? 0) - (a.lastAccessed ?? 0));
    if (tabs.length === 0) {
      // A tab whose address the browser does not tell PushOTP is one it may not look at yet.
      if (others.some((tab) => tab.url === undefined)) throw new Problem(CLICK_FIRST);
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
