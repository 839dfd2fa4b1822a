// The repository's root, for tests and scripts that read its files. Kept apart from browser.mjs
// so that the unit tests in tests/unit/ never load Playwright.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
