// CPU time per Argon2id key derivation in the tools WebAssembly module (the one the options
// page and the popup run), at PIN masking's costs and at the vault's, side by side in one Node
// process (a command, not a test):
//
//   scripts/build-wasm.sh && node scripts/bench-kdf.mjs [--rounds 9]
//
// Rounds go round-robin over the costs, so that other work on the machine disturbs both alike;
// each figure is the median round's CPU time (user + system) of one derivation, with the
// fastest and slowest beside it. V8 runs the module here as in Chromium.
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { deriveKey, initSync, newKdf } from '../extension/pkg/pushotp_tools.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '9' } } });
initSync({ module: await readFile(new URL('../extension/pkg/pushotp_tools_bg.wasm', import.meta.url)) });

const { salt, ...vault } = newKdf();
const contenders = [
  ['PIN masking (protocol §6)', { memoryKib: 19456, iterations: 2, parallelism: 1 }],
  ['vault password and export', vault],
];
const times = contenders.map(() => []);
for (let round = 0; round < Number(values.rounds); round++) {
  contenders.forEach(([, costs], i) => {
    const start = process.cpuUsage();
    deriveKey('correct horse battery', salt, costs);
    const used = process.cpuUsage(start);
    times[i].push((used.user + used.system) / 1000);
  });
}
console.log(`CPU: ${os.cpus()[0].model}; ${values.rounds} rounds\n`);
console.log('| costs | m, t, p | median | fastest | slowest |\n|---|---|---|---|---|');
contenders.forEach(([name, c], i) => {
  const t = times[i].sort((a, b) => a - b);
  const ms = (x) => `${x.toFixed(0)} ms`;
  console.log(`| ${name} | ${c.memoryKib / 1024} MiB, ${c.iterations}, ${c.parallelism} | ${ms(t[t.length >> 1])} | ${ms(t[0])} | ${ms(t[t.length - 1])} |`);
});
