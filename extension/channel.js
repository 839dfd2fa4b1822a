// SPDX-License-Identifier: MIT OR Apache-2.0
// @ts-check
// The service worker's channels to its servers (docs/protocol.md §7): one WebSocket per server
// carrying all of that server's tokens, kept alive by pings (Chrome keeps a worker alive while
// WebSocket messages flow), reconnected with backoff, and revived by an alarm after the browser
// stopped the worker. The pending list is also polled over HTTP when the worker starts, so that
// nothing sent while it slept is lost, and Web Push is registered where the browser offers it.
import { channelAuthTag, ready, signedAt, webPushTag } from './core.js';
import { end, forget, receive } from './inbox.js';
import { receive as receiveNotices } from './notices.js';
import { restoredElsewhere } from './restore.js';
import { serial } from './queue.js';
import { pushTokens, readLocal, readSession, settings, writeLocal, writeSession } from './store.js';

/** Chrome stops a worker after 30 s without events; a ping every 20 s keeps it running. */
const PING_MS = 20_000;
const BACKOFF_MS = [1_000, 2_000, 5_000, 10_000, 30_000, 60_000];
const POLL_TIMEOUT_MS = 10_000;
/** `pushManager.subscribe` may never settle (no push service reachable): give up after this. */
const SUBSCRIBE_TIMEOUT_MS = 10_000;
export const WATCHDOG_ALARM = 'channel-watchdog';

/** server → { socket, tokenIds, attempt, pinger, retry } */
const channels = new Map();

/** The enabled tokens, grouped by server; none when push requests are off. */
async function wanted() {
  const [tokens, prefs] = await Promise.all([pushTokens(), settings()]);
  const { refused = {} } = await readSession(['refused']);
  const byServer = new Map();
  if (!prefs.pushEnabled) return byServer;
  for (const token of Object.values(tokens)) {
    if (!token.enabled || refused[token.server]?.[token.tokenId] || token.restoredElsewhereAt) continue;
    if (!byServer.has(token.server)) byServer.set(token.server, []);
    byServer.get(token.server).push(token);
  }
  return byServer;
}

const sameIds = (a, b) => a.length === b.length && a.every((id) => b.includes(id));

/** Opens, keeps or closes channels so that exactly the wanted ones exist. */
export async function sync() {
  const want = await wanted();
  for (const [server, channel] of channels) {
    const tokens = want.get(server);
    if (!tokens || !sameIds(channel.tokenIds, tokens.map((t) => t.tokenId))) close(server);
  }
  for (const [server, tokens] of want) {
    if (!channels.has(server)) open(server, tokens.map((t) => t.tokenId), 0);
  }
}

function close(server) {
  const channel = channels.get(server);
  if (!channel) return;
  channels.delete(server);
  clearInterval(channel.pinger);
  clearTimeout(channel.retry);
  channel.socket?.close(1000);
}

function open(server, tokenIds, attempt) {
  const channel = { socket: null, tokenIds, attempt, pinger: null, retry: null };
  channels.set(server, channel);
  const socket = new WebSocket(`${server.replace(/^http/, 'ws')}/api/v1/devices/ws`);
  channel.socket = socket;
  socket.onmessage = (event) => onMessage(server, channel, event.data).catch((err) => console.warn(`PushOTP: ${err.message}`));
  socket.onclose = () => {
    clearInterval(channel.pinger);
    if (channels.get(server) !== channel) return;
    // Backoff with jitter, so that many browsers do not return to a restarted server at once.
    const base = BACKOFF_MS[Math.min(channel.attempt, BACKOFF_MS.length - 1)];
    channel.retry = setTimeout(() => {
      if (channels.get(server) !== channel) return;
      channels.delete(server);
      open(server, channel.tokenIds, channel.attempt + 1);
    }, base * (0.8 + Math.random() * 0.4));
  };
}

async function onMessage(server, channel, data) {
  let message;
  try {
    message = JSON.parse(data);
  } catch {
    return;
  }
  switch (message.type) {
    case 'challenge': {
      await ready;
      const tokens = await pushTokens();
      const auth = channel.tokenIds
        .filter((id) => tokens[id])
        .map((tokenId) => ({ tokenId, tag: channelAuthTag(tokens[tokenId].keys.channel, tokenId, message.nonce) }));
      channel.socket.send(JSON.stringify({ type: 'auth', tokens: auth }));
      break;
    }
    case 'ready':
      channel.attempt = 0;
      clearInterval(channel.pinger);
      channel.pinger = setInterval(() => channel.socket.send('{"type":"ping"}'), PING_MS);
      break;
    case 'push':
      await receive('push', [message.request], { via: 'socket', servers: [server] });
      break;
    case 'ended':
      await end('push', [message.ended], { via: 'socket', servers: [server] });
      break;
    case 'notice':
      // Wrong passcodes typed for the account, or another authenticator added (protocol §4).
      await receiveNotices([message.notice], [server]);
      break;
    case 'restored':
      // Another browser restored a token of this socket (protocol §8).
      await gaveUp(server, message.tokenId, message.tag);
      break;
    case 'error':
      if (message.error === 'restored_elsewhere' && message.tokenId) {
        if (await gaveUp(server, message.tokenId, message.tag)) {
          close(server);
          await sync();
        }
      } else if (message.error === 'bad_auth' && channel.tokenIds.includes(message.tokenId)) {
        // The server no longer knows this token (revoked there): stop presenting it to this
        // server until the tokens change, so that the server's other tokens keep their channel.
        // A server can refuse only the tokens this socket presented to it, its own: what it
        // says of another server's token changes nothing.
        await refuse(server, message.tokenId);
        console.warn(`PushOTP: ${server} refused token ${message.tokenId}`);
        close(server);
        await sync();
      }
      break;
    default:
      break;
  }
}

/**
 * Notes that `server` refused its token `tokenId` on the socket, in the storage queue: the
 * entry is the server's, so that no server's word reaches another server's tokens.
 * @param {string} server
 * @param {string} tokenId
 */
function refuse(server, tokenId) {
  return serial(async () => {
    const { refused = {} } = await readSession(['refused']);
    refused[server] = { ...refused[server], [tokenId]: Date.now() };
    await writeSession({ refused });
  });
}

/**
 * `server` says that another browser restored its token `tokenId` (protocol §8): once `tag`
 * proves it, the token's waiting requests go and the channels stop presenting it. Returns
 * whether it was given up.
 * @param {string} server
 * @param {unknown} tokenId
 * @param {unknown} tag
 */
async function gaveUp(server, tokenId, tag) {
  if (typeof tokenId !== 'string' || !(await restoredElsewhere(server, tokenId, tag))) return false;
  await forget('push', tokenId);
  return true;
}

/**
 * Asks every server for its pending requests, what ended meanwhile and its notices about the
 * tokens, now (protocol §7, poll).
 */
export async function poll() {
  await ready;
  const want = await wanted();
  await Promise.all(
    [...want].map(async ([server, tokens]) => {
      const at = Math.floor(Date.now() / 1000);
      const body = {
        tokens: tokens.map((t) => ({ tokenId: t.tokenId, at, tag: signedAt('poll', t.keys.channel, t.tokenId, at) })),
      };
      try {
        const reply = await fetch(`${server}/api/v1/devices/pending`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
          cache: 'no-store',
          signal: AbortSignal.timeout(POLL_TIMEOUT_MS),
        });
        const json = await reply.json();
        if (reply.status === 410 && json.error === 'restored_elsewhere') {
          // The next poll goes without that token.
          await gaveUp(server, json.tokenId, json.tag);
          return;
        }
        if (!reply.ok) return;
        const { requests = [], ended = [], notices = [] } = json;
        await end('push', ended, { via: 'poll', servers: [server] });
        await receive('push', requests, { via: 'poll', servers: [server] });
        await receiveNotices(notices, [server]);
      } catch {
        // Unreachable now; the socket's reconnection and the next watchdog round try again.
      }
    }),
  );
}

/** Keeps the watchdog alarm: every 30 s (the shortest period Chrome allows) it wakes the worker. */
export async function ensureWatchdog() {
  if (!(await chrome.alarms.get(WATCHDOG_ALARM))) {
    await chrome.alarms.create(WATCHDOG_ALARM, { periodInMinutes: 0.5 });
  }
}

/**
 * Tells a token's server that it is removed (protocol §7): `removed`, `unreachable` (or
 * refused), or `restored_elsewhere` when another browser restored it (§8), which keeps it.
 * Only the server, the id and the channel key are needed: an accepted token that is never
 * saved is removed too (enroll.js `cancel`).
 * @param {{server: string, tokenId: string, keys: {channel: string}}} token
 * @returns {Promise<'removed'|'unreachable'|'restored_elsewhere'>}
 */
export async function removeAtServer(token) {
  await ready;
  const at = Math.floor(Date.now() / 1000);
  try {
    const reply = await fetch(`${token.server}/api/v1/devices/remove`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tokenId: token.tokenId, at, tag: signedAt('remove', token.keys.channel, token.tokenId, at) }),
      cache: 'no-store',
      signal: AbortSignal.timeout(POLL_TIMEOUT_MS),
    });
    if (reply.ok) return 'removed';
    const json = await reply.json().catch(() => ({}));
    return reply.status === 410 && json.error === 'restored_elsewhere' ? 'restored_elsewhere' : 'unreachable';
  } catch {
    return 'unreachable';
  }
}

/**
 * The servers a Web Push message may speak for. The browser cannot see which server sent one,
 * only that a push service delivered it; every Web Push message is tagged under the request
 * key of the token it names (a request, the end of one, a notice: protocol §4), which only
 * that token's server holds, so the tag alone shows whose it is.
 * @returns {Promise<string[]>}
 */
export async function webPushServers() {
  return [...new Set(Object.values(await pushTokens()).map((token) => token.server))];
}

/**
 * Registers a Web Push subscription with the servers of the tokens that have none yet. A
 * registration has one subscription, tied to one server's VAPID key, so only the first server's
 * tokens get one; the others rely on the socket. Never awaited by anything that delivers
 * requests: where no push service is reachable `subscribe` never settles.
 */
let subscribing = false;
export async function registerWebPush() {
  const manager = /** @type {any} */ (self).registration?.pushManager;
  if (!manager || subscribing) return;
  subscribing = true;
  try {
    await subscribeAndRegister(manager);
  } finally {
    subscribing = false;
  }
}

async function subscribeAndRegister(manager) {
  const want = await wanted();
  const { webPush = {} } = await readLocal(['webPush']);
  const [first] = [...want];
  if (!first) return;
  const [server, tokens] = first;
  const missing = tokens.filter((t) => !webPush[t.tokenId]);
  if (!missing.length) return;
  try {
    const keyReply = await fetch(`${server}/api/v1/webpush/key`, { cache: 'no-store', signal: AbortSignal.timeout(POLL_TIMEOUT_MS) });
    const { publicKey } = await keyReply.json();
    const subscription = await Promise.race([
      manager.subscribe({ userVisibleOnly: true, applicationServerKey: publicKey }),
      new Promise((resolve) => setTimeout(() => resolve(null), SUBSCRIBE_TIMEOUT_MS)),
    ]);
    if (!subscription) return;
    const { endpoint, keys } = subscription.toJSON();
    await ready;
    for (const token of missing) {
      const at = Math.floor(Date.now() / 1000);
      const sub = { endpoint, keys: { p256dh: keys.p256dh, auth: keys.auth } };
      const reply = await fetch(`${server}/api/v1/devices/webpush`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ tokenId: token.tokenId, at, subscription: sub, tag: webPushTag(token.keys.channel, token.tokenId, at, sub) }),
        cache: 'no-store',
        signal: AbortSignal.timeout(POLL_TIMEOUT_MS),
      });
      if (reply.ok) webPush[token.tokenId] = endpoint;
      else if (reply.status === 410) {
        const json = await reply.json().catch(() => ({}));
        if (json.error === 'restored_elsewhere') await gaveUp(server, token.tokenId, json.tag);
      }
    }
    await writeLocal({ webPush });
  } catch {
    // No push service here: the socket and the polls deliver.
  }
}
