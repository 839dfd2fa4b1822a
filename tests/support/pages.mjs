// A small static HTTP server for the login test pages in tests/pages/, bound to 127.0.0.1 on a
// free port, with React's browser builds from node_modules under /vendor/. The same server is
// reachable as `localhost`: another origin with the same content (cookies ignore ports, origins
// do not; host names differ for both).
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import path from 'node:path';
import { ROOT } from './root.mjs';

const PAGES = path.join(ROOT, 'tests/pages');
const VENDOR = {
  '/vendor/react.js': 'node_modules/react/umd/react.production.min.js',
  '/vendor/react-dom.js': 'node_modules/react-dom/umd/react-dom.production.min.js',
};
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css' };

/** @returns {Promise<{url: string, other: string, stop: () => Promise<void>}>} */
export async function servePages() {
  const server = createServer(async (request, response) => {
    const { pathname } = new URL(request.url, 'http://127.0.0.1');
    if (pathname === '/favicon.ico') {
      response.writeHead(204).end();
      return;
    }
    let file = VENDOR[pathname] ? path.join(ROOT, VENDOR[pathname]) : null;
    if (!file && pathname.startsWith('/pages/')) {
      file = path.join(PAGES, path.normalize(pathname.slice('/pages/'.length)));
      if (!file.startsWith(PAGES + path.sep)) file = null;
    }
    try {
      if (!file) throw new Error('not found');
      const body = await readFile(file);
      response.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
      response.end(body);
    } catch {
      response.writeHead(404, { 'content-type': 'text/plain' });
      response.end('not found');
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    other: `http://localhost:${port}`,
    stop: () => new Promise((resolve) => server.close(resolve)),
  };
}
