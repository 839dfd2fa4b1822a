// The push protocol through the WebAssembly packages, against the real reference server:
// enroll from the activation link, receive a request by poll, check it, approve with the right
// number, deny and report; PIN masking; and the restore of an imported token. This is what the
// extension's pages and worker do.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ROOT } from '../support/root.mjs';
import { signIn, startServer } from '../support/server.mjs';
import * as worker from '../../extension/pkg/pushotp.js';
import * as tools from '../../extension/pkg/pushotp_tools.js';

const pkg = (name) => readFile(path.join(ROOT, 'extension/pkg', name));
worker.initSync({ module: await pkg('pushotp_bg.wasm') });
tools.initSync({ module: await pkg('pushotp_tools_bg.wasm') });

let server;
let token;
before(async () => {
  server = await startServer();
});
after(async () => server?.stop());

async function post(pathname, body) {
  const reply = await fetch(`${server.url}${pathname}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: reply.status, body: await reply.json() };
}

async function pending() {
  const at = Math.floor(Date.now() / 1000);
  const tag = worker.signedAt('poll', token.keys.channel, token.tokenId, at);
  const reply = await post('/api/v1/devices/pending', { tokens: [{ tokenId: token.tokenId, at, tag }] });
  assert.equal(reply.status, 200, JSON.stringify(reply.body));
  return reply.body.requests;
}

function errorCode(fn) {
  try {
    fn();
  } catch (err) {
    return err.code;
  }
  assert.fail('expected an error');
}

test('enrollment from the activation link gives the device its keys', async () => {
  const started = tools.enrollRequest(server.link, 'Chrome on laptop', Date.now());
  assert.equal(started.server, server.url);
  const reply = await post('/api/v1/enroll', started.request);
  assert.equal(reply.status, 200, JSON.stringify(reply.body));
  // An answer changed on the way is refused.
  assert.equal(errorCode(() => tools.completeEnrollment(server.link, started.request, { ...reply.body, user: 'mallory' })), 'bad_tag');
  token = tools.completeEnrollment(server.link, started.request, reply.body);
  assert.equal(token.tokenId, started.tokenId);
  assert.equal(token.user, 'alice');
  assert.deepEqual(token.otp, { algorithm: 'SHA1', digits: 6 });
  assert.deepEqual(Object.keys(token.keys).sort(), ['answer', 'channel', 'otp', 'request']);
  // The link works once.
  const again = tools.enrollRequest(server.link, 'second', Date.now());
  assert.equal((await post('/api/v1/enroll', again.request)).status, 401);
});

test('a request is checked, and approved with the right number and its own passcode', async () => {
  const browser = await signIn(server.url, 'alice', 'alice-demo');
  const { status, body } = await browser.push();
  assert.equal(status, 200);
  const [request] = await pending();
  worker.verifyPushRequest(request, token.keys.request, Date.now());
  assert.ok(request.choices.includes(body.number));
  assert.equal(request.app, 'Demo Portal');
  // Anything changed on the way fails the tag.
  assert.equal(errorCode(() => worker.verifyPushRequest({ ...request, origin: 'https://evil.example' }, token.keys.request, Date.now())), 'bad_tag');
  assert.equal(errorCode(() => worker.verifyPushRequest(request, token.keys.channel, Date.now())), 'bad_tag');
  assert.equal(errorCode(() => worker.verifyPushRequest(request, token.keys.request, (request.expiresAt + 1) * 1000)), 'expired');
  // A number that is not offered cannot even be sent.
  assert.equal(errorCode(() => worker.approveAnswer(request, 100, '123456', Date.now(), token.keys.channel, token.keys.answer)), 'invalid_message');
  // The passcode is bound to the request (docs/protocol.md §5): the same for every try of it.
  const passcode = worker.pushPasscode(token.keys.otp, token.otp.algorithm, token.otp.digits, request.id);
  assert.equal(worker.pushPasscode(token.keys.otp, token.otp.algorithm, token.otp.digits, request.id), passcode);
  assert.notEqual(worker.pushPasscode(token.keys.otp, token.otp.algorithm, token.otp.digits, 'AAAAAAAAAAAAAAAAAAAAAA'), passcode);
  const answer = worker.approveAnswer(request, body.number, passcode, Date.now(), token.keys.channel, token.keys.answer);
  const reply = await post('/api/v1/answers', answer);
  assert.deepEqual(Object.keys(reply.body).sort(), ['loginCode', 'loginCodeTag', 'reason', 'status', 'triesLeft']);
  assert.equal(reply.body.status, 'approved');
  // The sign-in code for the login page is the server's, not the passcode, tagged under K_req
  // for this request.
  assert.match(reply.body.loginCode, /^\d{6}$/);
  assert.notEqual(reply.body.loginCode, passcode);
  assert.equal(tools.verifyLoginCode(token.keys.request, request.id, token.tokenId, reply.body.loginCode, reply.body.loginCodeTag), undefined);
  assert.equal((await post('/api/v1/answers', answer)).status, 409);
});

test('a denial and a report need no PIN', async () => {
  const browser = await signIn(server.url, 'alice', 'alice-demo');
  await browser.push();
  const [request] = await pending();
  const reply = await post('/api/v1/answers', worker.denyAnswer(request, true, Date.now(), token.keys.channel));
  assert.equal(reply.body.status, 'reported');
});

test('PIN masking: the right PIN gives the keys back, a wrong one other keys', () => {
  const masked = tools.maskKeys(token.keys.otp, token.keys.answer, '4711');
  assert.ok(!JSON.stringify(masked).includes(token.keys.otp));
  const right = tools.unmaskKeys(masked, '4711');
  assert.deepEqual(right, { otp: token.keys.otp, answer: token.keys.answer });
  const wrong = tools.unmaskKeys(masked, '4712');
  assert.notEqual(wrong.otp, token.keys.otp);
  assert.notEqual(wrong.answer, token.keys.answer);
  assert.equal(errorCode(() => tools.maskKeys(token.keys.otp, token.keys.answer, '')), 'invalid_pin');
});

test('channel tags match what the server checks', async () => {
  const at = Math.floor(Date.now() / 1000);
  const wrong = worker.signedAt('poll', token.keys.request, token.tokenId, at);
  const reply = await post('/api/v1/devices/pending', { tokens: [{ tokenId: token.tokenId, at, tag: wrong }] });
  assert.equal(reply.status, 401);
  assert.equal(errorCode(() => worker.signedAt('other', token.keys.channel, token.tokenId, at)), 'invalid_parameter');
  assert.match(worker.channelAuthTag(token.keys.channel, token.tokenId, 'AAAAAAAAAAAAAAAAAAAAAA'), /^[A-Za-z0-9_-]{43}$/);
});

test('a restore gives the keys the server moved to; the old keys get a proven refusal', async () => {
  const nonce = 'AAECAwQFBgcICQoLDA0ODw';
  const tag = worker.restoreTag(token.keys.channel, token.tokenId, nonce);
  const reply = await post('/api/v1/devices/restore', { v: 2, tokenId: token.tokenId, nonce, tag });
  assert.equal(reply.status, 200, JSON.stringify(reply.body));
  assert.equal(reply.body.counter, 0, 'no counter: passcodes are bound to the request');
  const { v, tokenId, counter: next, tag: answerTag } = reply.body;
  // An answer changed on the way, or checked for another nonce, is refused.
  assert.equal(errorCode(() => worker.restoredKeys(token.keys.channel, tokenId, nonce, v, tokenId, next + 1, answerTag)), 'bad_tag');
  assert.equal(errorCode(() => worker.restoredKeys(token.keys.channel, tokenId, nonce, 1, tokenId, next, answerTag)), 'unsupported_version');
  assert.equal(errorCode(() => worker.restoredKeys(token.keys.channel, tokenId, 'AAAAAAAAAAAAAAAAAAAAAA', v, tokenId, next, answerTag)), 'bad_tag');
  assert.equal(errorCode(() => worker.restoredKeys(token.keys.channel, tokenId, nonce, v, 'tok_other', next, answerTag)), 'invalid_message');
  const [request, channel] = worker.restoredKeys(token.keys.channel, tokenId, nonce, v, tokenId, next, answerTag);
  assert.match(request, /^[A-Za-z0-9_-]{43}$/);
  assert.notEqual(channel, token.keys.channel);
  // The old keys are refused with a tag only the old request key verifies.
  const at = Math.floor(Date.now() / 1000);
  const old = await post('/api/v1/devices/pending', { tokens: [{ tokenId, at, tag: worker.signedAt('poll', token.keys.channel, tokenId, at) }] });
  assert.equal(old.status, 410);
  assert.equal(old.body.error, 'restored_elsewhere');
  assert.equal(tools.isRestoredElsewhere(token.keys.request, tokenId, old.body.tag), true);
  assert.equal(tools.isRestoredElsewhere(request, tokenId, old.body.tag), false);
  assert.equal(tools.isRestoredElsewhere(token.keys.request, 'tok_other', old.body.tag), false);
  assert.equal(tools.isRestoredElsewhere(token.keys.request, tokenId, 'not base64url!'), false);
  // The new keys poll.
  const fresh = await post('/api/v1/devices/pending', { tokens: [{ tokenId, at, tag: worker.signedAt('poll', channel, tokenId, at) }] });
  assert.equal(fresh.status, 200, JSON.stringify(fresh.body));
  // The tools module, which no page restores with, leaves the restore out; the worker's
  // leaves the rarely needed check of the refusal out.
  assert.equal(tools.restoreTag, undefined);
  assert.equal(worker.isRestoredElsewhere, undefined);
});
