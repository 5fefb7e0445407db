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

log() { printf '%s\n' "$*" >&2; }
die() { log "check.sh: error: $*"; exit 2; }

sizes=()
for arg in "$@"; do
  case $arg in
    -h | --help) usage; exit 0 ;;
    -*) usage >&2; die "unknown option: $arg" ;;
    *)
      [[ $arg =~ ^[1-9][0-9]*$ ]] || die "N must be a positive integer, got '$arg'"
      sizes+=("$arg")
      ;;
  esac
done
((${#sizes[@]})) || sizes=(10000)

script_dir=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$script_dir/.." && pwd)
GEN_CORPUS=${GEN_CORPUS:-$script_dir/../../shared/bench/gen_corpus.py}
BENCH_DIR=${BENCH_DIR:-$repo/target/bench}
RUNS=${BENCH_RUNS:-5}
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive integer, got '$RUNS'"
[[ -f $GEN_CORPUS ]] || die "corpus generator not found: $GEN_CORPUS (set GEN_CORPUS)"
command -v python3 >/dev/null || die "python3 is required to generate the corpus"
mkdir -p "$BENCH_DIR/logs"
BENCH_DIR=$(cd "$BENCH_DIR" && pwd)

if [[ -n ${ROLLBOOK_BIN:-} ]]; then
  [[ -x $ROLLBOOK_BIN ]] || die "ROLLBOOK_BIN is not an executable: $ROLLBOOK_BIN"
  rollbook=$ROLLBOOK_BIN
else
  log "building rollbook: cargo build --release"
  (cd "$repo" && cargo build --release) >"$BENCH_DIR/logs/cargo-build.log" 2>&1 ||
    die "cargo build --release failed; see $BENCH_DIR/logs/cargo-build.log"
  rollbook=${CARGO_TARGET_DIR:-$repo/target}/release/rollbook
fi

# seconds COMMAND...: wall time of one run, in seconds with milliseconds
seconds() {
  local start end
  start=$(date +%s%N)
  "$@" >/dev/null 2>&1 || true
  end=$(date +%s%N)
  echo "$(((end - start) / 1000000))" | awk '{ printf "%.3f", $1 / 1000 }'
}

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

for n in "${sizes[@]}"; do
  site=$BENCH_DIR/site-$n
  stamp=$site.stamp
  # The same cache key as bench/build.sh, so both scripts share the corpus.
  want="$(sha256sum "$GEN_CORPUS" | cut -d' ' -f1) n=$n"
  if [[ -d $site/content && -f $stamp && $(cat "$stamp") == "$want" ]]; then
    log "corpus N=$n: reusing $site/content"
  else
    log "corpus N=$n: generating into $site/content"
    rm -rf "$site/content" "$stamp"
    mkdir -p "$site"
    python3 "$GEN_CORPUS" "$site/content" "$n" >"$BENCH_DIR/logs/gen-$n.log" 2>&1
    printf '%s\n' "$want" >"$stamp"
  fi
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
