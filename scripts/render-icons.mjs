// Renders extension/icons/icon.svg to the PNG sizes the manifest names (Chrome does not take
// SVG icons). Run after changing the SVG: node scripts/render-icons.mjs
import { readFile } from 'node:fs/promises';
import { chromium } from 'playwright-core';

const svg = await readFile(new URL('../extension/icons/icon.svg', import.meta.url), 'utf8');
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true });
for (const size of [16, 32, 48, 128]) {
  const page = await browser.newPage({ viewport: { width: size, height: size } });
  await page.setContent(
    `<style>html,body{margin:0;background:transparent}svg{display:block;width:${size}px;height:${size}px}</style>${svg}`,
  );
  await page.screenshot({ path: `extension/icons/icon-${size}.png`, omitBackground: true });
  await page.close();
}
await browser.close();
