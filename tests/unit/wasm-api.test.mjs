// The WebAssembly packages' JavaScript API, loaded in Node exactly as built into
// extension/pkg/: every function against the vector files, and the typed errors.
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

/** Bytes as unpadded base32 (RFC 4648 §6), as tokens keep their secrets. */
function base32(bytes) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const byte of bytes) bits += byte.toString(2).padStart(8, '0');
  let text = '';
  for (let i = 0; i < bits.length; i += 5) text += alphabet[parseInt(bits.slice(i, i + 5).padEnd(5, '0'), 2)];
  return text;
}

/** The `code` of the PushOtpError that `fn` throws. */
function errorCode(fn) {
  try {
    fn();
  } catch (err) {
    assert.equal(err.name, 'PushOtpError');
    assert.ok(err instanceof Error);
    return err.code;
  }
  assert.fail('expected an error');
}

test('parseUri reads every good otpauth:// case, and codes come out right', async () => {
  const { good } = await vectors('otpauth_uris.json');
  for (const c of good) {
    if (c.counter > Number.MAX_SAFE_INTEGER) {
      // Valid in Rust, but no JavaScript number holds that counter exactly.
      assert.equal(errorCode(() => tools.parseUri(c.uri)), 'invalid_parameter', c.name);
      continue;
    }
    const token = tools.parseUri(c.uri);
    assert.equal(token.type, c.type, c.name);
    assert.equal(token.issuer, c.issuer ?? undefined, c.name);
    assert.equal(token.account, c.account, c.name);
    assert.equal(token.secret, c.secret_base32, c.name);
    assert.equal(token.algorithm, c.algorithm, c.name);
    assert.equal(token.digits, c.digits, c.name);
    assert.equal(tools.formatUri(token), c.canonical, c.name);
    if (c.type === 'totp') {
      assert.equal(token.period, c.period, c.name);
      assert.equal(worker.totp(token, c.code_time * 1000), c.code, c.name);
    } else {
      assert.equal(token.counter, c.counter, c.name);
      assert.equal(worker.hotp(token, c.counter), c.code, c.name);
    }
  }
});

test('parseUri refuses every bad case with its documented error code', async () => {
  const { bad } = await vectors('otpauth_uris.json');
  for (const c of bad) assert.equal(errorCode(() => tools.parseUri(c.uri)), c.error, c.name);
});

test('importMigration returns every token of every batch', async () => {
  const { good, bad } = await vectors('migration.json');
  let count = 0;
  for (const c of good) {
    const batch = tools.importMigration(c.link);
    assert.equal(batch.tokens.length, c.tokens.length, c.name);
    assert.equal(batch.batchSize, c.batch_size, c.name);
    c.tokens.forEach((want, i) => {
      const got = batch.tokens[i];
      assert.equal(got.secret, want.secret_base32, `${c.name} #${i}`);
      assert.equal(tools.formatUri(got), want.canonical, `${c.name} #${i}`);
      count += 1;
    });
  }
  assert.ok(count >= 20, `only ${count} tokens`);
  for (const c of bad) assert.equal(errorCode(() => tools.importMigration(c.link)), c.error, c.name);
});

test('ocra computes every RFC 6287 Appendix C response', async () => {
  const file = await vectors('rfc6287_ocra.json');
  for (const v of file.vectors) {
    const input = { question: v.questions.length === 1 ? v.questions[0] : v.questions };
    if (v.counter !== undefined) input.counter = v.counter;
    if (v.pin !== undefined) input.pin = v.pin;
    // Appendix C's timestamps count one-minute steps (T1M).
    if (v.timestamp !== undefined) input.timeMs = v.timestamp * 60_000;
    const what = `${v.section} ${v.suite} ${v.questions}`;
    assert.equal(tools.ocra(v.suite, file.keys_hex[v.key], input), v.response, what);
  }
  assert.equal(errorCode(() => tools.ocra('OCRA-1:HOTP-MD5-6:QN08', '3132', { question: '1' })), 'invalid_ocra_suite');
  assert.equal(errorCode(() => tools.ocra('OCRA-1:HOTP-SHA1-6:C-QN08', '3132', { question: '12345678' })), 'missing_ocra_input');
});

test('verification returns the matching step or counter, and refuses a changed code', async () => {
  const token = { type: 'totp', secret: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', digits: 8 };
  assert.equal(tools.verifyTotp(token, '94287082', 75_000, 1, 1), 1);
  assert.equal(tools.verifyTotp(token, '94287083', 59_000, 1, 1), undefined);
  assert.equal(tools.secondsLeft(token, 59_000), 1);
  const hotp = { type: 'hotp', secret: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', counter: 0 };
  assert.equal(tools.verifyHotp(hotp, '969429', 0, 5), 3);
  assert.equal(tools.verifyHotp(hotp, '969429', 4, 5), undefined);
});

test('bad values from JavaScript are typed errors', () => {
  const token = { type: 'totp', secret: 'JBSWY3DPEHPK3PXP' };
  assert.equal(errorCode(() => worker.totp(token, -1)), 'invalid_parameter');
  assert.equal(errorCode(() => worker.totp(token, Number.NaN)), 'invalid_parameter');
  assert.equal(errorCode(() => worker.totp({ ...token, digits: 12 }, 0)), 'invalid_digits');
  assert.equal(errorCode(() => worker.totp({ ...token, period: 0 }, 0)), 'invalid_period');
  assert.equal(errorCode(() => worker.totp({ ...token, secret: '' }, 0)), 'empty_secret');
  // Records the extension keeps beside a token (an id, a label) do not get in the way.
  assert.match(worker.totp({ ...token, id: 'x1', label: 'Work' }, 0), /^\d{6}$/);
  assert.equal(errorCode(() => worker.totp('otpauth://totp/a', 0)), 'invalid_parameter');
  for (const bad of [null, undefined, 42, { ...token, type: 'TOTP' }, { ...token, secret: 7 }, { ...token, algorithm: 'MD5' }, { ...token, digits: '6' }, { ...token, digits: 6.5 }, { ...token, period: -30 }]) {
    assert.equal(errorCode(() => worker.totp(bad, 0)), 'invalid_parameter', JSON.stringify(bad));
  }
  // Left-out and null properties take their defaults (SHA-1, 6 digits, 30 s).
  assert.equal(worker.totp({ ...token, algorithm: null, digits: null, period: undefined }, 59_000), worker.totp(token, 59_000));
  assert.equal(errorCode(() => worker.totp({ ...token, digits: 300 }, 0)), 'invalid_digits');
  assert.equal(errorCode(() => worker.hotp({ ...token, type: 'hotp' }, 1.5)), 'invalid_parameter');
  assert.equal(errorCode(() => worker.hotp(token, 1)), 'invalid_parameter');
  assert.equal(errorCode(() => tools.verifyTotp(token, '12a456', 0, 1, 1)), 'malformed_code');
  assert.equal(errorCode(() => tools.verifyTotp(token, '123456', 0, 1000, 1)), 'window_too_large');
  assert.equal(errorCode(() => tools.randomSecret(8)), 'invalid_parameter');
});

test('totpCodes gives the code of every token at one time, as numbers to pad', async () => {
  const { vectors: rows, secrets_hex: seeds } = await vectors('rfc6238_totp.json');
  const tokens = rows.map((v) => ({
    type: 'totp',
    secret: base32(Buffer.from(seeds[v.algorithm], 'hex')),
    algorithm: v.algorithm,
    digits: 8,
    id: `${v.algorithm}@${v.time}`,
  }));
  // RFC 6238 Appendix B has one time per row; the batch takes one time, so group by time.
  for (const time of new Set(rows.map((v) => v.time))) {
    const at = rows.filter((v) => v.time === time);
    const batch = at.map((v) => tokens[rows.indexOf(v)]);
    const numbers = worker.totpCodes(batch, time * 1000);
    assert.ok(numbers instanceof Uint32Array);
    assert.deepEqual(
      [...numbers].map((n, i) => String(n).padStart(batch[i].digits, '0')),
      at.map((v) => v.code),
      `T=${time}`,
    );
    // The same codes, one call per token.
    assert.deepEqual(
      [...numbers].map((n, i) => String(n).padStart(8, '0')),
      batch.map((t) => worker.totp(t, time * 1000)),
    );
  }
  // Leading zeros are the caller's to add; mixed digits and periods in one batch.
  const rfc = { type: 'totp', secret: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ' };
  const mixed = [
    { ...rfc, digits: 8 },
    { ...rfc, digits: 6, period: 60 },
    { ...rfc, digits: 10, label: 'kept beside it' },
  ];
  const at = 1_111_111_109_000;
  assert.deepEqual(
    [...worker.totpCodes(mixed, at)],
    mixed.map((t) => Number(worker.totp(t, at))),
  );
  assert.equal(worker.totpCodes([{ ...rfc, digits: 8 }], at)[0], 7_081_804); // 07081804
  assert.equal(worker.totpCodes([], at).length, 0);
  // One bad token makes the whole call throw its error, as `totp` would.
  assert.equal(errorCode(() => worker.totpCodes([rfc, { ...rfc, secret: '' }], at)), 'empty_secret');
  assert.equal(errorCode(() => worker.totpCodes([rfc, { ...rfc, type: 'hotp' }], at)), 'invalid_parameter');
  assert.equal(errorCode(() => worker.totpCodes([rfc, null], at)), 'invalid_parameter');
  assert.equal(errorCode(() => worker.totpCodes([rfc], -1)), 'invalid_parameter');
});

test('push requests and Web Push subscriptions are read by the wire rules', async () => {
  const file = await vectors('push_protocol.json');
  const kReq = Buffer.from(file.keys.request_hex, 'hex').toString('base64url');
  const kChan = Buffer.from(file.keys.channel_hex, 'hex').toString('base64url');
  const good = file.requests[0].json;
  const now = good.createdAt * 1000;
  for (const { json } of file.requests) worker.verifyPushRequest(json, kReq, json.createdAt * 1000);
  // A request whose number is typed: the field is covered by the tag, and only "type" is read.
  const typed = file.requests.find((r) => r.json.numberEntry === 'type')?.json;
  assert.ok(typed, 'a vector of a request whose number is typed');
  const { numberEntry, ...untyped } = typed;
  assert.equal(numberEntry, 'type');
  assert.equal(errorCode(() => worker.verifyPushRequest(untyped, kReq, typed.createdAt * 1000)), 'bad_tag');
  assert.equal(errorCode(() => worker.verifyPushRequest({ ...typed, numberEntry: 'choose' }, kReq, typed.createdAt * 1000)), 'invalid_message');
  assert.equal(errorCode(() => worker.verifyPushRequest({ ...typed, choices: [37, 82, 15] }, kReq, typed.createdAt * 1000)), 'invalid_message');
  // Optional fields may be null or left out.
  const bare = file.requests.find((r) => r.json.place === null && r.json.choices === null)?.json;
  if (bare) {
    const { place, choices, ...without } = bare;
    worker.verifyPushRequest(without, kReq, bare.createdAt * 1000);
    worker.verifyPushRequest({ ...without, place: undefined }, kReq, bare.createdAt * 1000);
  }
  for (const [what, bad] of [
    ['an unknown field', { ...good, admin: true }],
    ['an unknown place field', { ...good, place: { ...good.place, alt: 1 } }],
    ['four choices', { ...good, choices: [37, 82, 15, 16] }],
    ['two choices', { ...good, choices: [37, 82] }],
    ['a choice out of u8', { ...good, choices: [37, 82, 1500] }],
    ['a number as text', { ...good, choices: ['37', 82, 15] }],
    ['a fractional coordinate', { ...good, place: { ...good.place, latE6: 51.5142 } }],
    ['a negative time', { ...good, createdAt: -1 }],
    ['a time beyond 2^53', { ...good, expiresAt: 2 ** 60 }],
    ['a short id', { ...good, id: good.id.slice(1) }],
    ['a missing tag', { ...good, tag: undefined }],
    ['an array', [good]],
    ['a string', JSON.stringify(good)],
    ['null', null],
  ]) {
    assert.equal(errorCode(() => worker.verifyPushRequest(bad, kReq, now)), 'invalid_message', what);
  }
  const { at, subscription, tag_hex: tagHex } = file.webpush;
  const tag = Buffer.from(tagHex, 'hex').toString('base64url');
  assert.equal(worker.webPushTag(kChan, file.inputs.token_id, at, subscription), tag);
  // What browsers add beside it (expirationTime) is ignored; a wrong shape is refused.
  assert.equal(worker.webPushTag(kChan, file.inputs.token_id, at, { ...subscription, expirationTime: null }), tag);
  for (const bad of [{ endpoint: subscription.endpoint }, { ...subscription, keys: { auth: 'x' } }, { ...subscription, endpoint: 5 }, 'x']) {
    assert.equal(errorCode(() => worker.webPushTag(kChan, file.inputs.token_id, at, bad)), 'invalid_parameter');
  }
});

test('an enrollment gives the comparison code of its vector, and keeps only what is stored', async () => {
  const file = await vectors('push_protocol.json');
  const done = tools.completeEnrollment(file.link, file.enroll.json, file.enrolled.json);
  // Six digits, a leading zero kept: what the page that showed the link shows too (§3).
  assert.equal(done.confirmCode, file.enroll_confirm.code);
  assert.equal(done.keys.channel, Buffer.from(file.keys.channel_hex, 'hex').toString('base64url'));
  // Another redemption of the same link (another device nonce) has another code; its answer
  // does not verify for this request at all.
  const other = { ...file.enroll.json, deviceNonce: Buffer.alloc(16, 7).toString('base64url') };
  assert.equal(errorCode(() => tools.completeEnrollment(file.link, other, file.enrolled.json)), 'bad_tag');
});

test('a notice about a token verifies, field by field, only under its K_req and as sent', async () => {
  const file = await vectors('push_protocol.json');
  const kReq = Buffer.from(file.keys.request_hex, 'hex').toString('base64url');
  const kChan = Buffer.from(file.keys.channel_hex, 'hex').toString('base64url');
  const check = (key, n) => tools.isTokenNotice(key, n.v, n.tokenId, n.kind, n.at, n.tag);
  for (const { json } of file.notices) assert.equal(check(kReq, json), true, json.kind);
  assert.deepEqual(file.notices.map((n) => n.json.kind), ['wrong_passcodes', 'authenticator_added', 'failed_approvals']);
  const good = file.notices[0].json;
  for (const [what, key, bad] of [
    ['under K_chan', kChan, good],
    ['another kind', kReq, { ...good, kind: file.notices[1].json.kind }],
    ['a later time', kReq, { ...good, at: good.at + 1 }],
    ['another token', kReq, { ...good, tokenId: 'tok_other' }],
    ['another version', kReq, { ...good, v: 1 }],
    ['an unknown kind', kReq, { ...good, kind: 'locked' }],
    ['a time that is no whole number', kReq, { ...good, at: good.at + 0.5 }],
    ['a tag that is no base64url', kReq, { ...good, tag: 'not base64url!' }],
    ['the tag of the end of a request', kReq, { ...good, tag: file.ended[0].json.tag }],
  ]) {
    assert.equal(check(key, bad), false, what);
  }
  // Only the worker's rare path needs it: the worker's own module leaves it out.
  assert.equal(worker.isTokenNotice, undefined);
});

test("the sign-in code of an approval's reply verifies under the token's K_req, for its request only", async () => {
  const file = await vectors('push_protocol.json');
  const kReq = Buffer.from(file.keys.request_hex, 'hex').toString('base64url');
  const kChan = Buffer.from(file.keys.channel_hex, 'hex').toString('base64url');
  const { request: index, login_code: code, tag_hex: tagHex } = file.login_code;
  const { id, tokenId } = file.requests[index].json;
  const tag = Buffer.from(tagHex, 'hex').toString('base64url');
  assert.equal(tools.verifyLoginCode(kReq, id, tokenId, code, tag), undefined);
  const otherId = file.requests.find((r) => r.json.id !== id).json.id;
  for (const [what, call] of [
    ['under K_chan', () => tools.verifyLoginCode(kChan, id, tokenId, code, tag)],
    ['another request', () => tools.verifyLoginCode(kReq, otherId, tokenId, code, tag)],
    ['another token', () => tools.verifyLoginCode(kReq, id, 'tok_other', code, tag)],
    ['another code', () => tools.verifyLoginCode(kReq, id, tokenId, '493028', tag)],
    ['a cut tag', () => tools.verifyLoginCode(kReq, id, tokenId, code, tag.slice(0, 40))],
  ]) {
    assert.equal(errorCode(call), 'bad_tag', what);
  }
  for (const bad of ['49302', '49302a', '12345678901']) {
    assert.equal(errorCode(() => tools.verifyLoginCode(kReq, id, tokenId, bad, tag)), 'invalid_message', bad);
  }
});

test('a bound approval: the request commits to its page binding, and the answer carries it as the vector says', async () => {
  const file = await vectors('push_protocol.json');
  const key = (hex) => Buffer.from(hex, 'hex').toString('base64url');
  const [kReq, kChan, kAns] = [file.keys.request_hex, file.keys.channel_hex, file.keys.answer_hex].map(key);
  const { binding, request: { json: request }, answer: { json: expected } } = file.page_binding;
  assert.equal(worker.verifyPushRequest(request, kReq, request.createdAt * 1000), undefined);
  assert.equal(tools.bindingMatches(request, binding), true);
  const other = Buffer.alloc(16, 0xf0).toString('base64url');
  for (const [what, req, b] of [
    ['another page load', request, other],
    ['a malformed binding', request, binding.slice(1)],
    ['a request without a hash', file.requests[0].json, binding],
  ]) {
    assert.equal(tools.bindingMatches(req, b), false, what);
  }
  const answer = worker.approveAnswer(request, null, expected.passcode, expected.answeredAt * 1000, kChan, kAns, binding);
  assert.deepEqual(answer, expected);
  // Another page's binding is refused, and an unbound approval still needs its number.
  assert.equal(errorCode(() => worker.approveAnswer(request, null, expected.passcode, Date.now(), kChan, kAns, other)), 'invalid_message');
  assert.equal(errorCode(() => worker.approveAnswer(request, null, expected.passcode, Date.now(), kChan, kAns, null)), 'invalid_message');
  assert.equal(worker.approveAnswer(request, 37, expected.passcode, Date.now(), kChan, kAns, null).binding, undefined);
});

test('the notice that a request ended verifies under its K_req and says why', async () => {
  const file = await vectors('push_protocol.json');
  const kReq = Buffer.from(file.keys.request_hex, 'hex').toString('base64url');
  const kChan = Buffer.from(file.keys.channel_hex, 'hex').toString('base64url');
  for (const { json } of file.ended) assert.equal(worker.verifyPushEnded(json, kReq), json.reason);
  const good = file.ended[0].json;
  const other = good.reason === 'expired' ? 'replaced' : 'expired';
  assert.equal(errorCode(() => worker.verifyPushEnded(good, kChan)), 'bad_tag');
  assert.equal(errorCode(() => worker.verifyPushEnded({ ...good, reason: other }, kReq)), 'bad_tag');
  assert.equal(errorCode(() => worker.verifyPushEnded({ ...good, id: file.ended[1].json.id }, kReq)), 'bad_tag');
  assert.equal(errorCode(() => worker.verifyPushEnded({ ...good, v: 1 }, kReq)), 'unsupported_version');
  for (const [what, bad] of [
    ['an unknown reason', { ...good, reason: 'cancelled' }],
    ['an unknown field', { ...good, app: 'Payroll' }],
    ['no reason', { ...good, reason: undefined }],
    ['a push request', file.requests[0].json],
    ['null', null],
  ]) {
    assert.equal(errorCode(() => worker.verifyPushEnded(bad, kReq)), 'invalid_message', what);
  }
});

test('each passcode hash and length: the enrollment answer and the request-bound approval of the vectors', async () => {
  const file = await vectors('push_protocol.json');
  const hex64 = (hex) => Buffer.from(hex, 'hex').toString('base64url');
  assert.deepEqual(
    file.approvals.map((v) => `${v.algorithm}/${v.digits}`),
    ['SHA1/6', 'SHA256/8', 'SHA512/10'],
  );
  for (const v of file.approvals) {
    const token = tools.completeEnrollment(file.link, file.enroll.json, v.enrolled.json);
    assert.deepEqual(token.otp, { algorithm: v.algorithm, digits: v.digits }, v.suite);
    assert.equal(token.keys.otp, hex64(file.keys.otp_hex[v.algorithm]), v.suite);
    const request = file.requests[v.answer.request].json;
    const passcode = worker.pushPasscode(token.keys.otp, v.algorithm, v.digits, request.id);
    assert.equal(passcode, v.passcode, v.suite);
    // The OCRA response of the tools module's general OCRA (RFC 6287) is the same.
    const question = Buffer.from(request.id, 'base64url').toString('hex');
    assert.equal(tools.ocra(v.suite, file.keys.otp_hex[v.algorithm], { question }), v.passcode, v.suite);
    const { answeredAt, number } = v.answer.json;
    const answer = worker.approveAnswer(request, number, passcode, answeredAt * 1000, token.keys.channel, token.keys.answer);
    assert.deepEqual(answer, v.answer.json, v.suite);
    // A changed enrollment answer is refused.
    const changed = { ...v.enrolled.json, otp: { ...v.enrolled.json.otp, digits: v.digits === 6 ? 8 : 6 } };
    assert.equal(errorCode(() => tools.completeEnrollment(file.link, file.enroll.json, changed)), 'bad_tag');
  }
  // A version 1 answer is refused, whatever it holds.
  assert.equal(errorCode(() => tools.completeEnrollment(file.link, file.enroll.json, { ...file.enrolled.json, v: 1 })), 'unsupported_version');
});

test('randomSecret gives fresh, decodable secrets', () => {
  const a = tools.randomSecret(20);
  const b = tools.randomSecret(20);
  assert.match(a, /^[A-Z2-7]{32}$/);
  assert.notEqual(a, b);
  assert.match(worker.totp({ type: 'totp', secret: a }, Date.now()), /^\d{6}$/);
});

test('PIN-masked keys of every length unmask as the protocol vectors say', async () => {
  const file = await vectors('push_protocol.json');
  const b64 = (hex) => Buffer.from(hex, 'hex').toString('base64url');
  const rows = [{ ...file.pin, algorithm: 'SHA1' }, ...file.pin_longer_keys];
  assert.deepEqual(rows.map((r) => r.algorithm), ['SHA1', 'SHA256', 'SHA512']);
  for (const v of rows) {
    const otp = b64(file.keys.otp_hex[v.algorithm]);
    assert.deepEqual(tools.unmaskKeys(v.masked, v.pin), { otp, answer: b64(file.keys.answer_hex) }, v.algorithm);
    assert.deepEqual(tools.unmaskKeys(v.masked, v.wrong_pin), { otp: b64(v.wrong_otp_hex), answer: b64(v.wrong_answer_hex) }, v.algorithm);
  }
});
