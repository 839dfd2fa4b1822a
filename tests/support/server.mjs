// Starts the real reference server (target/debug/pushotp-server, built by the test command, or
// the binary named by PUSHOTP_SERVER) on a free 127.0.0.1 port with an in-memory database (or
// a file, to restart it or run its command line beside it) and the demo user, and signs in as a
// browser would.
import { execFile, spawn } from 'node:child_process';
import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import { connect, createServer } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './root.mjs';

const BINARY = path.resolve(ROOT, process.env.PUSHOTP_SERVER ?? 'target/debug/pushotp-server');

/** A port on 127.0.0.1 that nothing listens on right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/**
 * `log` is the server's `RUST_LOG`; `onOutput` gets everything it prints, its output and its
 * log lines (with their own timestamps), for scripts that time the server's steps. `database` is an
 * SQLite file to keep the data in (its key file goes beside it), so that the server can be
 * restarted with it (`port` the same as before) and `enrollLink` can make more tokens; without
 * it nothing outlives the process.
 * @returns {Promise<{url: string, link: string|null, process: import('node:child_process').ChildProcess,
 *   enrollLink: (user: string) => Promise<string>, stop: () => Promise<void>}>}
 */
export async function startServer(extraArgs = [], { log = 'warn', onOutput = null, database = null, port = null } = {}) {
  port ??= await freePort();
  const url = `http://127.0.0.1:${port}`;
  const db = database ? `sqlite://${database}` : 'sqlite::memory:';
  const child = spawn(BINARY, ['--database', db, 'serve', '--demo', '--bind', `127.0.0.1:${port}`, ...extraArgs], {
    env: { ...process.env, RUST_LOG: log, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const ready = new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      onOutput?.(String(chunk));
      output += chunk;
      if (output.includes('Demo app:')) resolve();
    });
    // Its log lines, on stderr: read always, so that the pipe never fills and stalls it.
    let logged = '';
    child.stderr.on('data', (chunk) => {
      onOutput?.(String(chunk));
      logged = (logged + chunk).slice(-4000);
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}: ${output}${logged}`)));
  });
  await ready;
  // Only a new database prints the demo user's activation link.
  const link = output.match(/pushotp:\/\/enroll\?\S+/)?.[0] ?? null;
  return {
    url,
    link,
    process: child,
    /** A new activation link for `user`, made by the server's command line on the same file. */
    async enrollLink(user) {
      if (!database) throw new Error('enrollLink needs a database file');
      const at = extraArgs.indexOf('--public-url');
      const publicUrl = at >= 0 ? extraArgs[at + 1] : url;
      const { stdout } = await promisify(execFile)(BINARY, ['--database', db, 'token', 'enroll', user, '--public-url', publicUrl]);
      return stdout.match(/pushotp:\/\/enroll\?\S+/)[0];
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * A browser's sign-in: username and password, then the organization login page's cookie.
 * `forwardedFor` is the client address a reverse proxy would name (the server takes it only
 * from its `--trusted-proxy`, 127.0.0.1 for the tests).
 */
export async function signIn(url, username, password, { forwardedFor } = {}) {
  const reply = await fetch(`${url}/app/login`, {
    method: 'POST',
    headers: forwardedFor ? { 'x-forwarded-for': forwardedFor } : {},
    body: new URLSearchParams({ username, password }),
    redirect: 'manual',
  });
  if (reply.status !== 303) throw new Error(`sign-in: ${reply.status}`);
  const cookie = reply.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  return {
    cookie,
    /** "Use my mobile to autosend a password": the number the page shows. */
    async push() {
      const r = await fetch(`${url}/auth/push`, { method: 'POST', headers: { cookie } });
      return { status: r.status, body: await r.json() };
    },
    /** The login's state as its page sees it: the first event of /auth/events. */
    async state() {
      const r = await fetch(`${url}/auth/events`, { headers: { cookie } });
      if (!r.ok) return { state: `http_${r.status}` };
      const reader = r.body.getReader();
      let text = '';
      try {
        while (!/\n\n/.test(text)) {
          const { value, done } = await reader.read();
          if (done) break;
          text += new TextDecoder().decode(value);
        }
      } finally {
        await reader.cancel();
      }
      return JSON.parse(text.match(/^data: ?(.*)$/m)[1]);
    },
  };
}

/**
 * A TCP relay on 127.0.0.1 in front of a server, which a test can cut (every connection dropped,
 * new ones refused) and restore: the server as seen from a browser whose network went away.
 */
export async function startRelay() {
  const port = await freePort();
  let target = null;
  let cut = false;
  const open = new Set();
  const relay = createServer((client) => {
    if (cut || !target) {
      client.destroy();
      return;
    }
    const upstream = connect(target, '127.0.0.1');
    for (const [a, b] of [[client, upstream], [upstream, client]]) {
      open.add(a);
      a.on('error', () => b.destroy());
      a.on('close', () => {
        open.delete(a);
        b.destroy();
      });
      a.pipe(b);
    }
  });
  await new Promise((resolve) => relay.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    /** Points the relay at the server's port. */
    to(serverUrl) {
      target = Number(new URL(serverUrl).port);
    },
    cut() {
      cut = true;
      for (const socket of open) socket.destroy();
    },
    restore() {
      cut = false;
    },
    close() {
      this.cut();
      return new Promise((resolve) => relay.close(resolve));
    },
  };
}

/**
 * A phishing relay: an HTTP proxy at `http://localhost:<port>` (listening on 127.0.0.1 only) that
 * passes every request on to the server at `target` and every answer back, event streams
 * included, rewriting only what a real relay rewrites so that the server takes the requests as
 * its own page's (`Host`, `Origin`, `Referer`). The browser sees the server's pages at another
 * origin, cookies and all.
 * @param {string} target  the server's URL, `http://127.0.0.1:<port>`
 * @returns {Promise<{url: string, close: () => Promise<void>}>}
 */
export async function startPhishingRelay(target) {
  const port = await freePort();
  const url = `http://localhost:${port}`;
  const upstream = new URL(target);
  const relay = createHttpServer((incoming, outgoing) => {
    const headers = { ...incoming.headers, host: upstream.host };
    for (const name of ['origin', 'referer']) {
      if (headers[name]) headers[name] = String(headers[name]).replace(url, upstream.origin);
    }
    // The browser's fetch metadata passes as it is: to the browser the relay's pages are one
    // site, so it says `same-origin`, as the server's own pages do.
    const forward = httpRequest({ host: upstream.hostname, port: upstream.port, method: incoming.method, path: incoming.url, headers }, (reply) => {
      outgoing.writeHead(reply.statusCode ?? 502, reply.headers);
      reply.pipe(outgoing);
    });
    forward.on('error', () => outgoing.destroy());
    incoming.pipe(forward);
  });
  await new Promise((resolve) => relay.listen(port, '127.0.0.1', resolve));
  return {
    url,
    close() {
      relay.closeAllConnections();
      return new Promise((resolve) => relay.close(resolve));
    },
  };
}
