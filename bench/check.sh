#!/usr/bin/env bash
# Check benchmark: `rollbook check` against `rollbook build` on the same generated corpus,
# run alternately in one session, so that the ratio is measured side by side.
#
#   bench/check.sh [N ...]     (default N: 10000)
#
# The bar: check takes under a quarter of build's wall time. See bench/README.md.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: bench/check.sh [N ...]

For each N (default: 10000) generate N reports (cached, shared with bench/build.sh), then
run `rollbook build` and `rollbook check` alternately BENCH_RUNS times (default 5) and
print the median wall times and their ratio. Appends the table to $BENCH_DIR/results.md.

environment:
  BENCH_DIR     work dir for corpora, outputs, logs   (default: <repo>/target/bench)
  GEN_CORPUS    corpus generator   (default: <repo>/../shared/bench/gen_corpus.py)
  BENCH_RUNS    runs per command   (default: 5)
  ROLLBOOK_BIN  use this rollbook binary instead of `cargo build --release`
EOF
}

SCRIPT=check.sh
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
parse_sizes 10000 -- "$@"
bench_paths 5
rollbook_binary

# seconds COMMAND...: wall time of one run, in seconds with milliseconds
seconds() {
  local start end
  start=$(date +%s%N)
  "$@" >/dev/null 2>&1 || true
  end=$(date +%s%N)
  echo "$(((end - start) / 1000000))" | awk '{ printf "%.3f", $1 / 1000 }'
}

for n in "${sizes[@]}"; do
  ensure_corpus "$n"
  site=$BENCH_DIR/site-$n
  # Each build writes a new directory, deleted only after the last run: deleting tens of
  # thousands of files just before a build makes the next file creations slow on some
  # filesystems, which would flatter the ratio.
  builds=()
  checks=()
  for ((i = 1; i <= RUNS; i++)); do
    out=$BENCH_DIR/out-check-bench-$n-$i
    log "N=$n run $i/$RUNS: build"
    builds+=("$(seconds "$rollbook" build --root "$site" --output "$out")")
    log "N=$n run $i/$RUNS: check"
    checks+=("$(seconds "$rollbook" check --root "$site")")
  done
  build=$(printf '%s\n' "${builds[@]}" | median)
  check=$(printf '%s\n' "${checks[@]}" | median)
  ratio=$(awk -v c="$check" -v b="$build" 'BEGIN { printf "%.2f", c / b }')
  met=$(awk -v r="$ratio" 'BEGIN { print (r < 0.25) ? "met" : "NOT met" }')
  {
    echo
    echo "### rollbook check vs build, N = $n ($(date -u +%Y-%m-%d), $(nproc) cores)"
    echo
    echo "| command | wall s (median of $RUNS) | runs |"
    echo "|---|---:|---|"
    echo "| rollbook build | $build | ${builds[*]} |"
    echo "| rollbook check | $check | ${checks[*]} |"
    echo
    echo "- check / build: ${ratio}× (bar: under 0.25×) → $met"
  } | tee -a "$BENCH_DIR/results.md"
  for ((i = 1; i <= RUNS; i++)); do rm -rf "$BENCH_DIR/out-check-bench-$n-$i"; done
done
