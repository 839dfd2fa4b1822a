// privacyIDEA's signatures through the tools package and WebCrypto, offline, on exchanges
// captured from a real privacyIDEA 3.14 (crate/tests/vectors/privacyidea_push.json): the
// server's signatures over the core's strings verify, an altered challenge does not, and the
// device's signatures (RSASSA-PKCS1-v1_5 is deterministic) come out byte for byte as the ones
// the server accepted.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../support/root.mjs';
import * as tools from '../../extension/pkg/pushotp_tools.js';

tools.initSync({ module: await readFile(path.join(ROOT, 'extension/pkg/pushotp_tools_bg.wasm')) });
const file = JSON.parse(await readFile(path.join(ROOT, 'crate/tests/vectors/privacyidea_push.json'), 'utf8'));
const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
const utf8 = (text) => new TextEncoder().encode(text);

const serverKey = await crypto.subtle.importKey('spki', tools.piServerKeySpki(file.server.public_key_detail), RSA, false, ['verify']);
const verify = (b32, message) => crypto.subtle.verify(RSA, serverKey, tools.piSignatureFromBase32(b32), utf8(message));
const challengeMessage = (c) => tools.piChallengeMessage(c.nonce, c.url, c.serial, c.question, c.title, c.sslverify, c.require_presence);

test('the server signatures of captured challenges verify over the core strings', async () => {
  assert.equal(file.server_challenges.length, 4);
  for (const { raw_challenge_from_poll: c } of file.server_challenges) {
    assert.ok(await verify(c.signature, challengeMessage(c)), c.nonce);
    assert.ok(await verify(c.capabilities_signature, tools.piCapabilitiesMessage(c.capabilities, c.nonce)), c.nonce);
  }
});

test('an altered challenge or capabilities does not verify', async () => {
  const c = file.server_challenges[1].raw_challenge_from_poll;
  assert.ok(c.require_presence);
  for (const altered of [
    { ...c, question: `${c.question} ` },
    { ...c, url: c.url.replace('/ttype/push', '/ttype/push/') },
    { ...c, require_presence: c.require_presence.split(',').reverse().join(',') },
    { ...c, require_presence: undefined },
    { ...c, sslverify: '1' },
  ]) {
    assert.equal(await verify(c.signature, challengeMessage(altered)), false);
  }
  assert.equal(await verify(c.capabilities_signature, tools.piCapabilitiesMessage('{"decline_reason": false}', c.nonce)), false);
  // Whitespace and member order do not matter: the capabilities are canonicalised (RFC 8785).
  assert.ok(await verify(c.capabilities_signature, tools.piCapabilitiesMessage('{ "decline_reason" :true }', c.nonce)));
  // privacyIDEA's base32 is strict: lower case or no padding is refused.
  assert.throws(() => tools.piSignatureFromBase32(c.signature.toLowerCase()), { code: 'invalid_base32' });
  assert.throws(() => tools.piSignatureFromBase32(c.signature.replace(/=+$/, '')), { code: 'invalid_base32' });
});

test('the device signatures the server accepted come out byte for byte', async () => {
  const key = await crypto.subtle.importKey('pkcs8', Buffer.from(file.phone.private_key_pkcs8_b64, 'base64'), RSA, false, ['sign']);
  assert.equal(file.vectors.length, 8);
  for (const vector of file.vectors) {
    assert.equal(vector.accepted, true, vector.name);
    const signature = new Uint8Array(await crypto.subtle.sign(RSA, key, utf8(vector.message)));
    assert.equal(tools.piSignatureToBase32(signature), vector.signature_b32, vector.name);
  }
});
