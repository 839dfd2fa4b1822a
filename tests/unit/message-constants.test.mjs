// The content scripts are classic scripts (content scripts cannot be modules), so they repeat
// the message types they send and receive, each in one `Object.freeze` list named after the
// messages.js declaration it copies. These must equal the module's: a copy that drifts makes
// the worker refuse the page's message, or the page ignore the worker's fill, without any
// error. The content scripts are read as text, since they run in a page.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { PI_SCRIPTS } from '../../extension/access.js';
import { FromPage, Message, PageMessage } from '../../extension/messages.js';
import { ROOT } from '../support/root.mjs';

const source = (file) => readFile(path.join(ROOT, file), 'utf8');

/** The lists of types content scripts may repeat, under the names messages.js gives them. */
const DECLARED = { PageMessage, FromPage };

/**
 * The lists a classic script declares as `const <Name> = Object.freeze({ KEY: 'value', ... });`
 * (where each content script keeps the message types it uses), by name.
 */
function frozenLists(text) {
  const lists = {};
  for (const [, name, body] of text.matchAll(/\bconst ([A-Za-z]+) = Object\.freeze\(\{([\s\S]*?)\}\);/g)) {
    // Comments inside the list may quote types too: only `KEY: 'value',` lines count.
    lists[name] = Object.fromEntries([...body.matchAll(/^\s*([A-Z][A-Z0-9_]*): '([^']*)',?$/gm)].map(([, key, value]) => [key, value]));
  }
  return lists;
}

// The content scripts, as the worker registers them for the sites in use (access.js).
const CONTENT_SCRIPTS = [...PI_SCRIPTS];
const scripts = Object.fromEntries(await Promise.all(CONTENT_SCRIPTS.map(async (file) => [file, await source(file)])));

test('each list of types a content script repeats equals the messages.js declaration of its name', () => {
  const expected = [
    ['extension/content.js', 'PageMessage', ['FILL_PASSCODE', 'BINDING_READ']],
    ['extension/affordance.js', 'FromPage', ['TOKENS', 'FILL']],
    ['extension/pi-page.js', 'FromPage', ['PI_WAITING']],
  ];
  for (const [file, name, keys] of expected) {
    assert.ok(CONTENT_SCRIPTS.includes(file), `${file} is a content script (access.js PI_SCRIPTS)`);
    assert.deepEqual(Object.keys(frozenLists(scripts[file])[name] ?? {}).sort(), [...keys].sort(), `${file} lists ${name}`);
  }
  for (const [file, text] of Object.entries(scripts)) {
    for (const [name, entries] of Object.entries(frozenLists(text))) {
      if (!Object.values(entries).some((value) => /^[a-z]+\.[a-zA-Z]+$/.test(value))) continue;
      assert.ok(DECLARED[name], `${file} lists message types as ${name}, which messages.js does not declare for content scripts`);
      for (const [key, value] of Object.entries(entries)) {
        assert.equal(value, DECLARED[name][key], `${file} ${name}.${key} equals messages.js ${name}.${key}`);
      }
    }
  }
});

test('every message type written in a content script is one declared for them', () => {
  const forPages = new Set([...Object.values(PageMessage), ...Object.values(FromPage)]);
  let seen = 0;
  for (const [file, text] of Object.entries(scripts)) {
    // Every quoted `area.name` string, in its list or in place: a type spelt in place is a copy too.
    for (const [, literal] of text.matchAll(/'([a-z]+\.[a-zA-Z]+)'/g)) {
      seen++;
      assert.ok(forPages.has(literal), `${file} uses '${literal}', which is not in PageMessage or FromPage (messages.js)`);
      // The extension pages' types are refused from a content script: one there is a mistake.
      assert.ok(!Object.values(Message).includes(literal), `${file} uses the extension pages' type '${literal}'`);
    }
  }
  assert.ok(seen > 0, 'the content scripts name message types');
});

test('every type declared for content scripts is listed in one of them', () => {
  const known = new Set(Object.values(scripts).flatMap((text) => Object.values(frozenLists(text)).flatMap((entries) => Object.values(entries))));
  for (const [declaration, types] of Object.entries(DECLARED)) {
    for (const [key, value] of Object.entries(types)) {
      assert.ok(known.has(value), `${declaration}.${key} ('${value}') is not listed in any content script`);
    }
  }
});
