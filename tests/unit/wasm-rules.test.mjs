// The rules the core keeps for the extension's worker, through the packages as built into
// extension/pkg/ and loaded in Node: the checks of a token before it is stored, the typed
// purpose of the channel tags, privacyIDEA challenges and privacyIDEA device keys. Each binding's
// result, and its error codes, which are the ones the extension reported before the core held
// these rules.
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
const vectors = async (name) => JSON.parse(await readFile(path.join(ROOT, 'crate/tests/vectors', name), 'utf8'));

/** The `code` of the PushOtpError that `fn` throws. */
function errorCode(fn) {
  try {
    fn();
  } catch (err) {
    assert.equal(err.name, 'PushOtpError', err.message);
    return err.code;
  }
  assert.fail('expected an error');
}

const base64url = (bytes) => Buffer.from(bytes).toString('base64url');
const hexKey = (hex) => base64url(Buffer.from(hex, 'hex'));

// Everyday tokens ------------------------------------------------------------------------------

const TOTP = { type: 'totp', issuer: 'ACME', account: 'alice@acme.test', secret: 'JBSWY3DPEHPK3PXP' };

test('checkOtpToken returns the token normalised, in the order the worker stores it', () => {
  const token = tools.checkOtpToken({
    ...TOTP,
    issuer: ' ACME\u00a0',
    secret: 'jbsw y3dp-ehpk 3pxp====',
    sites: ['https://acme.test', 'http://127.0.0.1:8080', 'https://acme.test'],
    id: 'kept by the caller, not here',
  });
  assert.deepEqual(token, {
    issuer: 'ACME',
    account: 'alice@acme.test',
    type: 'totp',
    algorithm: 'SHA1',
    digits: 6,
    period: 30,
    sites: ['https://acme.test', 'http://127.0.0.1:8080'],
    secret: 'JBSWY3DPEHPK3PXP',
  });
  assert.deepEqual(Object.keys(token), ['issuer', 'account', 'type', 'algorithm', 'digits', 'period', 'sites', 'secret']);
  // The normalised token makes the codes the given one makes.
  assert.equal(worker.totp(token, 1_700_000_000_000), worker.totp(TOTP, 1_700_000_000_000));

  const hotp = tools.checkOtpToken({ type: 'hotp', account: 'bob', secret: 'GEZDGNBVGY3TQOJQ', algorithm: 'SHA256', digits: 8, counter: 2 ** 53 - 1, issuer: null, sites: null });
  assert.deepEqual(hotp, { issuer: '', account: 'bob', type: 'hotp', algorithm: 'SHA256', digits: 8, counter: 2 ** 53 - 1, sites: [], secret: 'GEZDGNBVGY3TQOJQ' });
  assert.equal('period' in hotp, false);
  assert.equal(tools.checkOtpToken({ ...TOTP, type: 'hotp' }).counter, 0);
  assert.equal(tools.checkOtpToken({ ...TOTP, period: null }).period, 30);
  // JavaScript's upper case: `ſ` (long s) is an S.
  assert.equal(tools.checkOtpToken({ ...TOTP, secret: 'jbſwy3dpehpk3pxp' }).secret, 'JBSWY3DPEHPK3PXP');
});

test('checkOtpToken refuses a bad token with the error code of its first broken rule', () => {
  const hotp = { ...TOTP, type: 'hotp' };
  for (const [token, code] of [
    [undefined, 'invalid_parameter'],
    [null, 'invalid_parameter'],
    ['totp', 'invalid_parameter'],
    [[], 'unknown_token_type'],
    [{ ...TOTP, type: 'TOTP' }, 'unknown_token_type'],
    [{ ...TOTP, type: undefined, algorithm: 'MD5' }, 'unknown_token_type'],
    [{ ...TOTP, algorithm: null }, 'unknown_algorithm'],
    [{ ...TOTP, algorithm: 'sha256' }, 'unknown_algorithm'],
    [{ ...TOTP, digits: null }, 'invalid_digits'],
    [{ ...TOTP, digits: '6' }, 'invalid_digits'],
    [{ ...TOTP, digits: 6.5 }, 'invalid_digits'],
    [{ ...TOTP, digits: NaN }, 'invalid_digits'],
    [{ ...TOTP, digits: 11 }, 'invalid_digits'],
    [{ ...TOTP, secret: undefined }, 'empty_secret'],
    [{ ...TOTP, secret: 12345 }, 'empty_secret'],
    [{ ...TOTP, secret: ' = -\u3000\ufeff' }, 'empty_secret'],
    [{ ...TOTP, issuer: 42 }, 'invalid_parameter'],
    [{ ...TOTP, issuer: 'tab\there' }, 'invalid_parameter'],
    [{ ...TOTP, account: 'x'.repeat(257) }, 'invalid_parameter'],
    [{ ...TOTP, account: '😀'.repeat(129) }, 'invalid_parameter'],
    [{ ...TOTP, period: 0 }, 'invalid_period'],
    [{ ...TOTP, period: 86_401 }, 'invalid_period'],
    [{ ...TOTP, period: '30' }, 'invalid_period'],
    [{ ...hotp, counter: -1 }, 'invalid_parameter'],
    [{ ...hotp, counter: 2 ** 53 }, 'invalid_parameter'],
    [{ ...hotp, counter: 1.5 }, 'invalid_parameter'],
    [{ ...TOTP, sites: 'https://acme.test' }, 'invalid_parameter'],
    [{ ...TOTP, sites: ['https://acme.test/'] }, 'invalid_parameter'],
    [{ ...TOTP, sites: ['https://ACME.test'] }, 'invalid_parameter'],
    [{ ...TOTP, sites: ['http://acme.test:80'] }, 'invalid_parameter'],
    [{ ...TOTP, sites: [new URL('https://acme.test')] }, 'invalid_parameter'],
    [{ ...TOTP, sites: Array.from({ length: 65 }, (_, i) => `https://s${i}.test`) }, 'invalid_parameter'],
    [{ ...TOTP, issuer: '  ', account: undefined }, 'invalid_parameter'],
    [{ ...TOTP, secret: 'AB1!' }, 'invalid_base32'],
    [{ ...TOTP, secret: 'A'.repeat(2049) }, 'too_long'],
    // A bad name is found before a bad period, and the secret's base32 last.
    [{ ...TOTP, issuer: 1, period: 0 }, 'invalid_parameter'],
    [{ ...TOTP, secret: '!', period: 0 }, 'invalid_period'],
  ]) {
    assert.equal(errorCode(() => tools.checkOtpToken(token)), code, JSON.stringify(token));
  }
  const sites = Array.from({ length: 64 }, (_, i) => `https://s${i}.test`);
  assert.equal(tools.checkOtpToken({ ...TOTP, sites }).sites.length, 64);
  assert.equal(tools.checkOtpToken({ ...TOTP, account: '😀'.repeat(128) }).account.length, 256);
});

test('checkOtpNames checks the new names of a token as checkOtpToken checks them', () => {
  assert.deepEqual(tools.checkOtpNames(' ACME ', undefined), { issuer: 'ACME', account: '' });
  assert.deepEqual(tools.checkOtpNames(null, 'bob\u3000'), { issuer: '', account: 'bob' });
  for (const [issuer, account] of [
    ['', ' '],
    [undefined, null],
    [42, 'bob'],
    ['ACME', 'a\u0000b'],
    ['ACME', 'x'.repeat(257)],
  ]) {
    assert.equal(errorCode(() => tools.checkOtpNames(issuer, account)), 'invalid_parameter', `${issuer} ${account}`);
  }
});

// Push tokens ----------------------------------------------------------------------------------

const KEY = base64url(new Uint8Array(32).fill(7));
// K_otp is as long as its hash's output: 20 bytes for SHA-1 (protocol §1).
const OTP_KEY = base64url(new Uint8Array(20).fill(7));
const PUSH = {
  tokenId: 'tok_1',
  tokenName: 'Work',
  user: 'alice',
  issuer: 'Demo Org',
  server: 'https://push.example.net',
  otp: { type: 'hotp', algorithm: 'SHA1', digits: 6, counter: 0 },
  pin: { required: false, maxTries: 5 },
  keys: { otp: OTP_KEY, request: KEY, answer: KEY, channel: KEY },
};

test('checkPushToken accepts enrolled tokens and refuses incomplete ones with invalid_token', () => {
  assert.equal(tools.checkPushToken(PUSH), undefined);
  assert.equal(tools.checkPushToken({ ...PUSH, server: 'http://127.0.0.1:8080/base/' }), undefined);
  const masked = { ...PUSH, tokenId: 'tok_2', server: 'https://a', pin: { required: true, maxTries: 5 }, keys: { request: KEY, channel: KEY }, masked: {} };
  assert.equal(tools.checkPushToken(masked), undefined);
  for (const token of [
    null,
    {},
    { ...PUSH, tokenId: 7 },
    { ...PUSH, server: 'ftp://push.example.net' },
    { ...PUSH, server: 'https://push.example.net/?x' },
    { ...PUSH, server: 'https://push example.net' },
    { ...PUSH, keys: { ...PUSH.keys, request: KEY.slice(1) } },
    { ...PUSH, keys: { ...PUSH.keys, channel: `${KEY.slice(1)}=` } },
    { ...PUSH, keys: { ...PUSH.keys, answer: undefined } },
    { ...masked, masked: undefined },
    { ...masked, masked: 'masked' },
    { ...masked, keys: { ...masked.keys, otp: KEY } },
    { ...masked, keys: { ...masked.keys, answer: KEY } },
    { ...masked, pin: { required: 1 }, keys: PUSH.keys },
  ]) {
    assert.equal(errorCode(() => tools.checkPushToken(token)), 'invalid_token', JSON.stringify(token));
  }
});

// Channel tags ---------------------------------------------------------------------------------

test('signedAt takes its purpose as a typed choice: "poll" or "remove"', async () => {
  const file = await vectors('push_protocol.json');
  const kChan = hexKey(file.keys.channel_hex);
  const tokenId = file.inputs.token_id;
  for (const purpose of ['poll', 'remove']) {
    const { at, tag_hex } = file[purpose];
    assert.equal(worker.signedAt(purpose, kChan, tokenId, at), hexKey(tag_hex), purpose);
  }
  for (const other of ['Poll', 'webpush', '', 0, 1, null, undefined]) {
    assert.equal(errorCode(() => worker.signedAt(other, kChan, tokenId, 1)), 'invalid_parameter', String(other));
  }
  // The TypeScript declarations name the two purposes, so a checked caller cannot misspell one.
  const declarations = await readFile(path.join(ROOT, 'extension/pkg/pushotp.d.ts'), 'utf8');
  assert.match(declarations, /type SignedPurpose = "poll" \| "remove";/);
  assert.match(declarations, /export function signedAt\(purpose: SignedPurpose,/);
});

// privacyIDEA ----------------------------------------------------------------------------------

const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
const utf8 = (text) => new TextEncoder().encode(text);

test('piCheckChallenge passes captured challenges, whose signatures verify over what it returns', async () => {
  const file = await vectors('privacyidea_push.json');
  const serial = file.enroll_uri_parsed.serial;
  const serverKey = await crypto.subtle.importKey('spki', tools.piServerKeySpki(file.server.public_key_detail), RSA, false, ['verify']);
  const verify = (b32, message) => crypto.subtle.verify(RSA, serverKey, tools.piSignatureFromBase32(b32), utf8(message));
  for (const { raw_challenge_from_poll: c, signed_string } of file.server_challenges) {
    const checked = tools.piCheckChallenge(c, serial);
    assert.equal(checked.message, signed_string);
    assert.ok(await verify(c.signature, checked.message), c.nonce);
    assert.ok(await verify(c.capabilities_signature, checked.capabilitiesMessage), c.nonce);
    assert.equal(checked.declineReason, true);
    for (const field of ['nonce', 'url', 'serial', 'question', 'title', 'sslverify']) assert.equal(checked[field], c[field]);
    assert.equal(checked.requirePresence, c.require_presence);
    assert.deepEqual(checked.choices, c.require_presence ? c.require_presence.split(',') : undefined);
  }
});

test('piCheckChallenge refuses incomplete, foreign or badly capable challenges', async () => {
  const file = await vectors('privacyidea_push.json');
  const serial = file.enroll_uri_parsed.serial;
  const c = file.server_challenges[1].raw_challenge_from_poll;
  // Without capabilities there is nothing more to sign; a presence field that is no text is
  // left out of the signed string.
  const plain = tools.piCheckChallenge({ ...c, capabilities: null, capabilities_signature: undefined, require_presence: 3 }, serial);
  assert.equal(plain.capabilitiesMessage, undefined);
  assert.equal(plain.declineReason, false);
  assert.equal(plain.choices, undefined);
  assert.equal(plain.message, [c.nonce, c.url, c.serial, c.question, c.title, c.sslverify].join('|'));
  for (const bad of [
    null,
    'challenge',
    { ...c, nonce: undefined },
    { ...c, title: 7 },
    { ...c, sslverify: false },
    { ...c, serial: 'PIPU00000000' },
    { ...c, capabilities: undefined },
    { ...c, capabilities: { decline_reason: true } },
    { ...c, capabilities: '["decline_reason"]' },
    { ...c, capabilities: '{"decline_reason": true, "decline_reason": false}' },
  ]) {
    assert.equal(errorCode(() => tools.piCheckChallenge(bad, serial)), 'invalid_message', JSON.stringify(bad));
  }
});

/** Whether `signatureB32` (privacyIDEA's base32) verifies `message` under a base64 SPKI key. */
async function piVerifies(spkiB64, message, signatureB32) {
  const key = await crypto.subtle.importKey('spki', Buffer.from(spkiB64, 'base64'), { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['verify']);
  return crypto.subtle.verify('RSASSA-PKCS1-v1_5', key, tools.piSignatureFromBase32(signatureB32), utf8(message));
}

test('privacyIDEA devices: a seed derives the key, a PIN masks the seed and nothing confirms it', async () => {
  // A token without a PIN: its seed plain; the key it derives signs what its public key verifies.
  const plain = tools.piNewDevice(null);
  assert.deepEqual(Object.keys(plain).sort(), ['publicKey', 'secret', 'seed']);
  assert.deepEqual(Object.keys(plain.secret), ['seed']);
  assert.equal(plain.secret.seed, plain.seed);
  assert.match(plain.publicKey, /^MIIBIjANBgkqhkiG9w0BAQEF/);
  assert.equal(tools.piDeviceSeed(plain.secret, null), plain.seed);
  const key = new tools.PiDeviceKey(plain.seed);
  assert.ok(await piVerifies(plain.publicKey, 'PIPU0001|2026-01-01T00:00:00.000Z', key.sign('PIPU0001|2026-01-01T00:00:00.000Z')));
  key.free();

  // A PIN token: the seed masked, no digest, no key; the right PIN unmasks it, every other PIN
  // gives another seed whose key privacyIDEA would refuse.
  const pinned = tools.piNewDevice('13579');
  assert.deepEqual(Object.keys(pinned.secret), ['masked']);
  assert.deepEqual(Object.keys(pinned.secret.masked).sort(), ['masked', 'params', 'salt']);
  assert.ok(!JSON.stringify(pinned.secret).includes(pinned.seed));
  assert.equal(tools.piDeviceSeed(pinned.secret, '13579'), pinned.seed);
  for (const wrong of ['13578', '1357', '0000']) {
    const other = tools.piDeviceSeed(pinned.secret, wrong);
    assert.notEqual(other, pinned.seed, wrong);
    const wrongKey = new tools.PiDeviceKey(other);
    assert.equal(await piVerifies(pinned.publicKey, 'n|s', wrongKey.sign('n|s')), false, wrong);
    wrongKey.free();
  }
  // Fresh seeds every time.
  assert.notEqual(tools.piNewDevice(null).seed, plain.seed);

  // A PIN token never gives its seed without a PIN of digits; new PINs are 4 to 64 digits.
  for (const pin of [null, undefined, '', 'abcd', 1234, ['13579']]) {
    assert.equal(errorCode(() => tools.piDeviceSeed(pinned.secret, pin)), 'pin_required', String(pin));
  }
  for (const pin of ['', '123', '12a4', ' 1234', '١٢٣٤', '1'.repeat(65), 1234]) {
    assert.equal(errorCode(() => tools.piNewDevice(pin)), 'pin_required', String(pin));
  }
  // The PIN check of earlier versions is no device secret: such tokens are enrolled again.
  const old = { masked: tools.maskKeys(base64url(new Uint8Array(32)), base64url(new Uint8Array(32)), '2468'), digest: 'x' };
  assert.equal(errorCode(() => tools.piDeviceSeed(old, '2468')), 'invalid_message');
  assert.equal(errorCode(() => new tools.PiDeviceKey('AAAA')), 'invalid_message');
});

test('a token confirmed for as many sites as the worker lets the person confirm is still one the core takes', async () => {
  // fill.js admits a new site while a token has fewer than MAX_SITES; an export or an add of
  // such a token must pass the core's check, and one site more must not.
  const { MAX_SITES } = await import('../../extension/fill.js');
  const sites = (n) => Array.from({ length: n }, (_, i) => `https://site${i}.example`);
  assert.equal(tools.checkOtpToken({ ...TOTP, sites: sites(MAX_SITES) }).sites.length, MAX_SITES);
  assert.equal(errorCode(() => tools.checkOtpToken({ ...TOTP, sites: sites(MAX_SITES + 1) })), 'invalid_parameter');
});
