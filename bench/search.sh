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
  1. builds the site BENCH_BUILDS times (default 3) with the search index and related reports
     and as many times without them (ROLLBOOK_BENCH_WITHOUT_INDEX=1), alternating, each into
     a new directory, and reports the medians and their ratio;
  2. runs `rollbook search QUERY --json` BENCH_RUNS times (default 20) after one warm-up
     run and reports the median wall time of the whole process (file cache warm);
  3. checks that every run printed the same JSON.

environment:
  BENCH_DIR     work dir for corpora, outputs, logs   (default: <repo>/target/bench)
  GEN_CORPUS    corpus generator   (default: <repo>/../shared/bench/gen_corpus.py)
  BENCH_RUNS    search runs   (default: 20)
  BENCH_BUILDS  builds with the index, and as many without   (default: 3)
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
BUILDS=${BENCH_BUILDS:-3}
rollbook_binary

now_ns() { date +%s%N; }

# Outputs are moved aside and deleted at exit, not deleted before a build (see step 1).
trash=$BENCH_DIR/search-trash-$$
mkdir -p "$trash"
trap 'rm -rf "$trash"' EXIT
aside() { if [[ -e $1 ]]; then mv "$1" "$trash/old-$(date +%s%N)"; fi; }

for n in "${sizes[@]}"; do
  ensure_corpus "$n"
  site=$BENCH_DIR/site-$n

  # 1. Builds with and without the index, alternating. Subtracting the index's stages from
  # one build would assume that the rest of it costs the same without them; measured instead.
  # No build follows the deletion of a previous output: creating files just after tens of
  # thousands were deleted is slower on ext4 without a journal.
  # The last build with the index goes to the site's own output_dir, where search looks.
  with=() without=() peak_with=0 peak_without=0
  logs=$BENCH_DIR/logs
  for ((i = 1; i <= BUILDS; i++)); do
    for variant in with without; do
      out=$trash/$variant-$n-$i
      [[ $variant == with && $i == "$BUILDS" ]] && out=$site/public
      aside "$out"
      log "N=$n: rollbook build, $variant the index ($i of $BUILDS)"
      timing=$logs/search-build-$variant-$n-$i.log
      vars=(ROLLBOOK_TIMINGS=1)
      [[ $variant == without ]] && vars+=(ROLLBOOK_BENCH_WITHOUT_INDEX=1)
      env "${vars[@]}" /usr/bin/time -f '%e %M' -o "$timing.time" \
        "$rollbook" build --root "$site" --output "$out" >"$timing" 2>&1 ||
        die "build failed; see $timing"
      read -r wall peak <"$timing.time"
      if [[ $variant == with ]]; then
        with+=("$wall")
        ((peak > peak_with)) && peak_with=$peak
      else
        without+=("$wall")
        ((peak > peak_without)) && peak_without=$peak
      fi
    done
  done
  total=$(printf '%s\n' "${with[@]}" | median)
  base=$(printf '%s\n' "${without[@]}" | median)
  factor=$(awk -v t="$total" -v w="$base" 'BEGIN { printf "%.2f", t / w }')
  runs=$(for ((i = 0; i < BUILDS; i++)); do
    awk -v t="${with[i]}" -v w="${without[i]}" 'BEGIN { printf "%.2f ", t / w }'
  done)
  mib_of() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }

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
    echo "| build with the index and related reports, median of $BUILDS | $total s, peak $(mib_of "$peak_with") MiB |"
    echo "| build without them, median of $BUILDS | $base s, peak $(mib_of "$peak_without") MiB |"
    echo "| with / without | ${factor}× (each pair: ${runs% }; bar: the index adds at most 1.5× the build without it, so at most 2.5×) |"
    echo "| \`rollbook search \"$QUERY\" --json\`, median of $RUNS | $ms ms (bar: under 30 ms) |"
    echo "| matches | $hits |"
    echo "| same JSON every run | $same |"
  } | tee -a "$BENCH_DIR/results.md"
done
