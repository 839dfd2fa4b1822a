// The content scripts are classic scripts (content scripts cannot be modules), so they repeat
// the message types they send and receive as string constants. These must equal the modules'
// declarations: a copy that drifts makes the worker refuse the page's message, or the page
// ignore the worker's fill, without any error. Read as text, since the content scripts run in
// a page and page.js imports the worker's modules, which need the extension's runtime.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { Message, PageMessage } from '../../extension/messages.js';
import { ROOT } from '../support/root.mjs';

const source = (file) => readFile(path.join(ROOT, file), 'utf8');

/** A message type as the modules spell them: `area.name`. */
const TYPE = /^[a-z]+\.[a-zA-Z]+$/;

/**
 * The entries of `export const <name> = Object.freeze({ KEY: 'value', ... });` in a module's
 * text, for modules that cannot be imported in Node.
 */
function frozenObject(text, name) {
  const block = text.match(new RegExp(`export const ${name} = Object\\.freeze\\(\\{([\\s\\S]*?)\\n\\}\\);`));
  assert.ok(block, `export const ${name} = Object.freeze({...}) is not in the module`);
  // Doc comments inside the block may quote types too: only `KEY: 'value',` lines count.
  const entries = [...block[1].matchAll(/^\s*([A-Z][A-Z0-9_]*): '([^']*)',?$/gm)].map(([, key, value]) => [key, value]);
  assert.ok(entries.length > 0, `${name} has no entries`);
  return Object.fromEntries(entries);
}

/** The `const NAME = 'area.name';` declarations of a classic script. */
function typeConstants(text) {
  return Object.fromEntries(
    [...text.matchAll(/\bconst ([A-Z][A-Z0-9_]*) = '([^']*)';/g)].filter(([, , value]) => TYPE.test(value)).map(([, key, value]) => [key, value]),
  );
}

const manifest = JSON.parse(await source('manifest.json'));
const CONTENT_SCRIPTS = manifest.content_scripts.flatMap((entry) => entry.js);
const scripts = Object.fromEntries(await Promise.all(CONTENT_SCRIPTS.map(async (file) => [file, await source(file)])));
const FromPage = frozenObject(await source('extension/page.js'), 'FromPage');

test('each constant a content script repeats equals the module declaration it copies', () => {
  const copies = [
    ['extension/content.js', 'FILL_PASSCODE', PageMessage.FILL_PASSCODE, 'messages.js PageMessage.FILL_PASSCODE'],
    ['extension/affordance.js', 'PAGE_TOKENS', FromPage.TOKENS, 'page.js FromPage.TOKENS'],
    ['extension/affordance.js', 'PAGE_FILL', FromPage.FILL, 'page.js FromPage.FILL'],
    ['extension/pi-page.js', 'PI_WAITING', FromPage.PI_WAITING, 'page.js FromPage.PI_WAITING'],
  ];
  for (const [file, name, expected, declaration] of copies) {
    assert.ok(CONTENT_SCRIPTS.includes(file), `${file} is a content script in manifest.json`);
    assert.equal(typeof expected, 'string', `${declaration} is declared`);
    assert.equal(typeConstants(scripts[file])[name], expected, `${file} ${name} equals ${declaration}`);
  }
});

test('every message type written in a content script is one the worker and pages declare for them', () => {
  const forPages = new Set([...Object.values(PageMessage), ...Object.values(FromPage)]);
  let seen = 0;
  for (const [file, text] of Object.entries(scripts)) {
    // Every quoted `area.name` string, inline or in a constant: a type spelt in place is a copy too.
    for (const [, literal] of text.matchAll(/'([a-z]+\.[a-zA-Z]+)'/g)) {
      seen++;
      assert.ok(forPages.has(literal), `${file} uses '${literal}', which is not in PageMessage (messages.js) or FromPage (page.js)`);
      // The extension pages' types are refused from a content script: one there is a mistake.
      assert.ok(!Object.values(Message).includes(literal), `${file} uses the extension pages' type '${literal}'`);
    }
  }
  assert.ok(seen > 0, 'the content scripts name message types');
});

test('every type declared for content scripts is known to one of them', () => {
  const known = new Set(Object.values(scripts).flatMap((text) => Object.values(typeConstants(text))));
  for (const [declaration, types] of [['PageMessage', PageMessage], ['FromPage', FromPage]]) {
    for (const [key, value] of Object.entries(types)) {
      assert.ok(known.has(value), `${declaration}.${key} ('${value}') is not repeated in any content script`);
    }
  }
});
