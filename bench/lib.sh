# Shared by the benchmark scripts: messages, arguments, paths, the corpus cache, the binary.
# Source it after defining `usage`; it uses $SCRIPT (the script's name, for messages).
# shellcheck shell=bash
# shellcheck disable=SC2034  # sizes, repo, RUNS, rollbook… are set for the sourcing script

log() { printf '%s\n' "$*" >&2; }
die() { log "$SCRIPT: error: $*"; exit 2; }

# parse_sizes DEFAULT... -- ARGS...: sets `sizes` from the positional N arguments (or the
# defaults); -h prints usage. Options a script handles itself must be removed before.
parse_sizes() {
  local defaults=()
  while [[ $1 != -- ]]; do defaults+=("$1"); shift; done
  shift
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
  ((${#sizes[@]})) || sizes=("${defaults[@]}")
}

# bench_paths DEFAULT_RUNS: sets repo, GEN_CORPUS, BENCH_DIR (created, absolute) and RUNS.
bench_paths() {
  local script_dir
  script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  repo=$(cd "$script_dir/.." && pwd)
  GEN_CORPUS=${GEN_CORPUS:-$script_dir/../../shared/bench/gen_corpus.py}
  BENCH_DIR=${BENCH_DIR:-$repo/target/bench}
  RUNS=${BENCH_RUNS:-$1}
  [[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive integer, got '$RUNS'"
  [[ -f $GEN_CORPUS ]] || die "corpus generator not found: $GEN_CORPUS (set GEN_CORPUS)"
  GEN_CORPUS=$(cd "$(dirname "$GEN_CORPUS")" && pwd)/$(basename "$GEN_CORPUS")
  command -v python3 >/dev/null || die "python3 is required to generate the corpus"
  mkdir -p "$BENCH_DIR/logs"
  BENCH_DIR=$(cd "$BENCH_DIR" && pwd)
}

# ensure_corpus N: $BENCH_DIR/site-N/content holds N generated reports, generated again only
# when the generator changes.
ensure_corpus() {
  local n=$1 site=$BENCH_DIR/site-$1 stamp=$BENCH_DIR/site-$1.stamp want tmp
  want="$(sha256sum "$GEN_CORPUS" | cut -d' ' -f1) n=$n"
  if [[ -d $site/content && -f $stamp && $(cat "$stamp") == "$want" ]]; then
    log "corpus N=$n: reusing $site/content"
    return
  fi
  log "corpus N=$n: generating into $site/content"
  tmp=$BENCH_DIR/.site-$n.tmp
  rm -rf "$tmp" "$site/content" "$stamp"
  python3 "$GEN_CORPUS" "$tmp" "$n"
  mkdir -p "$site"
  mv "$tmp" "$site/content"
  printf '%s\n' "$want" >"$stamp"
}

# rollbook_binary: sets `rollbook` to $ROLLBOOK_BIN or a fresh release build; dies if neither.
rollbook_binary() {
  if [[ -n ${ROLLBOOK_BIN:-} ]]; then
    [[ -x $ROLLBOOK_BIN ]] || die "ROLLBOOK_BIN is not an executable: $ROLLBOOK_BIN"
    rollbook=$(cd "$(dirname "$ROLLBOOK_BIN")" && pwd)/$(basename "$ROLLBOOK_BIN")
    return
  fi
  log "building rollbook: cargo build --release (log: $BENCH_DIR/logs/cargo-build.log)"
  (cd "$repo" && cargo build --release) >"$BENCH_DIR/logs/cargo-build.log" 2>&1 ||
    die "cargo build --release failed; see $BENCH_DIR/logs/cargo-build.log"
  local target=${CARGO_TARGET_DIR:-target}
  [[ $target == /* ]] || target=$repo/$target
  rollbook=$target/release/rollbook
}

# median: of the numbers on stdin, one a line.
median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# md LINE...: the Markdown report, to stdout and to $results (set by the script).
md() { printf '%s\n' "$@" | tee -a "${results:?}"; }

# mib BYTES: in MiB with one decimal.
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }

# machine_facts: sets `cpu`, `mem` and `rev` (the commit, noting a changed work tree) for the
# report's header.
machine_facts() {
  cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //' || true)
  mem=$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo 2>/dev/null || true)
  if rev=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null); then
    if ! git -C "$repo" diff --quiet HEAD -- 2>/dev/null; then rev="$rev (work tree differs)"; fi
  else
    rev="no commit yet"
  fi
}
