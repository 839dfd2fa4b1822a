// store.js where the browser cannot close local storage to content scripts (Firefox has no
// `setAccessLevel` for it): the token lists, with their confirmed sites, servers and privacyIDEA
// server keys, carry an HMAC tag under a key in the extension's IndexedDB, and a change made
// without that key (as a content script would make it) is refused before the item is used.
// Where the browser closes storage (Chromium), nothing is tagged. Run in Node with the browser's
// storage areas, IndexedDB and Web Locks played by small in-memory stand-ins; WebCrypto is
// Node's own.
import assert from 'node:assert/strict';
import { test } from 'node:test';

/**
 * A storage area as Firefox keeps it: structured clones (`Infinity`, `NaN` and keys whose value
 * is `undefined` survive, where JSON would drop them); `closable` with setAccessLevel.
 */
function area(closable, levels) {
  const data = new Map();
  const clone = (v) => structuredClone(v);
  const it = {
    data,
    async get(keys) {
      const out = {};
      for (const key of keys ?? [...data.keys()]) if (data.has(key)) out[key] = clone(data.get(key));
      return out;
    },
    async set(values) {
      const changes = {};
      for (const [key, value] of Object.entries(values)) {
        changes[key] = { oldValue: data.get(key), newValue: clone(value) };
        data.set(key, clone(value));
      }
      for (const listener of listeners) listener(changes, it === browser.storage.local ? 'local' : 'session');
    },
    async remove(keys) {
      for (const key of [keys].flat()) data.delete(key);
    },
    async clear() {
      data.clear();
    },
  };
  if (closable) {
    it.setAccessLevel = async ({ accessLevel }) => {
      levels.push(accessLevel);
    };
  }
  return it;
}

const listeners = [];
let browser;

/** IndexedDB as store.js uses it: one object store, get and put, CryptoKeys kept as they are. */
function indexedDbStandIn() {
  const databases = new Map();
  const later = (fn) => setTimeout(fn, 0);
  return {
    databases,
    open(name) {
      const request = {};
      later(() => {
        const fresh = !databases.has(name);
        if (fresh) databases.set(name, new Map());
        const data = databases.get(name);
        request.result = {
          createObjectStore() {},
          close() {},
          transaction() {
            const tx = {};
            const step = (fn) => {
              const r = {};
              later(() => {
                r.result = fn();
                later(() => tx.oncomplete?.());
              });
              return r;
            };
            tx.objectStore = () => ({ get: (k) => step(() => data.get(k)), put: (v, k) => step(() => (data.set(k, v), k)) });
            return tx;
          },
        };
        if (fresh) request.onupgradeneeded?.();
        request.onsuccess?.();
      });
      return request;
    },
  };
}

let instance = 0;
/**
 * A fresh browser and a fresh copy of store.js in it (as a new worker start would load it);
 * `closable`: the browser can close local storage. `keep` carries storage and IndexedDB over.
 */
async function start({ closable = false, keep = null } = {}) {
  const levels = [];
  listeners.length = 0;
  browser = {
    storage: {
      local: keep?.local ?? area(closable, levels),
      session: area(true, levels),
      onChanged: { addListener: (fn) => listeners.push(fn) },
    },
  };
  if (keep) browser.storage.local.setAccessLevel = closable ? async ({ accessLevel }) => levels.push(accessLevel) : undefined;
  globalThis.chrome = browser;
  globalThis.indexedDB = keep?.indexedDB ?? indexedDbStandIn();
  let held = Promise.resolve();
  const locks = {
    request: (_name, fn) => {
      const run = held.then(fn);
      held = run.catch(() => {});
      return run;
    },
  };
  Object.defineProperty(globalThis, 'navigator', { value: { userAgent: 'Node', locks }, configurable: true });
  const store = await import(`../../extension/store.js?start=${++instance}`);
  return { store, local: browser.storage.local, levels, indexedDB: globalThis.indexedDB };
}

const TOKEN = {
  id: 'a',
  issuer: 'Bank',
  account: 'ann',
  type: 'hotp',
  algorithm: 'SHA1',
  digits: 6,
  counter: 3,
  sites: ['https://bank.example'],
  order: 0,
  addedAt: 1,
};
const PUSH = { t1: { tokenId: 't1', server: 'https://push.example', tokenName: 'Work', keys: { request: 'r', channel: 'c' } } };
const PI = { S1: { serial: 'S1', url: 'https://pi.example/ttype/push', serverKey: 'MIIB', sites: [] } };

/** The `code` of the error `promise` rejects with. */
async function failure(promise) {
  try {
    await promise;
  } catch (err) {
    return err.code ?? err.message;
  }
  return 'no error';
}

test('where local storage stays open, the token lists carry tags and read back as written', async () => {
  const { store, local, levels } = await start();
  await store.saveOtpTokens({ a: TOKEN });
  await store.savePushTokens(PUSH);
  await store.savePiTokens(PI);
  assert.deepEqual(await store.otpTokens(), { a: TOKEN });
  assert.deepEqual(await store.pushTokens(), PUSH);
  assert.deepEqual(await store.piTokens(), PI);
  for (const item of ['otpTokens', 'pushTokens', 'piTokens']) assert.match(local.data.get(`${item}Tag`), /^[A-Za-z0-9+/]{43}=$/, item);
  // Settings carry one too.
  await store.saveSettings({ autoSubmit: true });
  assert.equal((await store.settings()).autoSubmit, true);
  assert.match(local.data.get('settingsTag'), /^[A-Za-z0-9+/]{43}=$/);
  // Session storage was closed; local storage could not be.
  assert.deepEqual(levels, ['TRUSTED_CONTEXTS']);
});

test('a change made without the key is refused before use: a site, a server, a server key, a token, a removal', async () => {
  const { store, local } = await start();
  await store.saveOtpTokens({ a: TOKEN });
  await store.savePushTokens(PUSH);
  await store.savePiTokens(PI);
  const tampered = async (item, value) => {
    const [before, tag] = [local.data.get(item), local.data.get(`${item}Tag`)];
    await local.set({ [item]: value });
    const code = await failure(store.readLocal([item]));
    await local.set({ [item]: before, [`${item}Tag`]: tag });
    return code;
  };
  assert.equal(await tampered('otpTokens', { a: { ...TOKEN, sites: [...TOKEN.sites, 'https://evil.example'] } }), 'storage_tampered');
  assert.equal(await tampered('otpTokens', { a: { ...TOKEN, counter: 0 } }), 'storage_tampered');
  assert.equal(await tampered('pushTokens', { t1: { ...PUSH.t1, server: 'https://evil.example' } }), 'storage_tampered');
  assert.equal(await tampered('piTokens', { S1: { ...PI.S1, serverKey: 'EVIL' } }), 'storage_tampered');
  assert.equal(await tampered('otpTokens', { ...{ a: TOKEN }, b: { ...TOKEN, id: 'b' } }), 'storage_tampered');
  // Put back as the extension wrote them, they read again.
  assert.deepEqual(await store.otpTokens(), { a: TOKEN });
  // Removed, tag and all: refused, not taken for an empty list.
  await local.remove(['otpTokens', 'otpTokensTag']);
  assert.equal(await failure(store.otpTokens()), 'storage_tampered');
  // A tag moved from another item does not fit.
  await local.set({ otpTokens: PUSH, otpTokensTag: local.data.get('pushTokensTag') });
  assert.equal(await failure(store.otpTokens()), 'storage_tampered');
  // A change passed to listeners is the checked one; a tampered one is not passed on.
  const seen = [];
  store.onChanged((changes) => seen.push(changes));
  const warned = console.warn;
  const warnings = [];
  console.warn = (m) => warnings.push(m);
  try {
    await store.savePushTokens({});
    await local.set({ pushTokens: PUSH });
    await new Promise((resolve) => setTimeout(resolve, 50));
  } finally {
    console.warn = warned;
  }
  assert.deepEqual(seen.map((c) => Object.keys(c)), [["pushTokens"]], JSON.stringify(warnings));
  assert.deepEqual(seen[0].pushTokens.newValue, {});
});

test('settings, Web Push subscriptions, restores and secrets are guarded as the lists are', async () => {
  const { store, local } = await start();
  await store.saveSettings({ autoLockMinutes: 5 });
  await store.writeLocal({ webPush: { t1: 'https://push.example/sub' }, restores: { t1: 'nonce' }, secrets: { otp: { a: 'JBSWY3DP' } } });
  const changed = {
    settings: { autoSubmit: true, autoLockMinutes: 0, approveFromNotification: true },
    webPush: { t1: 'https://evil.example/sub' },
    restores: { t1: 'other' },
    secrets: { otp: { a: 'EVILEVIL' } },
  };
  for (const [item, value] of Object.entries(changed)) {
    const before = local.data.get(item);
    await local.set({ [item]: value });
    assert.equal(await failure(store.readLocal([item])), 'storage_tampered', item);
    await local.set({ [item]: before });
  }
  // Not there before: planted, not taken.
  await local.remove(['settings']);
  assert.equal(await failure(store.settings()), 'storage_tampered');
});

test('what a read gives is what the tag covers: values JSON cannot hold do not come back', async () => {
  const { store, local } = await start();
  await store.saveOtpTokens({ a: { ...TOKEN, period: null } });
  await store.writeLocal({ settings: { autoLockMinutes: 15 } });
  // The same canonical JSON as what was tagged, so the tags verify; the values are others.
  await local.set({ otpTokens: { a: { ...TOKEN, period: Infinity, counter: 3, extra: undefined } } });
  await local.set({ settings: { ...(await local.get(['settings'])).settings, notifications: undefined } });
  const { a } = await store.otpTokens();
  assert.equal(a.period, null);
  assert.equal('extra' in a, false);
  assert.deepEqual(a, { ...TOKEN, period: null });
  const { settings } = await store.readLocal(['settings']);
  assert.equal('notifications' in settings, false);
});

test('tags without their key are tampering (or loss), not a first start: refused, and no key is made', async () => {
  const first = await start();
  await first.store.saveOtpTokens({ a: TOKEN });
  // The key's database is gone (or was never this extension's), the tags are still there.
  const lost = indexedDbStandIn();
  const again = await start({ keep: { local: first.local, indexedDB: lost } });
  await again.local.set({ otpTokens: { a: { ...TOKEN, sites: ['https://evil.example'] } } });
  assert.equal(await failure(again.store.otpTokens()), 'storage_tampered');
  assert.equal(await failure(again.store.settings()), 'storage_tampered');
  assert.equal(lost.databases.get('pushotp-store')?.has('tag') ?? false, false, 'no key made');
});

test('the key lives in the extension\'s IndexedDB; a new start checks with the same key', async () => {
  const first = await start();
  await first.store.saveOtpTokens({ a: TOKEN });
  const key = first.indexedDB.databases.get('pushotp-store').get('tag');
  assert.equal(key.constructor.name, 'CryptoKey');
  assert.equal(key.extractable, false);
  assert.equal(key.algorithm.name, 'HMAC');
  // Nothing of the key is in chrome.storage, where content scripts read.
  const again = await start({ keep: { local: first.local, indexedDB: first.indexedDB } });
  assert.deepEqual(await again.store.otpTokens(), { a: TOKEN });
  await again.local.set({ otpTokens: { a: { ...TOKEN, sites: [] } } });
  assert.equal(await failure(again.store.otpTokens()), 'storage_tampered');
});

test('the first start of the extension takes the lists as they are, and guards them from then on', async () => {
  const { store, local } = await start();
  // Kept by a version without tags.
  await local.set({ otpTokens: { a: TOKEN } });
  const [one, two] = await Promise.all([store.otpTokens(), store.pushTokens()]);
  assert.deepEqual(one, { a: TOKEN });
  assert.deepEqual(two, {});
  await local.set({ pushTokens: PUSH });
  assert.equal(await failure(store.pushTokens()), 'storage_tampered');
});

test('a known limit: an item and its tag that a page read earlier can be put back', async () => {
  const { store, local } = await start();
  await store.saveOtpTokens({ a: TOKEN });
  const old = { otpTokens: local.data.get('otpTokens'), otpTokensTag: local.data.get('otpTokensTag') };
  await store.saveOtpTokens({ a: { ...TOKEN, sites: [] } });
  await local.set(old);
  // The tag says the extension wrote it, not that it is the newest it wrote.
  assert.deepEqual(await store.otpTokens(), { a: TOKEN });
});

test('where the browser closes local storage, both areas are closed and nothing is tagged', async () => {
  const { store, local, levels } = await start({ closable: true });
  await store.saveOtpTokens({ a: TOKEN });
  assert.deepEqual(levels, ['TRUSTED_CONTEXTS', 'TRUSTED_CONTEXTS']);
  assert.deepEqual([...local.data.keys()], ['otpTokens']);
  assert.deepEqual(await store.closeToContentScripts(), []);
});

test('at the install, what was planted before storage was closed is cleared, and the worker\'s own writes wait for that', async () => {
  const { store, local, levels } = await start({ closable: true });
  await local.set({ settings: { autoSubmit: true, autoLockMinutes: 0 }, otpTokens: { a: TOKEN } });
  let installed;
  store.settleInstall(new Promise((resolve) => (installed = resolve)));
  // The worker's first lines read and write before `runtime.onInstalled` arrives.
  const wrote = store.writeLocal({ webPush: { t1: 'https://push.example/sub' } });
  const read = store.settings();
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(local.data.get('webPush'), undefined, 'the write waits');
  installed('install');
  await wrote;
  assert.deepEqual(await read, store.DEFAULT_SETTINGS);
  assert.deepEqual(Object.fromEntries(local.data), { webPush: { t1: 'https://push.example/sub' } });
  assert.ok(levels.length >= 2, 'closed before it was cleared');
});

test('an update keeps what is stored, and a later start does not wait for the install', async () => {
  const first = await start({ closable: true });
  await first.local.set({ otpTokens: { a: TOKEN } });
  first.store.settleInstall(Promise.resolve('update'));
  assert.deepEqual(await first.store.otpTokens(), { a: TOKEN });
  const again = await start({ closable: true, keep: { local: first.local, indexedDB: first.indexedDB } });
  // No `runtime.onInstalled` at a later start: the mark says it was settled.
  again.store.settleInstall(new Promise(() => {}));
  assert.deepEqual(await again.store.otpTokens(), { a: TOKEN });
});

test('a browser that refuses to close local storage is told of once, and the tags guard it', async () => {
  const { store, local } = await start({ closable: true });
  local.setAccessLevel = async () => {
    throw new Error('Access level not supported for this area.');
  };
  const warned = console.warn;
  const warnings = [];
  console.warn = (m) => warnings.push(String(m));
  try {
    await store.saveOtpTokens({ a: TOKEN });
    assert.deepEqual(await store.otpTokens(), { a: TOKEN });
  } finally {
    console.warn = warned;
  }
  assert.equal(warnings.length, 1, JSON.stringify(warnings));
  assert.match(warnings[0], /did not close local storage .*Access level not supported/);
  assert.ok(local.data.has('otpTokensTag'));
});
