// QR code reading through the tools package, loaded in Node exactly as built into
// extension/pkg/: codes drawn into RGBA pixels the way a canvas ImageData holds a screenshot
// (a Uint8ClampedArray), read back, and the links they carry accepted by the other functions.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../support/root.mjs';
import * as worker from '../../extension/pkg/pushotp.js';
import * as tools from '../../extension/pkg/pushotp_tools.js';

const pkg = (name) => readFile(path.join(ROOT, 'extension/pkg', name));
worker.initSync({ module: await pkg('pushotp_bg.wasm') });
tools.initSync({ module: await pkg('pushotp_tools_bg.wasm') });
const vectors = async (name) =>
  JSON.parse(await readFile(path.join(ROOT, 'crate/tests/vectors', name), 'utf8'));
const { codes } = await vectors('qr_codes.json');
const [activation, otpauth] = codes;

/** A white image shaped like a canvas ImageData. */
function image(width, height) {
  return { width, height, data: new Uint8ClampedArray(width * height * 4).fill(255) };
}

/** Draws a fixture's modules in `rgb` with the top-left module at (x, y), `scale` px each. */
function draw(img, code, x, y, scale, rgb = [0, 0, 0]) {
  code.modules.forEach((row, my) => {
    [...row].forEach((module, mx) => {
      if (module !== '#') return;
      for (let py = y + my * scale; py < y + (my + 1) * scale; py += 1) {
        for (let px = x + mx * scale; px < x + (mx + 1) * scale; px += 1) {
          img.data.set([...rgb, 255], (py * img.width + px) * 4);
        }
      }
    });
  });
  return img;
}

/** The `code` of the PushOtpError that `fn` throws. */
function errorCode(fn) {
  try {
    fn();
  } catch (err) {
    assert.equal(err.name, 'PushOtpError');
    return err.code;
  }
  assert.fail('expected an error');
}

test('decodeQr reads an activation link from ImageData pixels, and enrollment accepts it', () => {
  const img = draw(image(800, 600), activation, 213, 147, 4);
  const found = tools.decodeQr(img.data, img.width, img.height);
  assert.ok(Array.isArray(found));
  assert.deepEqual(found, [activation.text]);
  // Within the link's validity (exp=1764086400).
  const started = tools.enrollRequest(found[0], 'Chrome on laptop', 1_764_000_000_000);
  assert.equal(started.server, 'http://127.0.0.1:8080');
  assert.equal(started.tokenId, 'tok_7Q2mX9');
});

test('decodeQr reads every code of an image, from a Uint8Array too', () => {
  const img = draw(image(900, 500), activation, 30, 40, 5);
  draw(img, otpauth, 500, 60, 3, [20, 30, 110]);
  for (const data of [img.data, new Uint8Array(img.data.buffer)]) {
    const found = tools.decodeQr(data, img.width, img.height).sort();
    assert.deepEqual(found, [otpauth.text, activation.text]);
  }
  const token = tools.parseUri(otpauth.text);
  assert.equal(token.account, 'john.doe@email.com');
  assert.equal(token.issuer, 'ACME Co');
});

test('decodeQr gives an empty array when there is no code, and typed errors for bad sizes', () => {
  const blank = image(320, 200);
  assert.deepEqual(tools.decodeQr(blank.data, 320, 200), []);
  // Transparent black, as a fresh canvas is.
  assert.deepEqual(tools.decodeQr(new Uint8ClampedArray(64 * 64 * 4), 64, 64), []);
  assert.equal(errorCode(() => tools.decodeQr(blank.data, 321, 200)), 'invalid_image');
  assert.equal(errorCode(() => tools.decodeQr(blank.data, 0, 200)), 'invalid_image');
  assert.equal(errorCode(() => tools.decodeQr(blank.data, -1, 200)), 'invalid_image');
  assert.equal(errorCode(() => tools.decodeQr(new Uint8ClampedArray(0), 0, 0)), 'invalid_image');
  const wide = new Uint8ClampedArray(8193 * 4);
  assert.equal(errorCode(() => tools.decodeQr(wide, 8193, 1)), 'invalid_image');
  // The service worker's module leaves QR code reading out.
  assert.equal(worker.decodeQr, undefined);
});
