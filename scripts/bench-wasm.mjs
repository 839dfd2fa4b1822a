// Codes per second of the worker's WebAssembly module against the most used JavaScript
// libraries, otpauth and otplib, in one Node process on the same inputs (a command, not a test).
//
//   scripts/build-wasm.sh && node scripts/bench-wasm.mjs [--rounds 7] [--ms 300]
//
// Every library starts from what an authenticator stores: a base32 secret, SHA-1, 6 digits,
// 30 s. The codes of every library are checked against RFC 6238 and against each other before
// anything is timed. Rounds go round-robin over the contenders, so that other work on the
// machine disturbs all of them alike; each figure is the median of the rounds, with the
// slowest and fastest round beside it.
//
// - single: one code per call, from the token's record, as the extension makes one (`totp` of
//   the WebAssembly module; otpauth's `TOTP.generate` after `Secret.fromBase32`; otplib's
//   `generateSync`). The prepared rows keep each library's own prepared object instead
//   (otpauth's `TOTP` instance; the WebAssembly module has none: it starts from the record).
// - batch: the codes of 1,000 tokens at one time, as text (`totpCodes` plus zero-padding for
//   the WebAssembly module; one call per token for the libraries).
//
// otpauth's Node build computes HMAC with node:crypto (OpenSSL, native); a browser extension
// would bundle its browser build, which uses noble-hashes in JavaScript: both are timed.
// otplib 13 uses noble-hashes in JavaScript everywhere.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import * as OTPAuthNode from 'otpauth';
import * as OTPAuthBrowser from 'otpauth/dist/otpauth.esm.js';
import { generateSync } from 'otplib';
import { initSync, totp, totpCodes } from '../extension/pkg/pushotp.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '7' },
    ms: { type: 'string', default: '300' },
    batch: { type: 'string', default: '1000' },
  },
});
const ROUNDS = Number(values.rounds);
const ROUND_MS = Number(values.ms);
const BATCH = Number(values.batch);

initSync({ module: await readFile(new URL('../extension/pkg/pushotp_bg.wasm', import.meta.url)) });

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
/** A deterministic 20-byte secret as unpadded base32 (32 characters), from a small LCG. */
function secretOf(seed) {
  let x = seed * 2654435761 + 1;
  let text = '';
  for (let i = 0; i < 32; i += 1) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    text += BASE32[x >>> 27];
  }
  return text;
}

const AT_MS = 1_111_111_109_000;
const AT_SECS = AT_MS / 1000;
const tokens = Array.from({ length: BATCH }, (_, i) => ({
  type: 'totp',
  secret: secretOf(i + 1),
  algorithm: 'SHA1',
  digits: 6,
  period: 30,
}));
const single = tokens[0];

// The contenders: each makes the code of one token record, or the codes of all records.
const otpauthCode = (lib) => (t) =>
  lib.TOTP.generate({
    secret: lib.Secret.fromBase32(t.secret),
    algorithm: t.algorithm,
    digits: t.digits,
    period: t.period,
    timestamp: AT_MS,
  });
const otplibCode = (t) =>
  generateSync({ secret: t.secret, algorithm: 'sha1', digits: t.digits, period: t.period, epoch: AT_SECS });
const wasmCode = (t) => totp(t, AT_MS);
const wasmBatch = (list) => {
  const numbers = totpCodes(list, AT_MS);
  const out = new Array(list.length);
  for (let i = 0; i < list.length; i += 1) out[i] = String(numbers[i]).padStart(list[i].digits, '0');
  return out;
};
const each = (code) => (list) => list.map(code);

const prepared = (lib) => {
  const otp = new lib.TOTP({
    secret: lib.Secret.fromBase32(single.secret),
    algorithm: single.algorithm,
    digits: single.digits,
    period: single.period,
  });
  return () => otp.generate({ timestamp: AT_MS });
};

// Correctness first: RFC 6238 Appendix B, then every library against every other.
const rfc = { type: 'totp', secret: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', digits: 8, period: 30 };
assert.equal(totp(rfc, 59_000), '94287082');
assert.equal(totpCodes([rfc], 1_111_111_109_000)[0], 7_081_804); // 07081804
assert.equal(OTPAuthNode.TOTP.generate({ secret: OTPAuthNode.Secret.fromBase32(rfc.secret), digits: 8, timestamp: 59_000 }), '94287082');
assert.equal(generateSync({ secret: rfc.secret, digits: 8, epoch: 59 }), '94287082');
const expected = each(wasmCode)(tokens);
for (const [name, codes] of [
  ['totpCodes', wasmBatch(tokens)],
  ['otpauth (Node)', each(otpauthCode(OTPAuthNode))(tokens)],
  ['otpauth (browser build)', each(otpauthCode(OTPAuthBrowser))(tokens)],
  ['otplib', each(otplibCode)(tokens)],
]) {
  assert.deepEqual(codes, expected, `${name} disagrees with the WebAssembly module`);
}
assert.equal(prepared(OTPAuthNode)(), expected[0]);
console.log(`codes agree: ${BATCH} tokens, every library, and RFC 6238 Appendix B`);

/** Calls `fn` for about ROUND_MS and returns codes per second (`perCall` codes per call). */
function round(fn, perCall) {
  let calls = 0;
  let sink = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ROUND_MS) {
    for (let i = 0; i < 16; i += 1) sink += fn().length;
    calls += 16;
    now = performance.now();
  }
  if (sink === 0) throw new Error('nothing computed');
  return (calls * perCall * 1000) / (now - start);
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Times each contender of a scenario for ROUNDS rounds, round-robin, after one warm-up round. */
function scenario(title, perCall, contenders) {
  const rates = new Map(contenders.map(([name]) => [name, []]));
  for (const [, fn] of contenders) round(fn, perCall);
  for (let r = 0; r < ROUNDS; r += 1) {
    for (const [name, fn] of contenders) rates.get(name).push(round(fn, perCall));
  }
  const wasm = median(rates.get(contenders[0][0]));
  console.log(`\n${title}`);
  console.log('| contender | codes/s, median | slowest – fastest round | WebAssembly is … × faster |');
  console.log('|---|---|---|---|');
  for (const [name] of contenders) {
    const xs = rates.get(name);
    const m = median(xs);
    const fmt = (x) => Math.round(x).toLocaleString('en-US');
    const ratio = name === contenders[0][0] ? '' : `${(wasm / m).toFixed(2)}`;
    console.log(`| ${name} | ${fmt(m)} | ${fmt(Math.min(...xs))} – ${fmt(Math.max(...xs))} | ${ratio} |`);
  }
}

console.log(`Node ${process.version}, ${ROUNDS} rounds of ${ROUND_MS} ms per contender`);
scenario('single code from a token record (SHA-1, 6 digits, 30 s)', 1, [
  ['WebAssembly `totp`', () => wasmCode(single)],
  ['otpauth 9.5.2 (Node build: node:crypto HMAC)', () => otpauthCode(OTPAuthNode)(single)],
  ['otpauth 9.5.2 (browser build: JavaScript HMAC)', () => otpauthCode(OTPAuthBrowser)(single)],
  ['otplib 13.5.0 `generateSync`', () => otplibCode(single)],
  ['otpauth 9.5.2 (Node build), prepared `TOTP` object', prepared(OTPAuthNode)],
  ['otpauth 9.5.2 (browser build), prepared `TOTP` object', prepared(OTPAuthBrowser)],
]);
scenario(`batch: ${BATCH.toLocaleString('en-US')} tokens at one time, codes as text`, BATCH, [
  ['WebAssembly `totpCodes` + padding', () => wasmBatch(tokens)],
  ['WebAssembly `totp` per token', () => each(wasmCode)(tokens)],
  ['otpauth 9.5.2 (Node build)', () => each(otpauthCode(OTPAuthNode))(tokens)],
  ['otpauth 9.5.2 (browser build)', () => each(otpauthCode(OTPAuthBrowser))(tokens)],
  ['otplib 13.5.0', () => each(otplibCode)(tokens)],
]);
