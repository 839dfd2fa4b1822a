// Every module of the extension is type checked: tsconfig.json includes extension/**/*.js, and
// each module says so itself with `// @ts-check` in its opening comments, so that an editor
// checks it too without the project's configuration. A module without the mark fails here.
// The generated WebAssembly glue (extension/pkg/) is checked through its declarations instead.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../support/root.mjs';

const EXTENSION = path.join(ROOT, 'extension');

/** The extension's modules, as paths relative to the repository. */
async function modules() {
  const entries = await readdir(EXTENSION, { recursive: true });
  return entries
    .filter((entry) => entry.endsWith('.js') && entry.split(path.sep)[0] !== 'pkg')
    .map((entry) => path.join('extension', entry))
    .sort();
}

/** The comment lines a file opens with, before its first line of code. */
function openingComments(text) {
  const lines = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (!line.startsWith('//')) break;
    lines.push(line.trim());
  }
  return lines;
}

test('every extension module is marked // @ts-check in its opening comments', async () => {
  const files = await modules();
  assert.ok(files.includes(path.join('extension', 'background.js')), 'the worker is among them');
  assert.ok(files.includes(path.join('extension', 'popup', 'answer.js')), 'modules in folders are among them');
  const unmarked = [];
  for (const file of files) {
    if (!openingComments(await readFile(path.join(ROOT, file), 'utf8')).includes('// @ts-check')) unmarked.push(file);
  }
  assert.deepEqual(unmarked, [], 'modules without // @ts-check');
});
