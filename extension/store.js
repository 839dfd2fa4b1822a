// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// What the extension keeps, and where. This module is the only one that calls chrome.storage:
// every page and the service worker read and write through it, so that the keys and shapes
// below are the only ones in storage. A key that is not listed here is refused.
//
// chrome.storage.local (survives restarts):
//   pushTokens  { [tokenId]: PushToken }
//   otpTokens   { [id]: OtpToken }         ordinary TOTP/HOTP tokens, without their secrets
//   secrets     Secrets                    the tokens' secrets, read and written only by the
//                                          worker (vault.js)
//   piTokens    { [serial]: PiToken }      privacyIDEA push tokens (privacyidea.js); their
//                                          device seeds are in `secrets` (`pi`)
//   settings    Settings                   (only the changed ones; `settings()` adds defaults)
//   webPush     { [tokenId]: endpoint }    tokens whose server has this browser's Web Push
//                                          subscription (channel.js)
//   restores    { [tokenId]: nonce }       restores of imported push tokens whose answer has
//                                          not arrived yet, sent again with the same nonce
//                                          (restore.js)
//   <item>Tag   string                     base64 HMAC-SHA-256 of each item above, only where
//                                          the browser cannot close local storage to content
//                                          scripts (see "Tags" below); kept by this module alone
// chrome.storage.session (memory only, cleared when the browser closes):
//   pending     { [requestId]: Pending }   requests waiting for the person (inbox.js)
//   seen        { [requestId]: expiresAt } ids already accepted (Unix seconds), so a replay is
//                                          never shown twice
//   outcomes    { [requestId]: Outcome }   how recent answers ended, for the popup's messages
//   refused     { [server]: { [tokenId]: ms } }  the tokens each server refused on its socket;
//                                          not presented again until the tokens change
//                                          (channel.js)
//   enrollments { [id]: Enrollment }       push tokens a server accepted that wait for their PIN
//                                          or another try at saving (enroll.js)
//   vaultKey    string                     the key of the password-protected secrets while
//                                          unlocked (vault.js)
//   lockAt      ms                         when the auto-lock removes `vaultKey`
//   piSeeds     { [serial]: seed }         the seeds of privacyIDEA PIN tokens whose PIN was
//                                          used in this session, for polling only
//                                          (privacyidea-keys.js); the lock removes them

/**
 * @typedef {'wrong_passcodes'|'authenticator_added'|'failed_approvals'} NoticeKind  What a notice
 *   about a token tells (docs/protocol.md §4, "Notices about a token")
 */

/**
 * @typedef {object} PushToken  A token enrolled from an activation link (docs/protocol.md §3).
 * @property {string} tokenId
 * @property {string} server       base URL, no trailing slash
 * @property {string} tokenName
 * @property {string} user
 * @property {string} issuer
 * @property {string} deviceName
 * @property {{algorithm: string, digits: number, type?: 'hotp'|'totp', counter?: number, period?: number}} otp
 *   The hash and length of its approval passcodes (§3). A token enrolled under protocol
 *   version 1 also holds `type` and `counter` or `period`, which nothing uses any more: its
 *   approval passcodes are bound to the request (§5) with the keys it has.
 * @property {{required: boolean, maxTries: number}} pin
 * @property {{request: string, channel: string, otp?: string, answer?: string}} keys
 *   base64url. `K_otp` and `K_ans` are in the vault (vault.js), or, when the token is
 *   PIN-protected, in `masked`; tokens of earlier versions had them here (moved once at start).
 * @property {object} [masked]     the PIN-masked keys (§6), as `maskKeys` returns them
 * @property {string[]} [loginOrigins]  the login pages' origins its server declared at
 *   enrollment (§3): with the server's own origin, where its approvals' passcodes are filled
 * @property {string[]} [sites]    origins the person confirmed for filling its passcodes
 * @property {boolean} enabled      push requests on for this token
 * @property {number} addedAt       ms
 * @property {number} [restoredElsewhereAt]  ms: when its server said that another browser
 *   restored the token from an export (§8); it receives and answers nothing here since
 * @property {{[kind in NoticeKind]?: number}} [notices]  ms: when the
 *   newest notice of each kind about the token happened (§4, "Notices about a token")
 * @property {{authenticator_added?: number, failed_approvals?: number}} [ownNotices]  ms: those
 *   of `notices` that were about this browser's own doing (a token it added itself, a wrong
 *   PIN or number of its own approval), and so not shown
 */

/**
 * @typedef {object} OtpToken  An ordinary token from an otpauth:// URI, a migration QR code or
 *   typed in. Its base32 secret is in the vault (vault.js), never here.
 * @property {string} id           random, base64url
 * @property {string} issuer
 * @property {string} account
 * @property {'totp'|'hotp'} type
 * @property {'SHA1'|'SHA256'|'SHA512'} algorithm
 * @property {number} digits
 * @property {number} [period]     TOTP, seconds
 * @property {number} [counter]    HOTP: the counter of the next code; saved before a code is shown
 * @property {string[]} sites      origins the person confirmed for filling this token's codes
 * @property {number} order        position in the list, ascending
 * @property {number} addedAt      ms
 */

/**
 * @typedef {object} PiToken  A privacyIDEA push token.
 * @property {string} serial
 * @property {string} label
 * @property {string} issuer
 * @property {string} url          where polls and answers go (`…/ttype/push`)
 * @property {boolean} sslverify
 * @property {number} ttlMinutes
 * @property {string} serverKey    the server's public key, base64 SPKI
 * @property {boolean} pin          the server asks for a PIN before answering
 * @property {string|null} appForceUnlock
 * @property {object} [pinCheck]  only in tokens stored by an earlier version (a PIN check that
 *   confirmed PINs offline), removed when the worker starts (`forgetEarlierForms`); such a
 *   token must be enrolled again (`enroll_again`)
 * @property {boolean} enabled
 * @property {number} addedAt      ms
 * @property {string[]} [sites]    origins the person confirmed for filling this token's
 *   code-to-phone codes, besides the privacyIDEA server's own origin
 */

/**
 * @typedef {{otp: {[id: string]: string}, push: {[tokenId: string]: {otp: string, answer: string}}, pi: {[serial: string]: {seed?: string, masked?: object}}}} PlainSecrets
 *   `pi`: each privacyIDEA token's device seed, plain (`seed`) or masked with its PIN (`masked`,
 *   docs/privacyidea.md)
 * @typedef {{v: 1, kdf: Kdf, iv: string, data: string}} Sealed  AES-256-GCM of JSON (vault.js)
 * @typedef {{salt: string, memoryKib: number, iterations: number, parallelism: number}} Kdf
 * @typedef {Partial<PlainSecrets> & {sealed?: Sealed}} Secrets  plain (`otp`, `push`) without a
 *   password, else only `sealed`
 */

/**
 * @typedef {object} Settings
 * @property {boolean} pushEnabled              push requests on overall
 * @property {boolean} notifications            announce requests with a browser notification
 * @property {boolean} approveFromNotification  Approve/Deny buttons on the notification
 * @property {boolean} autoSubmit               submit the login form after filling the passcode
 * @property {string} deviceName                sent at enrollment
 * @property {number} autoLockMinutes           lock the password-protected secrets after this
 *   long without use; 0 never
 */

/**
 * @typedef {object} PushRequest  A push login request as the server sent it (docs/protocol.md
 *   §4), verified by the core before it is kept.
 * @property {string} id
 * @property {string} tokenId
 * @property {string} app
 * @property {string} origin
 * @property {string} clientIp
 * @property {{city?: string, country?: string, latE6: number, lonE6: number}|null} [place]
 * @property {number} createdAt    Unix seconds
 * @property {number} expiresAt    Unix seconds
 * @property {number[]|null} [choices]
 * @property {'type'} [numberEntry]  the number shown on the sign-in page is typed, not picked
 *   (then `choices` is null)
 * @property {string} [bindingHash]  the commitment to the binding of the login page load the
 *   push was started from (binding.js); none from a server that binds no page
 */

/**
 * @typedef {object} PiChallenge  A privacyIDEA challenge whose signatures verified
 *   (privacyidea-requests.js); `id` is `pi:<serial>:<nonce>`, `tokenId` the serial.
 * @property {string} id
 * @property {string} tokenId
 * @property {string} app           the challenge's title
 * @property {string} question
 * @property {string} nonce
 * @property {string} url           where the answer goes
 * @property {string} serial
 * @property {string} issuer
 * @property {string[]} [choices]   presence options
 * @property {boolean} declineReason  the signed capabilities offer decline reasons
 * @property {number} expiresAt     Unix seconds: how long it is offered
 */

/**
 * @typedef {'push'|'privacyidea'} Kind  Which adapter a request belongs to (inbox.js).
 * @typedef {'socket'|'poll'|'webpush'} Via
 */

/**
 * @typedef {object} Pending  A checked request waiting for the person.
 * @property {Kind} kind
 * @property {PushRequest|PiChallenge} request  `PushRequest` for 'push', `PiChallenge` for 'privacyidea'
 * @property {number} receivedAt   ms
 * @property {Via} via
 * @property {boolean} pin         approving needs the token's PIN
 * @property {Tried} [tried]       its last answer failed and left it waiting (a wrong PIN)
 * @property {boolean} [foreign]    push: it names a site its token does not serve (the core's
 *   `mayFill`), so an approval's sign-in code is filled nowhere; the popup says so
 * @property {Bound} [bound]        it started in this browser, in this tab (binding.js): for a
 *   push request its login page carries the binding the request commits to, for a privacyIDEA
 *   challenge a sign-in page of its token waits for it (a hint only); absent: it did not, as
 *   far as this browser can tell
 */

/**
 * @typedef {object} Bound  The tab a sign-in request started in, as the browser reported it.
 * @property {number} tabId
 * @property {string} title   the tab's title: the page's own words, shown only as text
 * @property {string} origin
 */

/**
 * @typedef {object} Tried  A failed try that left its request waiting for another answer: the
 *   server counted it (docs/protocol.md §5).
 * @property {string} reason           `wrong_pin`
 * @property {number|null} triesLeft   before the token locks
 * @property {number} at               ms, the `answeredAt` the answer was sent with: the next
 *   answer must say a later second, as the server asks
 */

/**
 * @typedef {object} PiFill  How filling a code into a tab went (fill.js).
 * @property {string|null} origin  the tab's origin (null when it is no web page)
 * @property {'filled'|'no_field'|'unconfirmed_site'|'unfillable_tab'} result
 */

/**
 * @typedef {object} Outcome  How an answer ended, or that the request ended elsewhere.
 * @property {Kind} kind
 * @property {'approved'|'denied'|'reported'|'rejected'|'expired'|'ended'|'failed'} status
 *   `ended`: it ended without this device's answer (its server said so, or no longer lists it)
 * @property {string|null} reason     the server's reason, or a local one such as `unreachable`;
 *   for `ended` why (`answered`, `replaced`, `removed`, or null when the server did not say; a
 *   request its server expired is `expired` like one the worker expired)
 * @property {number|null} triesLeft
 * @property {number} at              ms
 * @property {string} app
 * @property {string} tokenId
 * @property {string} [displayCode]   privacyIDEA code-to-phone: the code to type at the sign-in
 * @property {string|null} [displayMessage]
 * @property {PiFill} [fill]          where the display code was filled, or why not
 * @property {number} [fillableUntil] ms: until then a page may offer to fill the display code
 *   (privacyidea.js refuses it after); only the newest display code has it
 * @property {string[]} [trusted]     origins the display code goes to without asking the person
 *   (the token's privacyIDEA server and confirmed sites)
 * @property {boolean} [pending]      the request is still waiting for an answer: the server
 *   counted a wrong PIN and keeps it open (its `tried`), so this is no outcome to keep
 * @property {number} [answeredAt]    ms, with `pending`: when the answer said it was made
 */

/**
 * @typedef {object} Enrollment  A push token the server accepted, not yet saved (enroll.js).
 * @property {{iv: string, data: string}} sealed  base64url: AES-256-GCM of the token as JSON
 *   (with `keys.otp` and `keys.answer` until a PIN masks them into `masked`), under the key in
 *   the handle only the options page holds; additional data `pushotp-enrollment-v1:<id>`
 * @property {number} at  ms, when the server accepted it
 */

/**
 * @typedef {object} Local  chrome.storage.local, every key.
 * @property {{[tokenId: string]: PushToken}} pushTokens
 * @property {{[id: string]: OtpToken}} otpTokens
 * @property {Secrets} secrets
 * @property {{[serial: string]: PiToken}} piTokens
 * @property {Partial<Settings>} settings
 * @property {{[tokenId: string]: string}} webPush
 * @property {{[tokenId: string]: string}} restores
 */

/**
 * @typedef {object} Session  chrome.storage.session, every key.
 * @property {{[requestId: string]: Pending}} pending
 * @property {{[requestId: string]: number}} seen
 * @property {{[requestId: string]: Outcome}} outcomes
 * @property {{[server: string]: {[tokenId: string]: number}}} refused
 * @property {{[id: string]: Enrollment}} enrollments
 * @property {string} vaultKey
 * @property {number} lockAt
 * @property {{[serial: string]: string}} piSeeds
 * @property {number} grantedAt  ms: when the browser last granted a site (access.js)
 */

/** @type {readonly (keyof Local)[]} */
const LOCAL_KEYS = Object.freeze(['pushTokens', 'otpTokens', 'secrets', 'piTokens', 'settings', 'webPush', 'restores']);
/** @type {readonly (keyof Session)[]} */
const SESSION_KEYS = Object.freeze(['pending', 'seen', 'outcomes', 'refused', 'enrollments', 'vaultKey', 'lockAt', 'piSeeds', 'grantedAt']);

/** @type {Promise<('local'|'session')[]>|null} */
let closing = null;

/**
 * Closes both storage areas to content scripts, where the browser offers it
 * (`StorageArea.setAccessLevel`; Chromium offers it for both areas, Firefox only for session,
 * which it keeps closed anyway): from then on only the extension's pages and its worker read or
 * write them, and a page that took over its renderer, with the content scripts' powers, reaches
 * neither secrets nor tokens. Chromium keeps the level in the profile's preferences
 * (`extensions.settings.<id>.storage_local_access_level`), so once set it holds from the next
 * browser start on; the worker sets it again first at each start all the same, and every read
 * and write below waits for it. The window it leaves is the install: until the worker first
 * ran, a content script in a page open at that moment could write local storage, which is why
 * the worker clears it then (`settleInstall`). Once per page or worker; resolves to the areas
 * that stay open, where the guarded items carry tags (below).
 * @returns {Promise<('local'|'session')[]>}
 */
export function closeToContentScripts() {
  closing ??= (async () => {
    /** @type {('local'|'session')[]} */
    const areas = ['local', 'session'];
    const closed = await Promise.all(
      areas.map(async (area) => {
        const storage = /** @type {any} */ (chrome.storage[area]);
        if (typeof storage?.setAccessLevel !== 'function') return false;
        try {
          await storage.setAccessLevel({ accessLevel: 'TRUSTED_CONTEXTS' });
          return true;
        } catch (err) {
          // Offered but refused for this area: it stays open, and the tags below guard it.
          console.warn(`PushOTP: the browser did not close ${area} storage to content scripts (${err?.message ?? err}); what a page must not change is checked with tags instead.`);
          return false;
        }
      }),
    );
    return areas.filter((_, i) => !closed[i]);
  })();
  return closing;
}

// The install ---------------------------------------------------------------------------------
// Before the worker first closed storage, a content script could write local storage: in a
// page that was open when the extension was installed, or when the browser started with it
// loaded. Nothing the extension keeps exists before its install, so the worker clears local
// storage then, after closing it, and every read and write of local storage in the worker waits
// until that is done: nothing the worker writes at install is cleared, and nothing it reads
// was planted. Whether a start is the install comes from `runtime.onInstalled`, which arrives
// after the worker's first lines ran; a mark in the extension's own IndexedDB (`pushotp-store`,
// out of a content script's reach) says that this was settled before, so that later starts do
// not wait for an event that never comes.

/** How long a start without the mark waits for `runtime.onInstalled` (ms). */
const INSTALL_WAIT_MS = 5000;

/** @type {Promise<void>} */
let installed = Promise.resolve();

/**
 * Worker only, first thing at its top level: `reason` resolves to the reason of
 * `runtime.onInstalled` when it arrives. At the install (`install`), local storage is closed,
 * then cleared; local reads and writes wait until this is settled.
 * @param {Promise<string>} reason
 */
export function settleInstall(reason) {
  installed = (async () => {
    if (await keyStore('readonly', (store) => store.get('installed'))) return;
    // An update from a version without the mark says `update`; a lost mark, nothing.
    const why = await Promise.race([reason, new Promise((resolve) => setTimeout(resolve, INSTALL_WAIT_MS, null))]);
    if (why === 'install') {
      await closeToContentScripts();
      await chrome.storage.local.clear();
    }
    await keyStore('readwrite', (store) => store.put(Date.now(), 'installed'));
  })().catch((err) => console.warn(`PushOTP: the install steps failed: ${err?.message ?? err}`));
}

/** Local storage may be used: the install is settled and storage closed where it can be. */
async function localReady() {
  await installed;
  return tagging();
}

// Tags where content scripts reach local storage -----------------------------------------------
// Where local storage stays open to content scripts (Firefox), every item carries an
// HMAC-SHA-256 tag (`<item>Tag`, beside the item, written in the same step), since a page must
// change none of them: the token lists (and with them the confirmed sites, the tokens' servers
// and privacyIDEA's server keys), the secrets, the settings (auto-submit, auto-lock, approving
// from the notification), the Web Push subscriptions and the restores. Every read checks the tag
// before the item is used, and refuses the item (`storage_tampered`) when it does not verify.
// The key is a non-extractable WebCrypto key in the extension's own IndexedDB (`pushotp-store`),
// which a content script cannot open: its IndexedDB is the page's. It is made at the first
// start of the extension, when the items as they are then are tagged. Tags found without the
// key mean that the key was lost or the tags were not the extension's: everything is refused
// then rather than tagged again as it is. A tag proves that the extension wrote the item, not
// that it is the newest the extension wrote: a page that read an item and its tag earlier can
// put that older pair back, and a page reads every item (the secrets too, sealed only with a
// password).

/** The items whose tags are checked: all of them. */
const GUARDED = LOCAL_KEYS;
/** @param {string} item */
const tagKey = (item) => `${item}Tag`;
const TAG_CONTEXT = 'pushotp-store-tag-v1';

/** Whether local storage needs the tags: content scripts can reach it. */
const tagging = async () => (await closeToContentScripts()).includes('local');

/**
 * JSON with every object's keys sorted, so that an item tags the same however the browser
 * orders its keys when it gives it back.
 * @param {unknown} value
 */
function canonicalJson(value) {
  return JSON.stringify(value ?? null, (_, v) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

/** The bytes a tag covers: the item's name and its value, so that a tag fits one item only. */
const tagged = (item, value) => new TextEncoder().encode(`${TAG_CONTEXT}\0${item}\0${canonicalJson(value)}`);

/** @param {CryptoKey} key @param {string} item @param {unknown} value */
async function tagOf(key, item, value) {
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, tagged(item, value)));
  return btoa(String.fromCharCode(...mac));
}

/** @param {CryptoKey} key @param {string} item @param {unknown} value @param {unknown} tag */
async function verifies(key, item, value, tag) {
  if (typeof tag !== 'string') return false;
  let mac;
  try {
    mac = Uint8Array.from(atob(tag), (c) => c.charCodeAt(0));
  } catch {
    return false;
  }
  return crypto.subtle.verify('HMAC', key, mac, tagged(item, value));
}

/**
 * What a tag covers of `value`, as a value: its canonical JSON read back. The browser keeps
 * structured clones (Firefox), where `Infinity` or `NaN` stay numbers and keys whose value is
 * `undefined` stay keys, all of which JSON makes `null` or drops: a value changed only in those
 * verifies, and it is this, not the value as stored, that is used.
 * @param {unknown} value
 */
const asVerified = (value) => (value === undefined ? undefined : JSON.parse(canonicalJson(value)));

/** @param {IDBTransactionMode} mode @param {(store: IDBObjectStore) => IDBRequest} step */
async function keyStore(mode, step) {
  const db = await new Promise((resolve, reject) => {
    const open = indexedDB.open('pushotp-store', 1);
    open.onupgradeneeded = () => open.result.createObjectStore('keys');
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction('keys', mode);
      const request = step(tx.objectStore('keys'));
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

/** @type {Promise<CryptoKey>|null} */
let tagKeyPromise = null;

/**
 * The tag key, made on first use. Pages and the worker may ask at once: a lock shared by all of
 * the extension's contexts lets one make it, and it is kept only once the items carry tags, so
 * that no reader ever finds the key with the items untagged.
 * @returns {Promise<CryptoKey>}
 */
function tagKeyOfExtension() {
  tagKeyPromise ??= navigator.locks
    .request('pushotp-store-tag-key', async () => {
      const kept = await keyStore('readonly', (store) => store.get('tag'));
      if (kept) return /** @type {CryptoKey} */ (kept);
      const current = await chrome.storage.local.get([...GUARDED, ...GUARDED.map(tagKey)]);
      // Tags without a key are no first start: tagging what is there would bless what a page put.
      const orphan = GUARDED.find((item) => current[tagKey(item)] !== undefined);
      if (orphan) throw tampered(orphan);
      const key = await crypto.subtle.generateKey({ name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
      const tags = await Promise.all(GUARDED.map(async (item) => [tagKey(item), await tagOf(key, item, current[item])]));
      await chrome.storage.local.set(Object.fromEntries(tags));
      await keyStore('readwrite', (store) => store.put(key, 'tag'));
      return key;
    })
    .catch((err) => {
      tagKeyPromise = null;
      throw err;
    });
  return tagKeyPromise;
}

/** @param {string} item */
function tampered(item) {
  return Object.assign(new Error(`PushOTP: the stored ${item} were changed outside the extension; they are not used.`), {
    code: 'storage_tampered',
  });
}

/**
 * The guarded items of `values` (with their tags, read in the same step), checked; their tags
 * taken out. Throws `storage_tampered` for an item whose tag does not verify.
 * @param {{[key: string]: any}} values
 * @param {string[]} items
 */
async function checked(values, items) {
  const key = await tagKeyOfExtension();
  for (const item of items) {
    if (!(await verifies(key, item, values[item], values[tagKey(item)]))) throw tampered(item);
    delete values[tagKey(item)];
    values[item] = asVerified(values[item]);
  }
  return values;
}

/** Refuses a key this module does not list, so that nothing unlisted is ever stored. */
function listed(keys, allowed) {
  for (const key of keys) if (!allowed.includes(key)) throw new Error(`PushOTP: unlisted storage key ${key}`);
  return keys;
}

/**
 * @template {keyof Local} K
 * @param {K[]} keys
 * @returns {Promise<Partial<Pick<Local, K>>>}
 */
export async function readLocal(keys) {
  listed(keys, LOCAL_KEYS);
  if (!(await localReady())) return chrome.storage.local.get(keys);
  const items = GUARDED.filter((item) => /** @type {string[]} */ (keys).includes(item));
  // Key first: making it tags the items, which the read below must see.
  if (items.length) await tagKeyOfExtension();
  return /** @type {Partial<Pick<Local, K>>} */ (await checked(await chrome.storage.local.get([...keys, ...items.map(tagKey)]), items));
}

/** @param {Partial<Local>} values */
export async function writeLocal(values) {
  const keys = listed(Object.keys(values), LOCAL_KEYS);
  /** @type {{[key: string]: unknown}} */
  const stored = { ...values };
  if (await localReady()) {
    const items = GUARDED.filter((item) => keys.includes(item));
    const key = items.length ? await tagKeyOfExtension() : null;
    for (const item of items) stored[tagKey(item)] = await tagOf(/** @type {CryptoKey} */ (key), item, values[item]);
  }
  await chrome.storage.local.set(stored);
}

/**
 * @template {keyof Session} K
 * @param {K[]} keys
 * @returns {Promise<Partial<Pick<Session, K>>>}
 */
export async function readSession(keys) {
  listed(keys, SESSION_KEYS);
  await closeToContentScripts();
  return chrome.storage.session.get(keys);
}

/** @param {Partial<Session>} values */
export async function writeSession(values) {
  listed(Object.keys(values), SESSION_KEYS);
  await closeToContentScripts();
  await chrome.storage.session.set(values);
}

/** @param {(keyof Session)[]} keys */
export async function removeSession(keys) {
  listed(keys, SESSION_KEYS);
  await closeToContentScripts();
  await chrome.storage.session.remove(keys);
}

/**
 * @typedef {{[key: string]: {oldValue?: any, newValue?: any}}} Changes
 */

/**
 * Calls `listener(changes, area)` after every change to local or session storage, from any
 * page or the worker.
 * @param {(changes: Changes, area: 'local'|'session') => void} listener
 */
export function onChanged(listener) {
  chrome.storage.onChanged.addListener((changes, area) => {
    if (area !== 'local' && area !== 'session') return;
    const items = area === 'local' ? GUARDED.filter((item) => changes[item] || changes[tagKey(item)]) : [];
    if (!items.length) {
      listener(changes, area);
      return;
    }
    localReady()
      .then(async (on) => {
        if (!on) return listener(changes, area);
        // Where items carry tags, a changed item is passed on only when its new value verifies:
        // with the tag written in the same step, or else the one stored. A change made without
        // the key is left out (and a read refuses it).
        const key = await tagKeyOfExtension();
        const untagged = items.filter((item) => changes[item] && !changes[tagKey(item)]);
        const stored = untagged.length ? await chrome.storage.local.get(untagged.map(tagKey)) : {};
        const passed = { ...changes };
        for (const item of GUARDED) delete passed[tagKey(item)];
        for (const item of items) {
          if (!changes[item]) continue;
          const tag = changes[tagKey(item)]?.newValue ?? stored[tagKey(item)];
          if (await verifies(key, item, changes[item].newValue, tag)) {
            passed[item] = { ...changes[item], newValue: asVerified(changes[item].newValue) };
            continue;
          }
          delete passed[item];
          console.warn(tampered(item).message);
        }
        if (Object.keys(passed).length) listener(passed, area);
      })
      .catch((err) => console.warn(err.message));
  });
}

/** @type {Settings} */
export const DEFAULT_SETTINGS = Object.freeze({
  pushEnabled: true,
  notifications: true,
  approveFromNotification: true,
  autoSubmit: false,
  deviceName: defaultDeviceName(),
  autoLockMinutes: 15,
});

function defaultDeviceName() {
  const ua = globalThis.navigator?.userAgent ?? '';
  const browser = /Edg\//.test(ua) ? 'Edge' : /Firefox\//.test(ua) ? 'Firefox' : 'Chrome';
  const os = /Windows/.test(ua) ? 'Windows' : /Mac OS/.test(ua) ? 'macOS' : /CrOS/.test(ua) ? 'ChromeOS' : 'Linux';
  return `${browser} on ${os}`;
}

/** @returns {Promise<{[tokenId: string]: PushToken}>} */
export async function pushTokens() {
  return (await readLocal(['pushTokens'])).pushTokens ?? {};
}

/** @param {{[tokenId: string]: PushToken}} tokens */
export async function savePushTokens(tokens) {
  await writeLocal({ pushTokens: tokens });
}

/** Saves one token (added or changed). @param {PushToken} token */
export async function savePushToken(token) {
  const tokens = await pushTokens();
  tokens[token.tokenId] = token;
  await savePushTokens(tokens);
}

/** Forgets one token. @param {string} tokenId */
export async function deletePushToken(tokenId) {
  const tokens = await pushTokens();
  delete tokens[tokenId];
  await savePushTokens(tokens);
}

/** @returns {Promise<{[id: string]: OtpToken}>} */
export async function otpTokens() {
  return (await readLocal(['otpTokens'])).otpTokens ?? {};
}

/** @param {{[id: string]: OtpToken}} tokens */
export async function saveOtpTokens(tokens) {
  await writeLocal({ otpTokens: tokens });
}

/** @returns {Promise<{[serial: string]: PiToken}>} */
export async function piTokens() {
  return (await readLocal(['piTokens'])).piTokens ?? {};
}

/** @param {{[serial: string]: PiToken}} tokens */
export async function savePiTokens(tokens) {
  await writeLocal({ piTokens: tokens });
}

/**
 * Ordinary tokens in the person's order.
 * @param {{[id: string]: OtpToken}} tokenMap
 */
export function byOrder(tokenMap) {
  return Object.values(tokenMap).sort((a, b) => a.order - b.order || a.addedAt - b.addedAt);
}

/** @returns {Promise<Settings>} */
export async function settings() {
  return { ...DEFAULT_SETTINGS, ...(await readLocal(['settings'])).settings };
}

/** Changes some settings, keeping the others. @param {Partial<Settings>} changes */
export async function saveSettings(changes) {
  await writeLocal({ settings: { ...(await settings()), ...changes } });
}

/** @returns {Promise<{[requestId: string]: Pending}>} */
export async function pending() {
  return (await readSession(['pending'])).pending ?? {};
}

/** @returns {Promise<{[requestId: string]: Outcome}>} */
export async function outcomes() {
  return (await readSession(['outcomes'])).outcomes ?? {};
}

/**
 * Pending requests in the order they arrived, oldest first.
 * @param {{[requestId: string]: Pending}} pendingMap
 */
export function inOrder(pendingMap) {
  return Object.values(pendingMap).sort((a, b) => a.receivedAt - b.receivedAt);
}
