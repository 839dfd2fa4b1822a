// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// Which sites PushOTP may act on, and the only module that asks the browser for, or gives back,
// access to a site and registers the content scripts. The extension asks for no site at install
// (manifest.json: `optional_host_permissions` only). A site is needed while a token uses it:
// a push token its server, the login pages its server declared and the sites the person
// confirmed; a privacyIDEA token its server and confirmed sites; an everyday token its confirmed
// sites. The person grants each when it is first needed, on an extension page after a click
// (`request`); the worker registers the content scripts for exactly the sites needed and
// granted (`sync`), and gives a site back when the last token or site needing it is removed.
// Pages of every other site get no script at all.
import { coded } from './messages.js';
import { originOf } from './sites.js';
import { serial } from './queue.js';
import { otpTokens, piTokens, pushTokens, readSession, saveOtpTokens, savePiTokens, savePushTokens, writeSession } from './store.js';

/** The scripts registered for the sites in use, in the order they load into a frame. */
export const PAGE_SCRIPTS = Object.freeze(['extension/detect.js', 'extension/content.js', 'extension/affordance.js']);
/**
 * The scripts of a privacyIDEA token's server and confirmed sites: those and the one that
 * notices a sign-in page waiting for privacyIDEA, which has nothing to notice elsewhere (and
 * watches every resource a page loads).
 */
export const PI_SCRIPTS = Object.freeze([...PAGE_SCRIPTS, 'extension/pi-page.js']);
/** The scripts a fill or a binding read needs, injected into a frame that lacks them. */
const FILL_SCRIPTS = PAGE_SCRIPTS.slice(0, 2);
const REGISTRATION = 'pushotp-pages';
const PI_REGISTRATION = 'pushotp-pi-pages';

/**
 * The match pattern that grants `origin`: its scheme and host. Browsers grant hosts, not
 * origins: a port cannot be named in Firefox's patterns, so a grant covers the host on every
 * port; what a script does is held to the exact origin all the same (fill.js, content.js).
 * @param {string} origin  an http(s) origin
 * @returns {string}
 */
export function patternOf(origin) {
  const { protocol, hostname } = new URL(origin);
  return `${protocol}//${hostname}/*`;
}

/**
 * The origin of the server `parse` names: `parse` reads an activation link with the core (on a
 * page, before the link goes to the worker, so that the site is asked for within the person's
 * click, the only time the browser asks). A link the core refuses names none: the worker says
 * what is wrong with it, and nothing is asked.
 * @param {() => string} parse
 * @returns {string|null}
 */
export function serverOf(parse) {
  try {
    return originOf(parse());
  } catch {
    return null;
  }
}

/**
 * Asks the browser for access to `origins`, on an extension page, in the person's click (the
 * browser shows its prompt only then; one already granted is not asked again).
 * @param {(string|null)[]} origins
 * @returns {Promise<boolean>} whether all are granted
 */
export function request(origins) {
  const patterns = [...new Set(origins.map(originOf).filter((o) => o !== null).map(patternOf))];
  if (!patterns.length) return Promise.resolve(true);
  // Asked at once, before anything is awaited: Firefox counts the click only until then. A
  // request it refuses outside a click (a link read from a scanned QR code) is no answer about
  // sites it granted already: those are looked up instead.
  return chrome.permissions.request({ origins: patterns }).catch(() => chrome.permissions.contains({ origins: patterns }).catch(() => false));
}

/**
 * Whether PushOTP may act on `origin` now.
 * @param {string} origin
 */
export function granted(origin) {
  return chrome.permissions.contains({ origins: [patternOf(origin)] }).catch(() => false);
}

/**
 * Throws `no_access`, with the sentence a page shows, unless PushOTP may reach `origin`.
 * @param {string} origin
 */
export async function mustReach(origin) {
  if (!(await granted(origin))) {
    throw coded('no_access', `PushOTP may not reach ${new URL(origin).host} yet: allow it when your browser asks, or under Sites in the settings.`);
  }
}

/**
 * @typedef {object} SiteUse  One token's use of a site.
 * @property {'push'|'otp'|'pi'} kind
 * @property {string} id          the token's id (push token id, OTP id, privacyIDEA serial)
 * @property {string} name        as the token list shows it
 * @property {'server'|'login'|'site'} role  its server, a login page its server declared, or a
 *   site the person confirmed
 */

/**
 * @typedef {{push?: {[id: string]: import('./store.js').PushToken}, otp?: {[id: string]: import('./store.js').OtpToken}, pi?: {[serial: string]: import('./store.js').PiToken}}} TokenMaps
 */

/**
 * Every site `tokens` use, with who uses it and how.
 * @param {TokenMaps} tokens
 * @returns {Map<string, SiteUse[]>}
 */
export function usesOf({ push = {}, otp = {}, pi = {} }) {
  /** @type {Map<string, SiteUse[]>} */
  const uses = new Map();
  /** @param {unknown} origin @param {SiteUse} use */
  const add = (origin, use) => {
    const o = originOf(origin);
    if (o) uses.set(o, [...(uses.get(o) ?? []), use]);
  };
  for (const t of Object.values(push)) {
    const use = { kind: /** @type {const} */ ('push'), id: t.tokenId, name: t.tokenName };
    add(t.server, { ...use, role: 'server' });
    for (const o of t.loginOrigins ?? []) add(o, { ...use, role: 'login' });
    for (const o of t.sites ?? []) add(o, { ...use, role: 'site' });
  }
  for (const t of Object.values(otp)) {
    const name = t.account ? `${t.issuer} (${t.account})` : t.issuer;
    for (const o of t.sites ?? []) add(o, { kind: 'otp', id: t.id, name, role: 'site' });
  }
  for (const t of Object.values(pi)) {
    const use = { kind: /** @type {const} */ ('pi'), id: t.serial, name: t.label || t.serial };
    add(t.url, { ...use, role: 'server' });
    for (const o of t.sites ?? []) add(o, { ...use, role: 'site' });
  }
  return uses;
}

/** Every site the stored tokens use now. */
export async function sitesInUse() {
  const [push, otp, pi] = await Promise.all([pushTokens(), otpTokens(), piTokens()]);
  return usesOf({ push, otp, pi });
}

/**
 * The sites a change of stored tokens stopped using (`changes` as store.js `onChanged` passes
 * them): those whose access may be given back.
 * @param {import('./store.js').Changes} changes
 * @returns {string[]}
 */
export function dropped(changes) {
  const side = (/** @type {'oldValue'|'newValue'} */ which) =>
    usesOf({ push: changes.pushTokens?.[which], otp: changes.otpTokens?.[which], pi: changes.piTokens?.[which] });
  const before = side('oldValue');
  const after = side('newValue');
  return [...before.keys()].filter((o) => !after.has(o));
}

/**
 * The sites in use, each with its uses and whether the browser granted it, by host.
 * @returns {Promise<import('./messages.js').Site[]>}
 */
export async function list() {
  const uses = await sitesInUse();
  const sites = await Promise.all([...uses].map(async ([origin, u]) => ({ origin, granted: await granted(origin), uses: u })));
  return sites.sort((a, b) => new URL(a.origin).host.localeCompare(new URL(b.origin).host) || a.origin.localeCompare(b.origin));
}

/**
 * Takes `origin` off the confirmed sites of every token, in the storage queue: its codes are
 * no longer filled there, and the browser's access to it goes back (`dropped`, `sync`) unless
 * a token's server or login page needs it.
 * @param {unknown} origin
 * @returns {Promise<number>} how many tokens had it
 */
export function forgetSite(origin) {
  if (typeof origin !== 'string' || originOf(origin) !== origin) throw coded('invalid_parameter', 'The site must be an origin.');
  return serial(async () => {
    const [push, otp, pi] = await Promise.all([pushTokens(), otpTokens(), piTokens()]);
    let removed = 0;
    /** @template {{sites?: string[]}} T @param {{[id: string]: T}} tokens */
    const without = (tokens) => {
      const had = Object.entries(tokens).filter(([, t]) => t.sites?.includes(origin));
      removed += had.length;
      return had.length ? { ...tokens, ...Object.fromEntries(had.map(([id, t]) => [id, { ...t, sites: (t.sites ?? []).filter((s) => s !== origin) }])) } : null;
    };
    const [p, o, i] = [without(push), without(otp), without(pi)];
    if (p) await savePushTokens(p);
    if (o) await saveOtpTokens(o);
    if (i) await savePiTokens(i);
    return removed;
  });
}

/**
 * How long a grant is left to the step that needs it (an enrollment, a confirmation, an import)
 * before a site no token uses is given back anyway: the step may have failed, been abandoned,
 * or its page closed while the browser asked.
 */
const GRANT_GRACE_MS = 10 * 60_000;

/** Notes a grant's time (`permissions.onAdded`), for `sync`'s give-back of unused sites. */
export function granting() {
  return writeSession({ grantedAt: Date.now() });
}

/** Whether `pattern` grants more than one host: every site, or every site of a scheme. */
const isWide = (/** @type {string} */ pattern) => !/^https?:\/\/[^*/]+\/\*$/.test(pattern);

/** Whether PushOTP holds a grant wider than one host (left by a version that asked for all sites). */
export async function holdsWide() {
  return ((await chrome.permissions.getAll()).origins ?? []).some(isWide);
}

/**
 * Gives back every grant wider than one host, on an extension page, before `request` asks for
 * the sites in use one by one (within the same click): the browser takes back the sites within
 * a grant with it.
 */
export async function narrow() {
  const wide = ((await chrome.permissions.getAll()).origins ?? []).filter(isWide);
  if (wide.length) await chrome.permissions.remove({ origins: wide });
}

/**
 * After an update from a version that asked for every site at install, the browser may still
 * grant every site, or none of the sites the tokens use: the options page opens at its Sites
 * list, which says so and offers, in one click, exactly the sites in use.
 */
export async function askAfterUpdate() {
  const sites = await list();
  if ((await holdsWide()) || sites.some((s) => !s.granted)) await chrome.tabs.create({ url: chrome.runtime.getURL('extension/options.html#sites-heading') });
}

/** @type {Promise<void>} */
let syncing = Promise.resolve();

/**
 * Brings the registered content scripts in step with the sites in use and granted, and gives
 * back the access to the sites of `release` that no token uses any more. One run at a time.
 * `release: 'unused'` gives back every unused site (the watchdog, the browser's start, an
 * update), but not within GRANT_GRACE_MS of a grant, which may arrive a moment before the token
 * or site that needs it is stored. Only sites PushOTP asks for are given back: one host each;
 * wider grants a person made in the browser's settings stay theirs.
 * @param {{release?: string[]|'unused'}} [options]
 */
export function sync({ release = [] } = {}) {
  syncing = syncing
    .catch(() => {})
    .then(async () => {
      const uses = await sitesInUse();
      const needed = [...new Set([...uses.keys()].map(patternOf))].sort();
      const held = (await chrome.permissions.getAll()).origins ?? [];
      let giveBack = release === 'unused' ? held : release.map(patternOf);
      if (release === 'unused') {
        const { grantedAt = 0 } = await readSession(['grantedAt']);
        if (Date.now() - grantedAt < GRANT_GRACE_MS) giveBack = [];
      }
      const unused = [...new Set(giveBack)].filter((p) => held.includes(p) && !needed.includes(p) && !isWide(p));
      if (unused.length) await chrome.permissions.remove({ origins: unused });
      // Granted exactly or within a wider grant.
      const granted = await Promise.all(needed.map((p) => chrome.permissions.contains({ origins: [p] })));
      const live = needed.filter((_, i) => granted[i]);
      // Grants and registrations are by host: a host one of whose origins a privacyIDEA token
      // uses gets its script.
      const pi = new Set([...uses].filter(([, u]) => u.some((use) => use.kind === 'pi')).map(([o]) => patternOf(o)));
      await register(REGISTRATION, PAGE_SCRIPTS, live.filter((p) => !pi.has(p)));
      await register(PI_REGISTRATION, PI_SCRIPTS, live.filter((p) => pi.has(p)));
    });
  return syncing;
}

/**
 * Registers `js` under `id` for `patterns` (already sorted), or unregisters it when it is empty.
 * @param {string} id
 * @param {readonly string[]} js
 * @param {string[]} patterns
 */
async function register(id, js, patterns) {
  const [current] = await chrome.scripting.getRegisteredContentScripts({ ids: [id] });
  const now = [...(current?.matches ?? [])].sort();
  if (now.length === patterns.length && now.every((p, i) => p === patterns[i])) return;
  if (!patterns.length) {
    await chrome.scripting.unregisterContentScripts({ ids: [id] });
    return;
  }
  const script = { id, matches: patterns, js: [...js], allFrames: true, runAt: /** @type {const} */ ('document_idle'), persistAcrossSessions: true };
  await (current ? chrome.scripting.updateContentScripts([script]) : chrome.scripting.registerContentScripts([script]));
}

/**
 * Loads the fill scripts into those of `frames` (of tab `tabId`, documents of `origin`) that do
 * not have them yet: a page opened before its site was granted, or whose site the person
 * allowed for this tab only (the toolbar button's one-time access). Only for a site a token
 * uses, and only into the documents found (a frame that navigated since gets nothing). The
 * scripts keep to one copy a frame (content.js).
 * @param {number} tabId
 * @param {string} origin
 * @param {{frameId: number, documentId?: string, scripted: boolean}[]} frames
 */
export async function inject(tabId, origin, frames) {
  const bare = frames.filter((f) => !f.scripted);
  if (!bare.length || !(await sitesInUse()).has(origin)) return;
  // Firefox names no documents: there, the frames.
  const documentIds = bare.map((f) => f.documentId).filter((d) => typeof d === 'string');
  const target = documentIds.length === bare.length ? { tabId, documentIds } : { tabId, frameIds: bare.map((f) => f.frameId) };
  // A tab closed or navigated meanwhile: the fill then finds no frame to answer, and says so.
  await chrome.scripting.executeScript({ target, files: [...FILL_SCRIPTS] }).catch(() => {});
}
