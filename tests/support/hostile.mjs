// A hostile server that a person enrolled a token on: it speaks the protocol's enrollment
// (docs/protocol.md §3) honestly, with an activation link of its own, and then says on its
// device socket (§7) whatever a test scripts. It stands for an enrolled server turned against
// the person's other servers; it holds none of their keys.
import { createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 §6 base32 without padding. */
function base32(bytes) {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += B32[(value << (5 - bits)) & 31];
  return out;
}

const b64url = (bytes) => Buffer.from(bytes).toString('base64url');

/** `frame(b) = u32be(len(b)) || b` (§2). */
function frame(bytes) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(bytes.length);
  return Buffer.concat([len, Buffer.from(bytes)]);
}
const str = (s) => frame(Buffer.from(s, 'utf8'));
function u64(n) {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return frame(b);
}

/** `mac(K, purpose, fields...)` (§2). */
function mac(key, purpose, ...fields) {
  return createHmac('sha256', key)
    .update(Buffer.concat([str('pushotp/1'), str(purpose), ...fields]))
    .digest();
}

/** One WebSocket text frame from the server (RFC 6455 §5.2: unmasked). */
function textFrame(text) {
  const payload = Buffer.from(text, 'utf8');
  if (payload.length < 126) return Buffer.concat([Buffer.from([0x81, payload.length]), payload]);
  const head = Buffer.from([0x81, 126, 0, 0]);
  head.writeUInt16BE(payload.length, 2);
  return Buffer.concat([head, payload]);
}

/**
 * Starts the hostile server on 127.0.0.1. `script(n)` gives the messages (objects) it sends on
 * its n-th device socket (from 1) right after the socket opens; `close(n)` whether it then
 * closes that socket. `sockets()` says how many the device opened so far.
 * @param {{script: (n: number) => object[], close?: (n: number) => boolean}} behaviour
 */
export async function startHostile({ script, close = () => false }) {
  const secret = randomBytes(20);
  const tokenId = `tok_${randomBytes(12).toString('base64url')}`;
  let opened = 0;
  const live = new Set();
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      const reply = (status, json) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(json));
      };
      if (req.method === 'POST' && req.url === '/api/v1/enroll') return reply(200, enrolled(JSON.parse(body)));
      if (req.method === 'POST' && req.url === '/api/v1/devices/pending') return reply(200, { requests: [], ended: [], notices: [] });
      return reply(404, { error: 'not_found' });
    });
  });
  server.on('upgrade', (req, socket) => {
    if (req.url !== '/api/v1/devices/ws') return socket.destroy();
    const accept = createHash('sha1')
      .update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
      .digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    live.add(socket);
    socket.on('close', () => live.delete(socket));
    socket.on('error', () => socket.destroy());
    // What the device sends (its log-in, pings) is read and ignored.
    socket.on('data', () => {});
    opened += 1;
    for (const message of script(opened)) socket.write(textFrame(JSON.stringify(message)));
    if (close(opened)) socket.end(Buffer.from([0x88, 0x00]));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;

  /** The answer to an enrollment (§3), tagged under the link's `K_act`. */
  function enrolled(request) {
    const kAct = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'pushotp/1 activation', 32));
    const serverNonce = randomBytes(16);
    const answer = {
      v: 2,
      tokenId,
      tokenName: 'Hostile Portal',
      user: 'alice',
      issuer: 'Hostile Org',
      serverNonce: b64url(serverNonce),
      otp: { algorithm: 'SHA1', digits: 6 },
      pin: { required: false, maxTries: 5 },
    };
    const tag = mac(
      kAct,
      'enrolled',
      str(tokenId),
      str(answer.tokenName),
      str(answer.user),
      str(answer.issuer),
      frame(Buffer.from(request.deviceNonce, 'base64url')),
      frame(serverNonce),
      str('SHA1'),
      u64(6),
      u64(0),
      u64(5),
    );
    return { ...answer, tag: b64url(tag) };
  }

  const exp = Math.floor(Date.now() / 1000) + 3600;
  return {
    url,
    tokenId,
    link: `pushotp://enroll?v=2&server=${encodeURIComponent(url)}&token=${tokenId}&secret=${base32(secret)}&exp=${exp}`,
    sockets: () => opened,
    async stop() {
      for (const socket of live) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
