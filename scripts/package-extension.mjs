// Builds the store packages of the extension: dist/pushotp-<version>-chromium.zip (Chrome Web
// Store, Edge Add-ons) and dist/pushotp-<version>-firefox.zip (addons.mozilla.org). Each holds
// exactly the staged extension (scripts/stage-extension.mjs lists what goes in: manifest, the
// extension's folder, the generated WebAssembly, the vendored modules, the licenses) with the
// manifest each browser reads: Chromium's background is the service worker and it gets no Gecko
// settings; Firefox's is the event page (`background.scripts`). Reproducible: files in name
// order, one fixed time on every entry and the same compression, so the same commit (and the
// same WebAssembly build) gives byte-identical archives, whoever builds them and when.
//
//   npm run build:ext            (stages, then packs; prints each archive's SHA-256)
//   node scripts/package-extension.mjs [--out DIR] [--stage DIR] [--unpacked DIR]
//     (archives into dist/, staged in dist/extension/; --unpacked: also each as a folder there)
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { zipSync } from 'fflate';
import { stageExtension } from './stage-extension.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The time of every entry: the earliest a zip can say (1980-01-01, local time as zip keeps it). */
const ENTRY_TIME = new Date(1980, 0, 1, 0, 0, 0);

/** The browsers packed for, and what each reads of the manifest. */
export const TARGETS = /** @type {const} */ (['chromium', 'firefox']);

/**
 * The manifest for one browser, from the shared one: the keys the other browser alone reads go.
 * @param {Record<string, any>} manifest
 * @param {(typeof TARGETS)[number]} target
 */
export function manifestFor(manifest, target) {
  const copy = structuredClone(manifest);
  if (target === 'chromium') {
    delete copy.background.scripts;
    delete copy.browser_specific_settings;
  } else {
    delete copy.background.service_worker;
    delete copy.minimum_chrome_version;
  }
  return copy;
}

/**
 * Stages the extension and writes one archive per browser into `out`, and with `unpacked` the
 * same files as folders `<unpacked>/chromium/` and `<unpacked>/firefox/`.
 * @param {{out?: string, stage?: string, unpacked?: string}} [options]
 * @returns {Promise<{target: string, file: string, bytes: number, sha256: string, entries: string[]}[]>}
 */
export async function packageExtension({ out = path.join(ROOT, 'dist'), stage, unpacked } = {}) {
  const { dir, files } = await stageExtension(stage ? { to: stage } : {});
  const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8'));
  const contents = new Map(await Promise.all(files.map(async (file) => /** @type {const} */ ([file, await readFile(path.join(dir, file))]))));
  await mkdir(out, { recursive: true });
  const built = [];
  for (const target of TARGETS) {
    /** @type {Record<string, [Uint8Array, {mtime: Date, level: 0|9}]>} */
    const entries = {};
    for (const file of [...files].sort()) {
      const data = file === 'manifest.json' ? Buffer.from(`${JSON.stringify(manifestFor(manifest, target), null, 2)}\n`) : contents.get(file);
      // WebAssembly and PNG hardly shrink: stored as they are, they load faster from the package.
      const level = /\.(wasm|png)$/.test(file) ? 0 : 9;
      entries[file] = [new Uint8Array(/** @type {Buffer} */ (data)), { mtime: ENTRY_TIME, level }];
    }
    if (unpacked) {
      // The same files as a folder, for `web-ext lint` (npm run lint:ext) and to load unpacked.
      const folder = path.join(unpacked, target);
      await rm(folder, { recursive: true, force: true });
      for (const [name, [data]] of Object.entries(entries)) {
        await mkdir(path.dirname(path.join(folder, name)), { recursive: true });
        await writeFile(path.join(folder, name), data);
      }
    }
    const zip = zipSync(entries);
    const file = path.join(out, `pushotp-${manifest.version}-${target}.zip`);
    await writeFile(file, zip);
    built.push({ target, file, bytes: zip.length, sha256: createHash('sha256').update(zip).digest('hex'), entries: Object.keys(entries) });
  }
  return built;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const option = (name) => (args.includes(name) ? path.resolve(args[args.indexOf(name) + 1]) : undefined);
  for (const { file, bytes, sha256, entries } of await packageExtension({ out: option('--out'), stage: option('--stage'), unpacked: option('--unpacked') })) {
    console.log(`${path.relative(process.cwd(), file)}: ${entries.length} files, ${(bytes / 1024).toFixed(0)} KB, sha256 ${sha256}`);
  }
}
