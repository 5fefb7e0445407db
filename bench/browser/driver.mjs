// Drives headless Chromium against rollbook's browser search and Pagefind, side by side, on the
// same built site. Run by bench/browser.sh, which prepares the site and Pagefind's bundle; see
// bench/README.md ("Browser search benchmark").
//
//   node bench/browser/driver.mjs --site DIR --pagefind DIR --modules DIR
//        [--engines rollbook,pagefind] [--runs 3] [--query Q] [--warm 'Q1|Q2|...']
//        [--chromium /usr/bin/chromium] [--json FILE] [--md FILE] [--n N]
//        [--skip ENGINE:REASON]   (an engine not to run, with the reason for its row)
//        [--worker-type classic|module]   (how rollbook's search/worker.js is started)
//
// For each run and engine: a new browser context (empty cache, new renderer), a blank page from
// the same origin, then in the page
//   cold: start the engine and run the first query until the top 5 hits with excerpts are there;
//   warm: the warm queries one after another, each until its top 5 hits with excerpts are there.
// Times are taken in the page (performance.now()). Bytes are the length of each response body as
// Chromium received it (Playwright's response.body()); the server does not compress, so that is
// what crossed the wire, less headers. They are checked against what the server sent.

import { promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import zlib from 'node:zlib';

import { serve } from './serve.mjs';

// ------------------------------------------------------------------ arguments
const opts = {
  site: null,
  pagefind: null,
  modules: null,
  engines: 'rollbook,pagefind',
  runs: 3,
  query: 'connection pool timeout',
  warm: 'disk full|certificate expired|dns resolution|rollback migration|memory leak',
  chromium: '/usr/bin/chromium',
  json: null,
  md: null,
  n: 5,
  skip: '',
  'worker-type': 'classic',
};
{
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i].replace(/^--/, '');
    if (!(key in opts) || i + 1 >= argv.length) {
      console.error(`driver.mjs: unknown or incomplete option: ${argv[i]}`);
      process.exit(2);
    }
    opts[key] = argv[++i];
  }
  opts.runs = Number(opts.runs);
  opts.n = Number(opts.n);
  if (!opts.site || !opts.modules || !(opts.runs >= 1) || !(opts.n >= 1)) {
    console.error('driver.mjs: --site, --modules and a positive --runs and --n are required');
    process.exit(2);
  }
}
if (!['classic', 'module'].includes(opts['worker-type'])) {
  console.error(`driver.mjs: --worker-type must be classic or module`);
  process.exit(2);
}
const engines = opts.engines.split(/[\s,]+/).filter(Boolean);
for (const e of engines) {
  if (e !== 'rollbook' && e !== 'pagefind') {
    console.error(`driver.mjs: unknown engine '${e}' (rollbook, pagefind)`);
    process.exit(2);
  }
}
if (engines.includes('pagefind') && !opts.pagefind) {
  console.error('driver.mjs: --pagefind DIR is required for the pagefind engine');
  process.exit(2);
}
const warmQueries = opts.warm.split('|').map((q) => q.trim()).filter(Boolean);
const log = (...a) => console.error(...a);

const require = createRequire(path.join(path.resolve(opts.modules), 'package.json'));
const { chromium } = require('playwright-core');

// ------------------------------------------------------------------ the engines, in the page
// Each returns { ms, total, hits: [{ url, title, excerpt }], extra }.

const PAGEFIND_COLD = async ({ q, n }) => {
  const t0 = performance.now();
  const pf = await import('/pagefind/pagefind.js');
  await pf.init();
  const s = await pf.search(q);
  const data = await Promise.all(s.results.slice(0, n).map((r) => r.data()));
  const ms = performance.now() - t0;
  window.__pf = pf;
  return {
    ms,
    total: s.results.length,
    hits: data.map((d) => ({ url: d.url, title: d.meta?.title ?? '', excerpt: d.excerpt ?? '' })),
  };
};

const PAGEFIND_WARM = async ({ q, n }) => {
  const pf = window.__pf;
  const t0 = performance.now();
  const s = await pf.search(q);
  const data = await Promise.all(s.results.slice(0, n).map((r) => r.data()));
  const ms = performance.now() - t0;
  return {
    ms,
    total: s.results.length,
    hits: data.map((d) => ({ url: d.url, title: d.meta?.title ?? '', excerpt: d.excerpt ?? '' })),
  };
};

// rollbook's worker: postMessage({id, query}) → {id, ok: true, results: {total, hits}, ms}
// or {id, ok: false, error}. Messages with another id (or none) are ignored.
const ROLLBOOK_COLD = async ({ q, n, type }) => {
  const ask = (w, id, text) =>
    new Promise((resolve, reject) => {
      const onMessage = (ev) => {
        const m = ev.data;
        if (!m || m.id !== id) return;
        done();
        if (m.ok) resolve(m);
        else reject(new Error(`worker replied ok=false: ${m.error ?? JSON.stringify(m)}`));
      };
      const onError = (ev) => {
        done();
        reject(new Error(`worker error: ${ev.message ?? ev.type}`));
      };
      const done = () => {
        w.removeEventListener('message', onMessage);
        w.removeEventListener('error', onError);
        w.removeEventListener('messageerror', onError);
      };
      w.addEventListener('message', onMessage);
      w.addEventListener('error', onError);
      w.addEventListener('messageerror', onError);
      w.postMessage({
        id,
        query: {
          text,
          kinds: [],
          severities: [],
          services: [],
          tags: [],
          teams: [],
          since: null,
          until: null,
          open: false,
          sort: 'relevance',
          limit: n,
          facets: false,
        },
      });
    });
  // A reply as the driver's run record; kept for the warm queries, which run in this page.
  const record = (m, ms) => {
    const hits = m.results?.hits ?? [];
    return {
      ms,
      total: m.results?.total ?? hits.length,
      hits: hits.slice(0, n).map((h) => ({
        url: h.url ?? '',
        title: h.title ?? '',
        excerpt: h.snippet ?? h.snippet_html ?? '',
      })),
      extra: { engine_ms: m.ms ?? null },
    };
  };
  const t0 = performance.now();
  const w = new Worker('/search/worker.js', { type });
  const m = await ask(w, 1, q);
  const ms = performance.now() - t0;
  window.__rb = { w, ask, next: 2, record };
  return record(m, ms);
};

const ROLLBOOK_WARM = async ({ q }) => {
  const rb = window.__rb;
  const t0 = performance.now();
  const m = await rb.ask(rb.w, rb.next++, q);
  return rb.record(m, performance.now() - t0);
};

const ENGINES = {
  pagefind: { cold: PAGEFIND_COLD, warm: PAGEFIND_WARM },
  rollbook: { cold: ROLLBOOK_COLD, warm: ROLLBOOK_WARM },
};

// The engine's code (JS and wasm; Pagefind's wasm is wasm.LANG.pagefind); everything else the
// search fetched is index (Pagefind's entry JSON, meta, index chunks and fragments; rollbook's
// chunks under search/web/).
const isEngineFile = (p) => /\.(m?js|wasm)$/.test(p) || /\/wasm\.[^/]+\.pagefind$/.test(p);

// ------------------------------------------------------------------ helpers
const median = (xs) => {
  const a = xs.filter((x) => Number.isFinite(x)).sort((x, y) => x - y);
  if (!a.length) return NaN;
  const m = a.length >> 1;
  return a.length % 2 ? a[m] : (a[m - 1] + a[m]) / 2;
};
const kib = (b) => (Number.isFinite(b) ? `${(b / 1024).toFixed(1)} KiB` : '—');
const ms1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '—');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// A page.evaluate that gives up (the context is closed after it) rather than hang on a worker
// that never answers.
const EVAL_TIMEOUT_MS = 120_000;
async function evaluate(page, fn, arg, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${EVAL_TIMEOUT_MS / 1000} s`)), EVAL_TIMEOUT_MS);
  });
  try {
    return await Promise.race([page.evaluate(fn, arg), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const BENCH_PAGE = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">
<title>browser search benchmark</title></head><body><p>benchmark page</p></body></html>
`;

/** Requests of one browser context, by phase. */
function track(context) {
  const state = { phase: 'open', records: [], pending: new Set() };
  context.on('request', (req) => {
    const rec = { phase: state.phase, req, url: req.url(), done: false, failed: null };
    state.records.push(rec);
    state.pending.add(rec);
    const finish = () => {
      rec.done = true;
      state.pending.delete(rec);
    };
    rec.finish = finish;
  });
  const find = (req) => state.records.find((r) => r.req === req);
  context.on('requestfinished', (req) => find(req)?.finish());
  context.on('requestfailed', (req) => {
    const rec = find(req);
    if (rec) {
      rec.failed = req.failure()?.errorText ?? 'failed';
      rec.finish();
    }
  });
  state.drain = async (timeoutMs = 10_000) => {
    const t0 = Date.now();
    await sleep(50);
    while (state.pending.size && Date.now() - t0 < timeoutMs) await sleep(20);
    await sleep(50);
  };
  return state;
}

/** What the network carried in one phase: counts and bytes as Chromium saw them. */
async function phaseTraffic(records, phase) {
  const out = {
    requests: 0,
    engine_bytes: 0,
    index_bytes: 0,
    failed: [],
    files: [],
    encoded_bytes: 0,
    body_unavailable: 0,
  };
  for (const rec of records) {
    if (rec.phase !== phase) continue;
    const u = new URL(rec.url);
    if (u.pathname.startsWith('/__bench/')) continue;
    if (rec.failed) {
      out.failed.push(`${u.pathname}: ${rec.failed}`);
      continue;
    }
    const resp = await rec.req.response().catch(() => null);
    if (!resp) {
      out.failed.push(`${u.pathname}: no response`);
      continue;
    }
    // The decoded body's length: the bytes on the wire, as the server does not compress.
    // (CDP's encodedDataLength, behind request.sizes(), is 0 for a worker's main script in
    // Chromium 156, so it is kept only as a second figure.)
    const sizes = await rec.req.sizes().catch(() => null);
    const encoded = sizes ? sizes.responseBodySize : NaN;
    let bytes = await resp
      .body()
      .then((b) => b.length)
      .catch(() => NaN);
    if (!Number.isFinite(bytes)) {
      bytes = Number(resp.headers()['content-length'] ?? NaN);
      out.body_unavailable += 1;
    }
    const status = resp.status();
    if (status >= 400) out.failed.push(`${u.pathname}: HTTP ${status}`);
    out.requests += 1;
    out.encoded_bytes += encoded;
    if (isEngineFile(u.pathname)) out.engine_bytes += bytes;
    else out.index_bytes += bytes;
    out.files.push({ path: u.pathname, status, bytes, encoded, engine: isEngineFile(u.pathname) });
  }
  return out;
}

/** What the server sent in a slice of its log (excluding the bench page). */
function serverTraffic(entries) {
  const files = entries.filter((e) => !e.path.startsWith('/__bench/'));
  return {
    requests: files.length,
    bytes: files.reduce((a, e) => a + e.bytes, 0),
    engine_bytes: files.filter((e) => isEngineFile(e.path)).reduce((a, e) => a + e.bytes, 0),
    index_bytes: files.filter((e) => !isEngineFile(e.path)).reduce((a, e) => a + e.bytes, 0),
    files,
  };
}

/** gzip -6 sizes of the files the server sent (what a server with compression would send). */
async function gzipSizes(entries) {
  let engine = 0;
  let index = 0;
  for (const e of entries) {
    if (!e.file || e.path.startsWith('/__bench/')) continue;
    const data = await fs.readFile(e.file);
    const z = zlib.gzipSync(data, { level: 6 }).length;
    if (isEngineFile(e.path)) engine += z;
    else index += z;
  }
  return { engine, index };
}

function checkHits(res, what) {
  if (!res || !Array.isArray(res.hits)) throw new Error(`${what}: no hits in the reply`);
  const want = Math.min(opts.n, res.total);
  if (res.hits.length < want) {
    throw new Error(`${what}: ${res.hits.length} hits, expected ${want} of ${res.total}`);
  }
  const bare = res.hits.filter((h) => !String(h.excerpt ?? '').trim());
  if (bare.length) throw new Error(`${what}: ${bare.length} of the top hits have no excerpt`);
}

// ------------------------------------------------------------------ one run of one engine
async function runEngine(browser, server, engine, run) {
  const context = await browser.newContext();
  const tracker = track(context);
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') pageErrors.push(`console.${m.type()}: ${m.text()}`);
  });
  try {
    await page.goto(`${server.origin}/__bench/index.html`, { waitUntil: 'load' });
    await tracker.drain();

    // cold: open + first query
    tracker.phase = 'cold';
    let mark = server.log.length;
    const cold = await evaluate(
      page,
      ENGINES[engine].cold,
      { q: opts.query, n: opts.n, type: opts['worker-type'] },
      `${engine} cold`,
    );
    checkHits(cold, `${engine} cold "${opts.query}"`);
    await tracker.drain();
    const coldServer = server.log.slice(mark);
    const coldNet = await phaseTraffic(tracker.records, 'cold');

    // warm: new terms, one after another
    tracker.phase = 'warm';
    mark = server.log.length;
    const warm = [];
    for (const q of warmQueries) {
      const r = await evaluate(page, ENGINES[engine].warm, { q, n: opts.n }, `${engine} warm "${q}"`);
      checkHits(r, `${engine} warm "${q}"`);
      warm.push({ query: q, ms: r.ms, total: r.total, extra: r.extra ?? null });
    }
    await tracker.drain();
    const warmServer = server.log.slice(mark);
    const warmNet = await phaseTraffic(tracker.records, 'warm');

    const failures = [...coldNet.failed, ...warmNet.failed];
    if (failures.length) log(`  ${engine} run ${run}: failed requests: ${failures.join('; ')}`);
    return {
      engine,
      run,
      cold: {
        ms: cold.ms,
        total: cold.total,
        hits: cold.hits,
        extra: cold.extra ?? null,
        net: coldNet,
        server: serverTraffic(coldServer),
        gzip: await gzipSizes(coldServer),
      },
      warm: { queries: warm, net: warmNet, server: serverTraffic(warmServer) },
      page_errors: pageErrors,
    };
  } finally {
    await context.close();
  }
}

// ------------------------------------------------------------------ main
const mounts = [['/', opts.site]];
if (opts.pagefind) mounts.push(['/pagefind/', opts.pagefind]);
const server = await serve({
  mounts,
  pages: { '/__bench/index.html': { type: 'text/html; charset=utf-8', body: BENCH_PAGE } },
});
log(`serving ${opts.site} (and /pagefind/ from ${opts.pagefind ?? '-'}) at ${server.origin}/`);

const available = {};
const [skipEngine, ...skipWhy] = opts.skip.split(':');
for (const e of engines) {
  if (e === skipEngine) {
    available[e] = skipWhy.join(':').trim() || 'skipped';
  } else if (e === 'rollbook') {
    const need = ['search/worker.js'];
    const missing = [];
    for (const f of need) {
      if (!(await fs.stat(path.join(opts.site, f)).catch(() => null))) missing.push(f);
    }
    available[e] = missing.length ? `not in this build: ${missing.join(', ')} missing` : null;
  } else {
    const ok = await fs.stat(path.join(opts.pagefind, 'pagefind.js')).catch(() => null);
    available[e] = ok ? null : `no Pagefind bundle at ${opts.pagefind}`;
  }
  if (available[e]) log(`${e}: skipped, ${available[e]}`);
}
const active = engines.filter((e) => !available[e]);

const t0 = performance.now();
const browser = await chromium.launch({
  executablePath: opts.chromium,
  headless: true,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ],
});
const browserVersion = browser.version();
log(`chromium ${browserVersion} launched in ${(performance.now() - t0).toFixed(0)} ms`);

const results = Object.fromEntries(engines.map((e) => [e, { runs: [], errors: [] }]));
try {
  for (let run = 1; run <= opts.runs; run++) {
    // Alternate the order, so that neither engine always goes first.
    const order = run % 2 ? active : [...active].reverse();
    for (const engine of order) {
      try {
        const r = await runEngine(browser, server, engine, run);
        results[engine].runs.push(r);
        const w = median(r.warm.queries.map((q) => q.ms));
        log(
          `  ${engine} run ${run}/${opts.runs}: cold ${ms1(r.cold.ms)} ms, ${r.cold.net.requests} requests, ` +
            `engine ${kib(r.cold.net.engine_bytes)} + index ${kib(r.cold.net.index_bytes)}, ` +
            `${r.cold.total} matches; warm median ${ms1(w)} ms`,
        );
        if (run === 1) {
          for (const h of r.cold.hits) log(`      ${h.url}  ${String(h.excerpt).replace(/\s+/g, ' ').slice(0, 90)}`);
        }
        if (r.page_errors.length) log(`    page messages: ${r.page_errors.slice(0, 5).join(' | ')}`);
      } catch (err) {
        const msg = String(err?.message ?? err).split('\n')[0];
        results[engine].errors.push(`run ${run}: ${msg}`);
        log(`  ${engine} run ${run}/${opts.runs}: FAILED: ${msg}`);
      }
    }
  }
} finally {
  await browser.close();
  await server.close();
}

// ------------------------------------------------------------------ summary
const summary = {};
for (const e of engines) {
  const runs = results[e].runs;
  if (available[e]) {
    summary[e] = { skipped: available[e] };
    continue;
  }
  if (!runs.length) {
    summary[e] = { failed: results[e].errors[0] ?? 'no run succeeded' };
    continue;
  }
  const m = (f) => median(runs.map(f));
  const browserBytes = runs.map((r) => r.cold.net.engine_bytes + r.cold.net.index_bytes);
  const serverBytes = runs.map((r) => r.cold.server.bytes);
  summary[e] = {
    runs: runs.length,
    errors: results[e].errors,
    cold_ms: m((r) => r.cold.ms),
    cold_ms_all: runs.map((r) => r.cold.ms),
    engine_bytes: m((r) => r.cold.net.engine_bytes),
    index_bytes: m((r) => r.cold.net.index_bytes),
    requests: m((r) => r.cold.net.requests),
    engine_bytes_gzip: m((r) => r.cold.gzip.engine),
    index_bytes_gzip: m((r) => r.cold.gzip.index),
    bytes_match_server: browserBytes.every((b, i) => b === serverBytes[i]),
    requests_match_server: runs.every((r) => r.cold.net.requests === r.cold.server.requests),
    failed_requests: [...new Set(runs.flatMap((r) => [...r.cold.net.failed, ...r.warm.net.failed]))],
    body_unavailable: runs.reduce((a, r) => a + r.cold.net.body_unavailable + r.warm.net.body_unavailable, 0),
    warm_ms: median(runs.flatMap((r) => r.warm.queries.map((q) => q.ms))),
    warm_ms_by_query: Object.fromEntries(
      warmQueries.map((q) => [q, median(runs.map((r) => r.warm.queries.find((x) => x.query === q)?.ms))]),
    ),
    warm_requests: m((r) => r.warm.net.requests),
    warm_bytes: m((r) => r.warm.net.engine_bytes + r.warm.net.index_bytes),
    matches: runs[0].cold.total,
    warm_matches: Object.fromEntries(runs[0].warm.queries.map((q) => [q.query, q.total])),
    engine_ms: m((r) => r.cold.extra?.engine_ms ?? NaN),
  };
}

const md = [];
md.push(
  `| engine | engine bytes | index bytes (first query) | requests | open + first query ms | warm query ms (median) |`,
  `|---|---:|---:|---:|---:|---:|`,
);
for (const e of engines) {
  const s = summary[e];
  if (s.skipped) md.push(`| ${e} | skipped: ${s.skipped} | | | | |`);
  else if (s.failed) md.push(`| ${e} | failed: ${s.failed} | | | | |`);
  else {
    md.push(
      `| ${e} | ${kib(s.engine_bytes)} | ${kib(s.index_bytes)} | ${s.requests} | ${ms1(s.cold_ms)} | ${ms1(s.warm_ms)} |`,
    );
  }
}
md.push('');
md.push(
  `- first query "${opts.query}", top ${opts.n} hits with excerpts; warm queries: ${warmQueries.map((q) => `"${q}"`).join(', ')}.`,
  `- cold = a new browser context per run (empty HTTP cache), a blank page from the same origin, then` +
    ` engine start + first query, timed in the page; medians of ${opts.runs} runs (warm: median of all` +
    ` ${warmQueries.length}×runs queries). Engine order alternates between runs.`,
  `- bytes: length of each response body as Chromium received it (Playwright \`response.body()\`),` +
    ` headers not counted; the server sends no compression (HTTP/1.1, keep-alive, Content-Length),` +
    ` so these are the file sizes on the wire. Engine = .js/.wasm (Pagefind's wasm.*.pagefind);` +
    ` index = everything else the search fetched. Requests = network requests from engine start` +
    ` to the top ${opts.n} excerpts.`,
);
for (const e of engines) {
  const s = summary[e];
  if (s.skipped || s.failed) continue;
  const check =
    s.bytes_match_server && s.requests_match_server
      ? 'browser and server byte and request counts agree'
      : 'browser and server counts DIFFER (see the JSON log)';
  const warmBy = Object.entries(s.warm_ms_by_query)
    .map(([q, v]) => `${q} ${ms1(v)}`)
    .join(', ');
  md.push(
    `- ${e}: ${s.matches} matches for the first query; cold runs ${s.cold_ms_all.map(ms1).join(', ')} ms;` +
      ` warm per query (ms) ${warmBy}; warm queries fetched ${s.warm_requests} more requests,` +
      ` ${kib(s.warm_bytes)}; gzip -6 of the first query's files would be engine ${kib(s.engine_bytes_gzip)},` +
      ` index ${kib(s.index_bytes_gzip)}; ${check}` +
      (Number.isFinite(s.engine_ms) ? `; the worker's own reported ms ${ms1(s.engine_ms)}` : '') +
      (s.failed_requests.length ? `; FAILED requests: ${s.failed_requests.join(', ')}` : '') +
      (s.body_unavailable ? `; ${s.body_unavailable} bodies unavailable, Content-Length used` : '') +
      (s.errors.length ? `; ${s.errors.length} failed run(s): ${s.errors.join('; ')}` : '') +
      '.',
  );
}
md.push(`- browser: Chromium ${browserVersion} (headless), playwright-core ${require('playwright-core/package.json').version}.`);

const text = md.join('\n') + '\n';
if (opts.md) await fs.writeFile(opts.md, text);
else process.stdout.write(text);
if (opts.json) {
  const strip = (r) => ({
    ...r,
    cold: { ...r.cold, server: { ...r.cold.server, files: r.cold.server.files.map(({ file, ...x }) => x) } },
    warm: { ...r.warm, server: { ...r.warm.server, files: r.warm.server.files.map(({ file, ...x }) => x) } },
  });
  const out = {
    options: opts,
    browser: browserVersion,
    summary,
    runs: Object.fromEntries(engines.map((e) => [e, results[e].runs.map(strip)])),
    errors: Object.fromEntries(engines.map((e) => [e, results[e].errors])),
  };
  await fs.writeFile(opts.json, JSON.stringify(out, null, 1));
}
const anyFailed = engines.some((e) => summary[e].failed || results[e].errors.length);
process.exit(anyFailed ? 1 : 0);
