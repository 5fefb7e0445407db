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

log() { printf '%s\n' "$*" >&2; }
die() { log "search.sh: error: $*"; exit 2; }

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
RUNS=${BENCH_RUNS:-20}
QUERY=${BENCH_QUERY:-connection pool timeout}
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

now_ns() { date +%s%N; }
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

for n in "${sizes[@]}"; do
  site=$BENCH_DIR/site-$n
  stamp=$site.stamp
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
