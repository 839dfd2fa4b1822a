// Loads the built package in Node and computes one RFC 6238 code: catches a broken wasm-opt
// output or glue before any browser starts.
import { readFile } from 'node:fs/promises';
import { initSync, totp } from '../extension/pkg/pushotp.js';

const wasm = await readFile(new URL('../extension/pkg/pushotp_bg.wasm', import.meta.url));
initSync({ module: wasm });
const token = { type: 'totp', secret: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', digits: 8 };
const code = totp(token, 59_000);
if (code !== '94287082') {
  console.error(`wasm smoke test: expected 94287082 at T=59, got ${code}`);
  process.exit(1);
}
console.log('wasm smoke test: RFC 6238 T=59 gives 94287082');
