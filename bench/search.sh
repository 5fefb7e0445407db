#!/usr/bin/env bash
# Search benchmark: what the index costs a build, and how fast `rollbook search` answers.
#
#   bench/search.sh [N ...]     (default N: 10000)
#
# See bench/README.md.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: bench/search.sh [N ...]

For each N (default: 10000), on the cached corpus shared with bench/build.sh:
  1. builds the site once with ROLLBOOK_TIMINGS=1 and reports the index and related-reports
     stages against the rest of the build;
  2. runs `rollbook search QUERY --json` BENCH_RUNS times (default 20) after one warm-up
     run and reports the median wall time of the whole process (file cache warm);
  3. checks that every run printed the same JSON.

environment:
  BENCH_DIR     work dir for corpora, outputs, logs   (default: <repo>/target/bench)
  GEN_CORPUS    corpus generator   (default: <repo>/../shared/bench/gen_corpus.py)
  BENCH_RUNS    search runs   (default: 20)
  BENCH_QUERY   the query   (default: "connection pool timeout")
  ROLLBOOK_BIN  use this rollbook binary instead of `cargo build --release`
EOF
}

SCRIPT=search.sh
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
parse_sizes 10000 -- "$@"
bench_paths 20
QUERY=${BENCH_QUERY:-connection pool timeout}
rollbook_binary

now_ns() { date +%s%N; }

for n in "${sizes[@]}"; do
  ensure_corpus "$n"
  site=$BENCH_DIR/site-$n

  # 1. The build, by stage. The site's own output_dir (public/) is where search looks.
  log "N=$n: rollbook build (ROLLBOOK_TIMINGS=1)"
  timings=$BENCH_DIR/logs/search-build-$n.log
  ROLLBOOK_TIMINGS=1 "$rollbook" build --root "$site" >"$timings" 2>&1 || die "build failed; see $timings"
  stage() { awk -v s="$1" '$1 == "timing:" && $2 == s { print $3 }' "$timings"; }
  index=$(stage index) related=$(stage related)
  total=$(grep -oE '\(([0-9.]+) s' "$timings" | tail -n1 | tr -d '( s')
  without=$(awk -v t="$total" -v i="$index" -v r="$related" 'BEGIN { printf "%.2f", t - i - r }')
  factor=$(awk -v t="$total" -v w="$without" 'BEGIN { printf "%.2f", t / w }')

  # 2. Searches, warm.
  "$rollbook" search --root "$site" "$QUERY" --json >/dev/null 2>&1
  times=()
  first=""
  same=yes
  for ((i = 1; i <= RUNS; i++)); do
    start=$(now_ns)
    out=$("$rollbook" search --root "$site" "$QUERY" --json 2>/dev/null)
    end=$(now_ns)
    times+=("$(((end - start) / 1000))")
    sum=$(printf '%s' "$out" | sha256sum | cut -d' ' -f1)
    if [[ -z $first ]]; then first=$sum; elif [[ $sum != "$first" ]]; then same=no; fi
  done
  ms=$(printf '%s\n' "${times[@]}" | median | awk '{ printf "%.1f", $1 / 1000 }')
  hits=$(printf '%s' "$out" | python3 -c 'import json, sys; d = json.load(sys.stdin); print(d["total"])')

  {
    echo
    echo "### search, N = $n ($(date -u +%Y-%m-%d), $(nproc) cores)"
    echo
    echo "| measure | value |"
    echo "|---|---:|"
    echo "| build, whole | $total s |"
    echo "| of which index | $index s |"
    echo "| of which related reports | $related s |"
    echo "| build without them | $without s |"
    echo "| build / build without index | ${factor}× (bar: at most 1.5×) |"
    echo "| \`rollbook search \"$QUERY\" --json\`, median of $RUNS | $ms ms (bar: under 30 ms) |"
    echo "| matches | $hits |"
    echo "| same JSON every run | $same |"
  } | tee -a "$BENCH_DIR/results.md"
done
