// rollbook's search worker: runs the search engine (engine-<hash>.wasm, crates/web) on the
// index in web/. `rollbook build` writes this file with ENGINE and PACK defined above.
//
// Messages in:  {id, query: {text, kinds, severities, services, tags, teams, since, until,
//                open, sort, limit, facets}}
// Messages out: {id, ok: true, results: {total, hits, fuzzy, facets}, ms}
//               {id, ok: false, error: {message, help}}
"use strict";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
let engine = null;
let queue = Promise.resolve();

function today() {
  const d = new Date();
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

function chunkUrl(name) {
  return new URL("web/" + name, self.location.href).href;
}

async function start() {
  let fetched = null;
  const imports = {
    rollbook: {
      // A chunk the engine needs right away: synchronous, which a worker may do.
      fetch(ptr, len) {
        const name = decoder.decode(bytes(ptr, len));
        const request = new XMLHttpRequest();
        request.open("GET", chunkUrl(name), false);
        request.responseType = "arraybuffer";
        try {
          request.send();
        } catch (e) {
          return -1;
        }
        if (request.status !== 200 && request.status !== 0) return -1;
        fetched = new Uint8Array(request.response);
        return fetched.length;
      },
      take(ptr) {
        bytes(ptr, fetched.length).set(fetched);
        fetched = null;
      },
    },
  };
  const engineUrl = new URL(ENGINE, self.location.href).href;
  const [instance, pack] = await Promise.all([
    instantiate(engineUrl, imports),
    fetchBytes(new URL(PACK, self.location.href).href),
  ]);
  const exports = instance.exports;
  function bytes(ptr, len) {
    return new Uint8Array(exports.memory.buffer, ptr, len);
  }
  function pass(data) {
    const ptr = exports.alloc(data.length);
    bytes(ptr, data.length).set(data);
    return ptr;
  }
  function output(len) {
    return JSON.parse(decoder.decode(bytes(exports.output_ptr(), len)));
  }
  const opened = output(exports.open(pass(pack), pack.length));
  if (!opened.ok) throw Object.assign(new Error(opened.error.message), { help: opened.error.help });
  return {
    async query(query) {
      const json = encoder.encode(JSON.stringify({ ...query, today: today() }));
      // The engine answers "need" with chunks it must have, all fetched at once.
      for (let round = 0; round < 8; round++) {
        const answer = output(exports.query(pass(json), json.length));
        if (!answer.need) return answer;
        const chunks = await Promise.all(answer.need.map((name) => fetchBytes(chunkUrl(name))));
        answer.need.forEach((name, i) => {
          const n = encoder.encode(name);
          exports.put(pass(n), n.length, pass(chunks[i]), chunks[i].length);
        });
      }
      return { ok: false, error: { message: "the search index could not be read", help: "reload the page" } };
    },
  };
}

async function instantiate(url, imports) {
  if (WebAssembly.instantiateStreaming) {
    try {
      return (await WebAssembly.instantiateStreaming(fetch(url), imports)).instance;
    } catch (e) {
      // A host that serves .wasm with another content type: compile from bytes instead.
    }
  }
  return (await WebAssembly.instantiate(await fetchBytes(url), imports)).instance;
}

async function fetchBytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`cannot fetch ${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

self.onmessage = (event) => {
  const { id, query } = event.data || {};
  queue = queue.then(async () => {
    const started = performance.now();
    try {
      engine = engine || start();
      const answer = await (await engine).query(query || {});
      self.postMessage({ id, ...answer, ms: performance.now() - started });
    } catch (e) {
      engine = null;
      self.postMessage({
        id,
        ok: false,
        error: {
          message: `search is unavailable: ${e.message || e}`,
          help: e.help || "the site must be served over HTTP; reload the page to try again",
        },
      });
    }
  });
};
