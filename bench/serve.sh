#!/usr/bin/env bash
# Serve benchmark: how long after saving a report the served page shows the edit.
#
#   bench/serve.sh [N ...]     (default N: 1000 10000)
#
# See bench/README.md.
set -euo pipefail

usage() {
  cat <<'EOF2'
usage: bench/serve.sh [N ...]

For each N (default: 1000 10000), on the cached corpus shared with bench/build.sh:
  1. times a cold `rollbook build` of a copy of the corpus (the bar is relative to it);
  2. starts `rollbook serve --port 0` on that copy and waits for its first build;
  3. edits BENCH_RUNS reports (default 10), one at a time, each by appending a sentence, and
     measures from just before the write until the served page contains the sentence
     (bench/serve/edits.py, polling over HTTP); after each edit it waits for the server to
     catch up (search index, site-wide counts) so that every edit is measured alone;
  4. reports the median and the slowest edit, and the server's own time for the rebuild.

environment:
  BENCH_DIR     work dir for corpora, outputs, logs   (default: <repo>/target/bench)
  GEN_CORPUS    corpus generator   (default: <repo>/../shared/bench/gen_corpus.py)
  BENCH_RUNS    edits per N   (default: 10)
  ROLLBOOK_BIN  use this rollbook binary instead of `cargo build --release`
EOF2
}

SCRIPT=serve.sh
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
parse_sizes 1000 10000 -- "$@"
bench_paths 10
rollbook_binary
machine_facts
results=$BENCH_DIR/results-serve.md
command -v python3 >/dev/null || die "python3 is required"

server=""
stop_server() { [[ -n $server ]] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null; server=""; }
trap stop_server EXIT

md "" "### serve: edit to updated page ($(date -u +%Y-%m-%d), $(nproc) cores, ${cpu:-unknown CPU}, ${mem:-?}, rollbook $rev)" ""
md "| N | cold build | edit → page, median of $RUNS | slowest | server's rebuild, median | bar (< 150 ms and ≤ build / 10) |"
md "|---:|---:|---:|---:|---:|---|"
for n in "${sizes[@]}"; do
  ensure_corpus "$n"
  work=$BENCH_DIR/serve-$n
  rm -rf "$work" "$BENCH_DIR/serve-out-$n"
  mkdir -p "$work"
  cp -r "$BENCH_DIR/site-$n/content" "$work/content"

  log "N=$n: cold build"
  start=$(date +%s%N)
  "$rollbook" build --root "$work" --output "$BENCH_DIR/serve-out-$n" >"$BENCH_DIR/logs/serve-build-$n.log" 2>&1 ||
    die "build failed; see $BENCH_DIR/logs/serve-build-$n.log"
  build_ms=$((($(date +%s%N) - start) / 1000000))
  rm -rf "$BENCH_DIR/serve-out-$n"

  log "N=$n: rollbook serve"
  serve_log=$BENCH_DIR/logs/serve-$n.log
  "$rollbook" serve --root "$work" --port 0 >"$serve_log" 2>&1 &
  server=$!
  for _ in $(seq 1 600); do
    grep -q "Serving at" "$serve_log" && break
    kill -0 "$server" 2>/dev/null || die "serve stopped; see $serve_log"
    sleep 0.5
  done
  address=$(grep -oE 'Serving at http://[^/]+' "$serve_log" | sed 's|Serving at http://||')
  [[ -n $address ]] || die "serve did not start; see $serve_log"
  sleep 2

  log "N=$n: $RUNS edits"
  edits=$BENCH_DIR/logs/serve-edits-$n.tsv
  python3 "$(dirname "$0")/serve/edits.py" "$address" "$serve_log" "$work/content" "$RUNS" | tee "$edits" >&2
  stop_server

  median_ms=$(cut -f1 "$edits" | median)
  slowest=$(cut -f1 "$edits" | sort -g | tail -n1)
  server_ms=$(cut -f2 "$edits" | grep -oE 'in [0-9]+ ms' | grep -oE '[0-9]+' | median)
  verdict=$(awk -v m="$median_ms" -v b="$build_ms" 'BEGIN { print (m < 150 && m <= b / 10) ? "met" : "not met" }')
  md "| $n | $(awk -v b="$build_ms" 'BEGIN { printf "%.2f s", b / 1000 }') | $median_ms ms | $slowest ms | $server_ms ms | $verdict |"
done
