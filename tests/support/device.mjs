// A second device of the same person, outside the browser: a push token enrolled and used
// through the WebAssembly packages exactly as the extension's worker uses them, so that a test
// can answer a sign-in "on another device".
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ROOT } from './root.mjs';
import * as core from '../../extension/pkg/pushotp.js';
import * as tools from '../../extension/pkg/pushotp_tools.js';

const pkg = (name) => readFile(path.join(ROOT, 'extension/pkg', name));
core.initSync({ module: await pkg('pushotp_bg.wasm') });
tools.initSync({ module: await pkg('pushotp_tools_bg.wasm') });

async function post(url, body) {
  const reply = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = await reply.json();
  if (!reply.ok) throw new Error(`${url}: ${reply.status} ${JSON.stringify(json)}`);
  return json;
}

/**
 * What a server holds for `token` (a stored token with `server`, `tokenId` and `keys.channel`,
 * such as the extension's): `{ requests, ended }` from a signed poll (docs/protocol.md §7).
 */
export async function poll(token, server = token.server) {
  const at = Math.floor(Date.now() / 1000);
  const tag = core.signedAt('poll', token.keys.channel, token.tokenId, at);
  return post(`${server}/api/v1/devices/pending`, { tokens: [{ tokenId: token.tokenId, at, tag }] });
}

/** Enrolls a device from `link` and returns what it can do. */
export async function otherDevice(link, deviceName = 'Phone') {
  const started = tools.enrollRequest(link, deviceName, Date.now());
  const enrolled = await post(`${started.server}/api/v1/enroll`, started.request);
  const token = { ...tools.completeEnrollment(link, started.request, enrolled), server: started.server };
  return {
    token,
    /** Its pending requests, each checked as the extension checks them. */
    async pending() {
      const { requests } = await poll(token);
      for (const request of requests) core.verifyPushRequest(request, token.keys.request, Date.now());
      return requests;
    },
    /**
     * Approves `request` with `number` and its passcode (bound to the request, docs/protocol.md
     * §5); the server's reply, with the sign-in code of an approval (`loginCode`).
     */
    approve(request, number) {
      const passcode = core.pushPasscode(token.keys.otp, token.otp.algorithm, token.otp.digits, request.id);
      return post(`${token.server}/api/v1/answers`, core.approveAnswer(request, number, passcode, Date.now(), token.keys.channel, token.keys.answer));
    },
    /** Denies `request`; the server's reply. */
    deny(request) {
      return post(`${token.server}/api/v1/answers`, core.denyAnswer(request, false, Date.now(), token.keys.channel));
    },
  };
}
