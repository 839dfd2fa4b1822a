// scripts/demo.sh without a display, as a person on a server over SSH runs it: it starts the
// reference server, prints the whole QR code of a fresh activation link (read back here with
// the extension's own QR reader) and the link itself, names the staged extension folder to
// load, and stops the server when it is stopped. Needs the server and WebAssembly builds.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ROOT } from '../support/root.mjs';
import { freePort } from '../support/server.mjs';
import * as tools from '../../extension/pkg/pushotp_tools.js';

tools.initSync({ module: await readFile(path.join(ROOT, 'extension/pkg/pushotp_tools_bg.wasm')) });

let dir;
let demo;
let output = '';
let address;
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pushotp-demo-test-'));
  address = `127.0.0.1:${await freePort()}`;
  const env = { ...process.env, PUSHOTP_DEMO_DIR: dir, PUSHOTP_DEMO_ADDRESS: address };
  delete env.DISPLAY;
  delete env.WAYLAND_DISPLAY;
  demo = spawn(path.join(ROOT, 'scripts/demo.sh'), ['--no-build'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  demo.stderr.on('data', (chunk) => (output += chunk));
  await new Promise((resolve, reject) => {
    demo.stdout.on('data', (chunk) => {
      output += chunk;
      if (output.includes('Its log follows.')) resolve();
    });
    demo.on('exit', (code) => reject(new Error(`demo.sh exited with ${code}: ${output}`)));
    setTimeout(() => reject(new Error(`demo.sh did not finish starting: ${output}`)), 20_000);
  });
});
after(async () => {
  if (demo.exitCode === null) demo.kill('SIGTERM');
  await rm(dir, { recursive: true, force: true });
});

/**
 * The QR code printed in the terminal as pixels: each character is one module wide and two
 * high (█ both dark, ▀ the upper, ▄ the lower), drawn `scale` pixels a module.
 */
function terminalQr(lines, scale = 4) {
  const width = Math.max(...lines.map((l) => [...l].length)) * scale;
  const height = lines.length * 2 * scale;
  const data = new Uint8ClampedArray(width * height * 4).fill(255);
  lines.forEach((line, row) => {
    [...line].forEach((char, column) => {
      const dark = { '█': [0, 1], '▀': [0], '▄': [1] }[char] ?? [];
      for (const half of dark) {
        for (let y = (row * 2 + half) * scale; y < (row * 2 + half + 1) * scale; y++) {
          for (let x = column * scale; x < (column + 1) * scale; x++) data.set([0, 0, 0, 255], (y * width + x) * 4);
        }
      }
    });
  });
  return { data, width, height };
}

test('without a display the whole QR code of the activation link is printed, and the link', () => {
  const link = /^pushotp:\/\/enroll\?\S+$/m.exec(output)?.[0];
  assert.ok(link, output);
  assert.ok(link.includes(encodeURIComponent(`http://${address}`)), link);
  const qrLines = output.split('\n').filter((line) => /^[ █▀▄]+$/.test(line) && /[█▀▄]/.test(line));
  const { data, width, height } = terminalQr(qrLines);
  assert.deepEqual(tools.decodeQr(data, width, height), [link]);
  assert.match(output, /No display was found, so no browser was started\./);
});

test('it tells which folder to load: the staged extension, not the repository', () => {
  const staged = path.join(ROOT, 'dist/extension');
  assert.match(output, new RegExp(`"Load unpacked" and choose: ${staged.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n`));
});

test('the demo app answers, and stopping the script stops the server', async () => {
  assert.equal((await fetch(`http://${address}/app/login`)).status, 200);
  demo.kill('SIGTERM');
  await new Promise((resolve) => (demo.exitCode === null ? demo.once('exit', resolve) : resolve()));
  await assert.rejects(fetch(`http://${address}/app/login`));
});
