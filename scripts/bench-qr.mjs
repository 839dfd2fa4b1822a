// Times decodeQr of the built tools module (fastest of 5 runs after a warm-up) on screenshot-sized images, with and without a code.
//
//   scripts/build-wasm.sh && node scripts/bench-qr.mjs
import { readFile } from 'node:fs/promises';
import { initSync, decodeQr } from '../extension/pkg/pushotp_tools.js';

const file = (name) => readFile(new URL(`../${name}`, import.meta.url));
initSync({ module: await file('extension/pkg/pushotp_tools_bg.wasm') });
const { codes } = JSON.parse(await file('crate/tests/vectors/qr_codes.json'));
const RUNS = 5;

/** A white RGBA image with, if `code` is given, its modules at `scale` pixels from (700, 300). */
function image(width, height, code, scale) {
  const data = new Uint8ClampedArray(width * height * 4).fill(255);
  code?.modules.forEach((row, my) => {
    [...row].forEach((module, mx) => {
      if (module !== '#') return;
      for (let y = 300 + my * scale; y < 300 + (my + 1) * scale; y += 1) {
        for (let x = 700 + mx * scale; x < 700 + (mx + 1) * scale; x += 1) {
          data.set([0, 0, 0, 255], (y * width + x) * 4);
        }
      }
    });
  });
  return data;
}

for (const [width, height] of [[1920, 1080], [2560, 1600], [3840, 2160]]) {
  for (const code of [codes[0], undefined]) {
    const data = image(width, height, code, 5);
    decodeQr(data, width, height);
    // The fastest run: the least disturbed by other work on the machine.
    let ms = Infinity;
    let found;
    for (let i = 0; i < RUNS; i += 1) {
      const start = performance.now();
      found = decodeQr(data, width, height);
      ms = Math.min(ms, performance.now() - start);
    }
    console.log(`${width}x${height} ${code ? 'with a code' : 'without'}: ${ms.toFixed(1)} ms, ${found.length} found`);
  }
}
