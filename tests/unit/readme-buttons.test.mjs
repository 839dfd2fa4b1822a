// The README walks a person through the demo by the names of the buttons to press. Each name
// it gives must be the text of a button on one of the pages it means (the extension's pages
// or the demo server's), so that the walkthrough can be followed word for word.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../support/root.mjs';

const read = (file) => readFile(path.join(ROOT, file), 'utf8');

async function buttonTexts() {
  const pages = [
    ...(await readdir(path.join(ROOT, 'extension'))).filter((f) => f.endsWith('.html')).map((f) => `extension/${f}`),
    ...(await readdir(path.join(ROOT, 'server/assets'))).filter((f) => f.endsWith('.html')).map((f) => `server/assets/${f}`),
  ];
  const texts = new Set();
  for (const page of pages) {
    for (const [, inner] of (await read(page)).matchAll(/<button\b[^>]*>([\s\S]*?)<\/button>/g)) {
      texts.add(inner.replace(/<[^>]*>/g, '').replace(/\s+/g, ' ').trim());
    }
  }
  return texts;
}

test('every button the README tells the reader to press is a button of that name', async () => {
  const readme = await read('README.md');
  const named = [...readme.matchAll(/\b(?:press|open|choose|click|offers|then)\s+\*\*([^*]+)\*\*/g)].map(([, name]) => name.replace(/\s+/g, ' '));
  assert.ok(named.length >= 4, `found ${named.length} button names in the README`);
  const buttons = await buttonTexts();
  const missing = named.filter((name) => !buttons.has(name));
  assert.deepEqual(missing, [], `no button reads ${missing.map((m) => `"${m}"`).join(', ')}`);
});
