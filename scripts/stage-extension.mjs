// Stages the extension into dist/extension/: manifest.json, extension/ with the generated
// WebAssembly package, the vendored npm modules (VENDORED), and the licenses, nothing else. This folder is what Chromium loads
// unpacked (the demo, the end-to-end tests, "Load unpacked" in the README) and what
// `web-ext lint` and `web-ext build` check and pack (web-ext-config.js), so each of them sees
// the same files. The repository root would drag target/ and node_modules/ (gigabytes) along.
//
//   node scripts/stage-extension.mjs          (or npm run stage:ext)
//
// Staging writes only files whose content changed and removes files that are gone, so that a
// browser already running from the folder (the demo) keeps working while the tests stage again.
import { mkdir, readFile, readdir, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Where the staged extension lives (ignored by git, like all of dist/). */
export const STAGED = path.join(ROOT, 'dist', 'extension');

/** Files taken from the repository's root. */
const TOP_FILES = ['manifest.json', 'LICENSE-MIT', 'LICENSE-APACHE'];
/** The folder taken with everything in it, except what LEFT_OUT names. */
const FOLDER = 'extension';
/**
 * What the browser never reads: the icon's drawing (the PNGs are made from it), the
 * WebAssembly package's TypeScript declarations (for the type check), hidden files.
 */
const LEFT_OUT = [/^extension\/icons\/icon\.svg$/, /^extension\/(pkg|vendor)\/.*\.d\.ts$/, /(^|\/)\./];
/**
 * Modules of npm packages (pinned in package.json) that the extension ships, staged path →
 * path in the repository, with their licenses; extension/vendor/*.d.ts declare them for the type
 * check. tldts holds the Public Suffix List: the popup emphasises the registrable domain of a
 * sign-in page's host with it.
 */
export const VENDORED = {
  'extension/vendor/tldts.js': 'node_modules/tldts/dist/index.esm.min.js',
  'extension/vendor/tldts-LICENSE': 'node_modules/tldts/LICENSE',
};
/** Files the extension cannot start without; missing ones mean a build step was skipped. */
const REQUIRED = ['manifest.json', 'extension/pkg/pushotp_bg.wasm', 'extension/pkg/pushotp_tools_bg.wasm'];

/**
 * The extension's files, as paths relative to the repository root with `/` separators.
 * @param {string} root
 * @returns {Promise<string[]>}
 */
export async function extensionFiles(root = ROOT) {
  const entries = await readdir(path.join(root, FOLDER), { recursive: true, withFileTypes: true });
  const inFolder = entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'));
  const files = [...TOP_FILES, ...inFolder].filter((file) => !LEFT_OUT.some((pattern) => pattern.test(file)));
  for (const file of REQUIRED) {
    if (!files.includes(file)) {
      throw new Error(`${file} is missing: build the WebAssembly package first (scripts/build-wasm.sh)`);
    }
  }
  for (const source of Object.values(VENDORED)) {
    if ((await contentOf(path.join(root, source))) === null) {
      throw new Error(`${source} is missing: install the npm packages first (npm ci)`);
    }
  }
  return [...files, ...Object.keys(VENDORED)].sort();
}

/** @param {string} file */
async function contentOf(file) {
  try {
    return await readFile(file);
  } catch (err) {
    if (err.code === 'ENOENT') return null;
    throw err;
  }
}

/**
 * Brings `to` up to date with the extension's files in `root`.
 * @returns {Promise<{dir: string, files: string[], bytes: number, changed: number}>}
 */
export async function stageExtension({ root = ROOT, to = STAGED } = {}) {
  const files = await extensionFiles(root);
  let bytes = 0;
  let changed = 0;
  for (const file of files) {
    let source = await readFile(path.join(root, VENDORED[file] ?? file));
    // A vendored module's source map is not shipped, so nothing may point at it.
    if (VENDORED[file]?.endsWith('.js')) {
      source = Buffer.from(source.toString('utf8').replace(/\/\/# sourceMappingURL=\S*\s*$/, ''));
    }
    bytes += source.length;
    const target = path.join(to, file);
    const staged = await contentOf(target);
    if (staged && staged.equals(source)) continue;
    await mkdir(path.dirname(target), { recursive: true });
    // Written beside, then renamed over: a browser reading the file sees the old or the new one.
    const partial = `${target}.${process.pid}-${randomUUID()}.partial`;
    await writeFile(partial, source);
    await rename(partial, target);
    changed++;
  }
  // What is staged but no longer part of the extension goes, and so do folders left empty.
  const wanted = new Set(files);
  const present = await readdir(to, { recursive: true, withFileTypes: true });
  const folders = [];
  for (const entry of present) {
    const full = path.join(entry.parentPath, entry.name);
    const relative = path.relative(to, full).split(path.sep).join('/');
    if (entry.isDirectory()) folders.push(full);
    // A `.partial` file is another staging's write in flight.
    else if (!wanted.has(relative) && !relative.endsWith('.partial')) {
      await rm(full, { force: true });
      changed++;
    }
  }
  for (const folder of folders.sort((a, b) => b.length - a.length)) {
    if ((await readdir(folder)).length === 0) await rmdir(folder);
  }
  return { dir: to, files, bytes, changed };
}

/** The size of everything in `dir`, in bytes. */
export async function folderSize(dir) {
  let total = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) total += (await stat(path.join(entry.parentPath, entry.name))).size;
  }
  return total;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { dir, files, bytes, changed } = await stageExtension();
  console.log(`${path.relative(process.cwd(), dir) || '.'}: ${files.length} files, ${(bytes / 1024).toFixed(0)} KB (${changed} updated)`);
}
