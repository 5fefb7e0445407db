// A small static file server for the browser benchmark (bench/browser.sh).
//
// - Binds 127.0.0.1 on a free port (or --port N).
// - HTTP/1.1 with keep-alive; no compression of any kind, so that the bytes on the wire are the
//   files' sizes (plus headers). Every response has a Content-Length.
// - Content types by extension, including application/wasm for .wasm.
// - `Cache-Control: max-age=3600` and no validators (no ETag, no Last-Modified), so a browser
//   either uses its cache or fetches the whole file again; there are no 304s.
// - Mounts: a URL prefix served from a directory; the longest matching prefix wins.
// - It counts what it sends, per request, so the driver can check the browser's byte counts.
//
// As a module: `const s = await serve({ mounts: [['/', dir], ['/pagefind/', dir2]] })`
// gives { origin, port, log, close() }. From the command line, to look at a site by hand:
//   node bench/browser/serve.mjs SITE_DIR [/prefix/=DIR ...] [--port N]

import { createReadStream, promises as fs } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.xml': 'application/xml',
  '.txt': 'text/plain; charset=utf-8',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  // Pagefind's own files: gzip streams that its JS and wasm decompress themselves.
  '.pagefind': 'application/octet-stream',
  '.pf_meta': 'application/octet-stream',
  '.pf_index': 'application/octet-stream',
  '.pf_fragment': 'application/octet-stream',
  '.pf_filter': 'application/octet-stream',
};

export function contentType(file) {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * @param {object} o
 * @param {[string, string][]} o.mounts  [URL prefix ending in '/', directory]
 * @param {Record<string, {type: string, body: string|Buffer}>} [o.pages]  fixed responses by path
 * @param {number} [o.port]  0 (default) for a free port
 */
export async function serve({ mounts, pages = {}, port = 0 }) {
  const table = mounts
    .map(([prefix, dir]) => [prefix.endsWith('/') ? prefix : `${prefix}/`, path.resolve(dir)])
    .sort((a, b) => b[0].length - a[0].length);
  /** One entry per response: { path, status, bytes, file } */
  const log = [];

  async function resolve(urlPath) {
    for (const [prefix, dir] of table) {
      if (!urlPath.startsWith(prefix)) continue;
      const rel = urlPath.slice(prefix.length);
      const file = path.join(dir, rel);
      if (file !== dir && !file.startsWith(dir + path.sep)) return null;
      let st = await fs.stat(file).catch(() => null);
      if (st?.isDirectory()) {
        const index = path.join(file, 'index.html');
        st = await fs.stat(index).catch(() => null);
        return st?.isFile() ? { file: index, size: st.size } : null;
      }
      return st?.isFile() ? { file, size: st.size } : null;
    }
    return null;
  }

  const server = http.createServer(async (req, res) => {
    let urlPath;
    try {
      urlPath = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    } catch {
      urlPath = null;
    }
    const send = (status, type, body, file = null) => {
      res.writeHead(status, {
        'Content-Type': type,
        'Content-Length': body.length,
        'Cache-Control': 'no-store',
      });
      res.end(req.method === 'HEAD' ? undefined : body);
      log.push({ path: urlPath ?? req.url, status, bytes: body.length, file });
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return send(405, 'text/plain', Buffer.from('method not allowed\n'));
    }
    if (urlPath === null || urlPath.includes('\0')) {
      return send(400, 'text/plain', Buffer.from('bad request\n'));
    }
    const page = pages[urlPath];
    if (page) {
      return send(200, page.type, Buffer.from(page.body));
    }
    const found = await resolve(urlPath);
    if (!found) {
      return send(404, 'text/plain; charset=utf-8', Buffer.from(`not found: ${urlPath}\n`));
    }
    res.writeHead(200, {
      'Content-Type': contentType(found.file),
      'Content-Length': found.size,
      'Cache-Control': 'max-age=3600',
    });
    log.push({ path: urlPath, status: 200, bytes: found.size, file: found.file });
    if (req.method === 'HEAD') return res.end();
    createReadStream(found.file)
      .on('error', () => res.destroy())
      .pipe(res);
  });
  // HTTP/1.1 keep-alive (Node's default); keep idle connections well past one benchmark run.
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 121_000;

  await new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', ok);
  });
  const actual = server.address().port;
  return {
    port: actual,
    origin: `http://127.0.0.1:${actual}`,
    log,
    close: () =>
      new Promise((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}

// ------------------------------------------------------------------ command line
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const mounts = [];
  let port = 0;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--port') port = Number(args[++i]);
    else if (a === '-h' || a === '--help') {
      console.log('usage: node serve.mjs SITE_DIR [/prefix/=DIR ...] [--port N]');
      process.exit(0);
    } else if (a.includes('=')) {
      const [prefix, dir] = a.split(/=(.*)/s);
      mounts.push([prefix, dir]);
    } else mounts.push(['/', a]);
  }
  if (!mounts.length) {
    console.error('usage: node serve.mjs SITE_DIR [/prefix/=DIR ...] [--port N]');
    process.exit(2);
  }
  const s = await serve({ mounts, port });
  console.log(`serving ${mounts.map(([p, d]) => `${p} -> ${d}`).join(', ')} at ${s.origin}/`);
}
