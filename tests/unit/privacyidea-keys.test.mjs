// The device keys the worker derives are kept for the worker's life only while what gave them is
// at hand (extension/privacyidea-keys.js): a lock (the vault key leaves session memory), a PIN
// token's seed leaving session memory and a token's removal free them in the WebAssembly memory.
// extension/privacyidea-keys.js runs here under Node with a stand-in for chrome.storage.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../support/root.mjs';

const listeners = [];
const area = () => {
  const items = {};
  return {
    get: async (keys) => Object.fromEntries([keys].flat().filter((k) => k in items).map((k) => [k, items[k]])),
    set: async (values) => Object.assign(items, values),
    remove: async (keys) => [keys].flat().forEach((k) => delete items[k]),
    setAccessLevel: async () => {},
  };
};
// The wasm-bindgen packages take a compiled module where the extension gives them a URL.
const wasm = Object.fromEntries(
  await Promise.all(
    ['extension/pkg/pushotp_bg.wasm', 'extension/pkg/pushotp_tools_bg.wasm'].map(async (p) => [p, await WebAssembly.compile(await readFile(path.join(ROOT, p)))]),
  ),
);
globalThis.chrome = {
  storage: { local: area(), session: area(), onChanged: { addListener: (fn) => listeners.push(fn) } },
  runtime: { getURL: (p) => wasm[p] },
  alarms: { clear: async () => {}, create: async () => {} },
};
const tools = await import('../../extension/pkg/pushotp_tools.js');
tools.initSync({ module: wasm['extension/pkg/pushotp_tools_bg.wasm'] });
const keys = await import('../../extension/privacyidea-keys.js');

/** What the browser tells every listener after a change to session storage. */
const sessionChanged = (changes) => listeners.forEach((fn) => fn(changes, 'session'));
const SEEDS = ['AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8', 'ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8'];
const freed = (key) => assert.throws(() => key.sign('x|y'), 'the key was not freed');

test('a key is derived once, and freed at a lock', () => {
  const [a, b] = SEEDS.map((seed) => keys.keyOf(seed));
  assert.equal(keys.keyOf(SEEDS[0]), a);
  a.sign('serial|timestamp');
  sessionChanged({ vaultKey: { oldValue: 'k' }, lockAt: { oldValue: 1 } });
  freed(a);
  freed(b);
  assert.notEqual(keys.keyOf(SEEDS[0]), a);
});

test('a PIN token\'s key is freed when its seed leaves session memory, the others stay', () => {
  const [a, b] = SEEDS.map((seed) => keys.keyOf(seed));
  sessionChanged({ piSeeds: { oldValue: { S1: SEEDS[0], S2: SEEDS[1] }, newValue: { S2: SEEDS[1] } } });
  freed(a);
  assert.equal(keys.keyOf(SEEDS[1]), b);
  b.sign('serial|timestamp');
});

test('forgetting named seeds frees their keys only', () => {
  const [a, b] = SEEDS.map((seed) => keys.keyOf(seed));
  keys.forgetKeys([SEEDS[1]]);
  freed(b);
  assert.equal(keys.keyOf(SEEDS[0]), a);
  keys.forgetKeys();
  freed(a);
});
