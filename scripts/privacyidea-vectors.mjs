// Records test vectors from a real privacyIDEA 3.14 (scripts/privacyidea.sh): an enrollment
// link, the server key, polled challenges (standard and presence) with the server's signatures,
// and the device's signed messages (poll, approve, presence, decline, decline with reason),
// each accepted by the server, with the test-only device key that made them.
//
//   scripts/build-wasm.sh && node scripts/privacyidea-vectors.mjs > crate/tests/vectors/privacyidea_push.json
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ROOT } from '../tests/support/root.mjs';
import { startPrivacyIdea } from '../tests/support/privacyidea.mjs';
import * as tools from '../extension/pkg/pushotp_tools.js';

tools.initSync({ module: await readFile(path.join(ROOT, 'extension/pkg/pushotp_tools_bg.wasm')) });
const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
const b64 = (bytes) => Buffer.from(bytes).toString('base64');
const form = (body) => ({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body) });

const pi = await startPrivacyIdea();
if (pi.skipped) throw new Error(pi.skipped);
try {
  const keys = await crypto.subtle.generateKey({ ...RSA, modulusLength: 4096, publicExponent: new Uint8Array([1, 0, 1]) }, true, ['sign', 'verify']);
  const sign = async (message) => tools.piSignatureToBase32(new Uint8Array(await crypto.subtle.sign(RSA, keys.privateKey, new TextEncoder().encode(message))));
  const { serial, link } = await pi.initPushToken('alice');
  const pubkey = b64(await crypto.subtle.exportKey('spki', keys.publicKey));
  const enrolled = await (await fetch(`${pi.url}/ttype/push`, form({ enrollment_credential: tools.piParseEnrollLink(link).enrollmentCredential, serial, fbtoken: 'no_firebase_token', pubkey, capabilities: '["decline_reason"]' }))).json();
  const vectors = [];
  const challenges = [];

  async function poll() {
    const timestamp = new Date().toISOString();
    const message = tools.piPollMessage(serial, timestamp);
    const signature = await sign(message);
    const query = new URLSearchParams({ serial, timestamp, signature, capabilities: '["decline_reason"]' });
    const reply = await (await fetch(`${pi.url}/ttype/push?${query}`)).json();
    vectors.push({ name: 'poll', message, signature_b32: signature, accepted: reply.result.status === true });
    return reply.result.value;
  }

  async function answer(name, challenge, extra, presence, decline, reason) {
    const message = tools.piAnswerMessage(challenge.nonce, serial, presence, decline, reason);
    const signature = await sign(message);
    const reply = await (await fetch(challenge.url, form({ serial, nonce: challenge.nonce, signature, ...extra }))).json();
    vectors.push({ name, message, signature_b32: signature, accepted: reply.result.value === true });
  }

  async function challenge(kind, actions) {
    await pi.authPolicy(actions);
    const detail = (await pi.check('alice', '1234')).detail;
    const [raw] = await poll();
    challenges.push({
      kind,
      raw_challenge_from_poll: raw,
      signed_string: tools.piChallengeMessage(raw.nonce, raw.url, raw.serial, raw.question, raw.title, raw.sslverify, raw.require_presence),
      capabilities_signed_bytes: tools.piCapabilitiesMessage(raw.capabilities, raw.nonce),
      presence_answer: detail.presence_answer ?? null,
    });
    return { raw, detail };
  }

  const standard = await challenge('standard', {});
  await answer('approve', standard.raw, {});
  const presence = await challenge('require_presence', { push_require_presence: true });
  await answer('approve_with_presence', presence.raw, { presence_answer: presence.detail.presence_answer }, presence.detail.presence_answer);
  const declined = await challenge('standard', {});
  await answer('decline', declined.raw, { decline: '1' }, undefined, true);
  const reported = await challenge('standard', {});
  await answer('decline_unknown_trigger', reported.raw, { decline: '1', decline_reason: 'unknown_trigger' }, undefined, true, 'unknown_trigger');
  await pi.authPolicy();

  const out = {
    privacyidea_version: 'privacyIDEA 3.14',
    note: 'Captured from a real privacyIDEA 3.14 by scripts/privacyidea-vectors.mjs. The device key is for tests only.',
    enroll_uri: link,
    enroll_uri_parsed: tools.piParseEnrollLink(link),
    phone: { private_key_pkcs8_b64: b64(await crypto.subtle.exportKey('pkcs8', keys.privateKey)), pubkey_param: pubkey },
    server: { public_key_detail: enrolled.detail.public_key, public_key_spki_b64: b64(tools.piServerKeySpki(enrolled.detail.public_key)) },
    server_challenges: challenges,
    vectors,
  };
  process.stdout.write(`${JSON.stringify(out, null, 1)}\n`);
} finally {
  await pi.stop();
}
