// Every module of the extension is type checked: tsconfig.json includes extension/**/*.js, and
// each module says so itself with `// @ts-check` in its opening comments, so that an editor
// checks it too without the project's configuration. A module without the mark fails here.
// The generated WebAssembly glue (extension/pkg/) is checked through its declarations instead.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
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

test('the type check refuses a misspelt message type or payload field sent to the worker', async () => {
  // A page module of three calls, checked with the project's own settings from a folder of its
  // own (nothing is written into the repository): only the two wrong ones may be reported.
  const dir = await mkdtemp(path.join(tmpdir(), 'pushotp-typecheck-'));
  try {
    const messages = JSON.stringify(path.join(EXTENSION, 'messages.js'));
    await writeFile(
      path.join(dir, 'page.js'),
      [
        '// @ts-check',
        `import { ask } from ${messages};`,
        "export const right = () => ask({ type: 'otp.next', id: 'x' });",
        "export const misspeltType = () => ask({ type: 'otp.codez' });",
        "export const misspeltField = () => ask({ type: 'otp.next', idd: 'x' });",
        '',
      ].join('\n'),
    );
    await writeFile(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({
        extends: path.join(ROOT, 'tsconfig.json'),
        compilerOptions: { typeRoots: [path.join(ROOT, 'node_modules/@types')] },
        include: ['page.js'],
        exclude: [],
      }),
    );
    const tsc = path.join(ROOT, 'node_modules/.bin/tsc');
    const run = spawnSync(tsc, ['-p', path.join(dir, 'tsconfig.json')], { encoding: 'utf8' });
    assert.notEqual(run.status, 0, 'tsc passed a wrong message');
    const errors = run.stdout.split('\n').filter((line) => /error TS\d+/.test(line));
    assert.deepEqual(
      errors.map((line) => Number(/page\.js\((\d+),/.exec(line)?.[1])),
      [4, 5],
      run.stdout,
    );
    assert.match(errors[0], /'"otp\.codez"' is not assignable/);
    assert.match(errors[1], /'idd' does not exist/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
