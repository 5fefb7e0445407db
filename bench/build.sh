#!/usr/bin/env bash
# Build benchmark: rollbook vs Hugo on the same generated corpus of rollback reports.
#
#   bench/build.sh [--hugo-only | --rollbook-only] [N ...]     (default N: 1000 10000)
#
# See bench/README.md. Progress goes to stderr; the Markdown report goes to stdout and is
# appended to $BENCH_DIR/results.md.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: bench/build.sh [--hugo-only | --rollbook-only] [N ...]

For each N (default: 1000 10000) generate N reports (cached), then time cold builds of
rollbook (release) and Hugo, each run BENCH_RUNS times (default 3): median wall time,
max peak RSS, output size and file count. Prints a Markdown table per N and appends it
to $BENCH_DIR/results.md.

options:
  --hugo-only       time Hugo only (skips cargo build)
  --rollbook-only   time rollbook only
  -h, --help        this help

environment:
  BENCH_DIR     work dir for corpora, sites, outputs, logs   (default: <repo>/target/bench)
  GEN_CORPUS    corpus generator   (default: <repo>/../shared/bench/gen_corpus.py)
  BENCH_RUNS    runs per tool, median wall / max RSS reported   (default: 3)
  ROLLBOOK_BIN  use this rollbook binary instead of `cargo build --release`
  BENCH_OUT_DIR where both tools write their outputs   (default: /dev/shm/rollbook-bench if
                /dev/shm is a tmpfs with 8 GiB free, else $BENCH_DIR; BENCH_OUT_DIR=target/bench
                times both tools writing to the disk)
  HUGO          hugo executable   (default: hugo; install: apt-get install -y hugo)

exit status: 0 ok; 1 a timed build failed or rollbook could not be built;
             2 bad usage or a missing tool
EOF
}

SCRIPT=build.sh
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

# ---------------------------------------------------------------- arguments
want_rollbook=1
want_hugo=1
rest=()
for arg in "$@"; do
  case $arg in
    --hugo-only) want_rollbook=0 ;;
    --rollbook-only) want_hugo=0 ;;
    *) rest+=("$arg") ;;
  esac
done
((want_rollbook || want_hugo)) || die "--hugo-only and --rollbook-only exclude each other"
parse_sizes 1000 10000 -- "${rest[@]}"

# ---------------------------------------------------------------- paths
bench_paths 3
script_dir=$repo/bench
HUGO=${HUGO:-hugo}
results=$BENCH_DIR/results.md
# Outputs go to a tmpfs where there is one with room for them: on this kind of machine (a VM
# whose memory the host backs on first use) writing a file into memory the kernel has not used
# lately cost 2 s of system time per GB, measured with dd, and on ext4 without a journal
# creating files after thousands were deleted cost more every run. Both charge a tool for the
# bytes and files it writes, not for building them, and they changed the disk's figures by a
# second from one run to the next. See bench/README.md.
default_out_dir() {
  local kib
  if [[ $(stat -f -c %T /dev/shm 2>/dev/null) == tmpfs ]]; then
    kib=$(df -Pk /dev/shm | awk 'NR == 2 { print $4 }')
    if ((kib > 8 * 1024 * 1024)); then echo /dev/shm/rollbook-bench; return; fi
  fi
  echo "$BENCH_DIR"
}
out_dir=${BENCH_OUT_DIR:-$(default_out_dir)}
mkdir -p "$out_dir"
out_dir=$(cd "$out_dir" && pwd)

# ---------------------------------------------------------------- tools
if [[ ! -x /usr/bin/time ]] || ! /usr/bin/time -f '%e %M' -o /dev/null true 2>/dev/null; then
  die "GNU time is required at /usr/bin/time (for wall time and peak RSS): apt-get install -y time"
fi

# ver_ge A B: version A >= version B
ver_ge() { [[ $(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1) == "$2" ]]; }

hugo_ver=""
if ((want_hugo)); then
  if command -v "$HUGO" >/dev/null; then
    hugo_ver=$("$HUGO" version | grep -oE 'v[0-9]+\.[0-9]+(\.[0-9]+)?' | head -n1 | tr -d v)
    [[ -n $hugo_ver ]] || die "could not read the version from '$HUGO version'"
  elif ((want_rollbook)); then
    log "note: hugo is not installed (apt-get install -y hugo); Hugo rows are skipped"
    want_hugo=0
    hugo_missing=1
  else
    die "hugo is not installed: apt-get install -y hugo"
  fi
fi

rollbook_bin=""
rollbook_problem=""   # why rollbook is not timed, if it is not
if ((want_rollbook)); then
  if [[ -n ${ROLLBOOK_BIN:-} ]]; then
    [[ -x $ROLLBOOK_BIN ]] || die "ROLLBOOK_BIN is not an executable: $ROLLBOOK_BIN"
    rollbook_bin=$(cd "$(dirname "$ROLLBOOK_BIN")" && pwd)/$(basename "$ROLLBOOK_BIN")
  elif ! command -v cargo >/dev/null; then
    rollbook_problem="cargo not found"
  else
    log "building rollbook: cargo build --release (log: $BENCH_DIR/logs/cargo-build.log)"
    if (cd "$repo" && cargo build --release) >"$BENCH_DIR/logs/cargo-build.log" 2>&1; then
      target_dir=${CARGO_TARGET_DIR:-target}
      [[ $target_dir == /* ]] || target_dir=$repo/$target_dir
      rollbook_bin=$target_dir/release/rollbook
      [[ -x $rollbook_bin ]] || rollbook_problem="cargo build succeeded but $rollbook_bin is missing"
    else
      rollbook_problem="cargo build --release failed"
      log "warning: cargo build --release failed; rollbook is skipped. Last lines of the log:"
      tail -n 15 "$BENCH_DIR/logs/cargo-build.log" | sed 's/^/    /' >&2
    fi
  fi
fi

# ---------------------------------------------------------------- report helpers
machine_facts
rustc_ver=$( (cd "$repo" && rustc --version 2>/dev/null) || echo "rustc not found")

md "" "## Build benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')" ""
md "- machine: $(nproc) cores${cpu:+ ($cpu)}${mem:+, $mem RAM}, $(uname -sm);" \
  "  load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (anything else running skews the times)"
if ((want_rollbook)); then md "- rollbook: $rev, $rustc_ver, release profile"; fi
if [[ -n $hugo_ver ]]; then md "- hugo: $("$HUGO" version | head -n1)"; fi
md "- method: cold builds (output dir moved aside before each run, deleted at exit; OS page cache warm, no" \
  "  untimed warm-up run); each tool run $RUNS×; wall = median, peak RSS = max of the runs" \
  "  (GNU time); output = \`du -sb\` and regular-file count of the output dir after the last run"
md "- outputs written to: $out_dir ($(stat -f -c %T "$out_dir") filesystem; on a tmpfs, deleted before each run)"

# ---------------------------------------------------------------- hugo site
prepare_hugo_site() { # N
  local n=$1 site=$BENCH_DIR/hugo-$1 cfg
  mkdir -p "$site"
  rm -rf "$site/layouts" "$site/config.toml" "$site/hugo.toml"
  cp -R "$script_dir/hugo/layouts" "$site/layouts"
  if [[ -e $site/content && ! -L $site/content ]]; then rm -rf "$site/content"; fi
  ln -sfn "../site-$n/content" "$site/content"
  cfg=$site/hugo.toml
  ver_ge "$hugo_ver" 0.110.0 || cfg=$site/config.toml # hugo.toml is read from v0.110 on
  {
    if ! ver_ge "$hugo_ver" 0.128.0; then printf 'paginate = 50\n'; fi # top-level: before any table
    cat "$script_dir/hugo/hugo.toml"
    if ver_ge "$hugo_ver" 0.128.0; then printf '\n[pagination]\npagerSize = 50\n'; fi
    printf '\n[services.rss]\nlimit = 50\n'
  } >"$cfg"
}

# ---------------------------------------------------------------- timing
# What a run leaves behind is moved out of the way, not deleted, until the script exits:
# deleting tens of thousands of files just before a timed build slowed the build down by
# seconds of kernel time on this machine (ext4 without a journal skips, one by one, the inodes
# freed in the last minutes when it allocates new ones), for both tools, run after run.
# Deleting the previous output is no part of a build's work. Leave a few minutes between
# two invocations for the same reason.
# A trash on each filesystem, so that moving a path into it is a rename.
trash=$BENCH_DIR/trash out_trash=$out_dir/trash
rm -rf "$trash" "$out_trash"
mkdir -p "$trash" "$out_trash"
out_fs=$(stat -f -c %T "$out_dir")
# The last outputs stay for a look, except on a tmpfs, where they are memory.
trap 'rm -rf "$trash" "$out_trash"; if [[ $out_fs == tmpfs ]]; then rm -rf "$out_dir"/out-*; fi' EXIT
# On a tmpfs the outputs are deleted at once instead: there the trash would hold gigabytes of
# memory, and the kernel reclaimed page cache for seconds of system time in later runs.
retire() { # PATH...: moved into the trash of its filesystem (deleted, on a tmpfs)
  local p to
  for p in "$@"; do
    to=$trash
    if [[ $p == "$out_dir"/* ]]; then
      if [[ $out_fs == tmpfs ]]; then rm -rf "$p"; continue; fi
      to=$out_trash
    fi
    if [[ -e $p ]]; then mv "$p" "$to/$(date +%s%N)-${p##*/}"; fi
  done
}

# measure TOOL N OUTDIR CLEAN... -- CMD...
# Retires CLEAN then runs CMD under GNU time RUNS times. Sets m_wall (median s), m_rss (max KiB),
# m_bytes, m_files; returns 1 (with the log's tail on stderr) if a run fails.
measure() {
  local tool=$1 n=$2 out=$3 i tf lf e k u s walls=()
  shift 3
  local clean=()
  while [[ $1 != -- ]]; do clean+=("$1"); shift; done
  shift
  m_rss=0 m_fail_log=$BENCH_DIR/logs/$tool-$n-run1.log
  for ((i = 1; i <= RUNS; i++)); do
    retire "${clean[@]}"
    tf=$BENCH_DIR/logs/$tool-$n-run$i.time
    lf=$BENCH_DIR/logs/$tool-$n-run$i.log
    if ! /usr/bin/time -f '%e %M %U %S' -o "$tf" "$@" >"$lf" 2>&1; then
      log "error: $tool build failed at N=$n (run $i); last lines of $lf:"
      tail -n 15 "$lf" | sed 's/^/    /' >&2
      m_fail_log=$lf
      return 1
    fi
    read -r e k u s < <(tail -n1 "$tf")
    log "  $tool N=$n run $i/$RUNS: ${e} s wall (user ${u} s, sys ${s} s), $((k / 1024)) MiB peak RSS"
    if [[ -s $lf ]]; then log "  (it printed $(wc -l <"$lf") line(s), see $lf)"; fi
    if [[ ! -d $out ]] || [[ -z $(ls -A "$out") ]]; then
      log "error: $tool exited 0 at N=$n (run $i) but wrote nothing to $out"
      m_fail_log=$lf
      return 1
    fi
    walls+=("$e")
    if ((k > m_rss)); then m_rss=$k; fi
  done
  m_wall=$(printf '%s\n' "${walls[@]}" | sort -g | sed -n "$(((RUNS + 1) / 2))p")
  m_bytes=$(du -sb "$out" | cut -f1)
  m_files=$(find "$out" -type f | wc -l)
}

status=0
if [[ -n $rollbook_problem ]]; then status=1; fi

for n in "${sizes[@]}"; do
  ensure_corpus "$n"
  site=$BENCH_DIR/site-$n
  reports=$(find "$site/content" -name '*.md' -type f | wc -l)
  drafts=$( { grep -rlx --include='*.md' 'status = "draft"' "$site/content" || true; } | wc -l)

  # Two rollbook rows: the whole build, and the site alone (the generator's pages, without
  # the search index and related reports; ROLLBOOK_BENCH_WITHOUT_INDEX=1, as bench/search.sh).
  # The generator's bar is on the second; the search index's is the first against it.
  rb_row="" rs_row="" hg_row="" rb_wall="" rs_wall="" hg_wall="" rb_rss=""
  if ((want_rollbook)); then
    out=$out_dir/out-rollbook-$n
    full="rollbook (with search index, related reports)"
    plain="rollbook (site alone, no index)"
    if [[ -n $rollbook_problem ]]; then
      rb_row="| rollbook | skipped: $rollbook_problem (see logs/cargo-build.log) | | | | |"
    else
      if measure rollbook "$n" "$out" "$out" -- \
        "$rollbook_bin" build --root "$site" --output "$out"; then
        rb_wall=$m_wall rb_rss=$m_rss
        rb_row="| $full | $m_wall | $((m_rss / 1024)) | $(mib "$m_bytes") | $m_files | RATIO |"
      else
        status=1
        rb_row="| $full | failed (see logs/${m_fail_log##*/}) | | | | |"
      fi
      if measure rollbook-site "$n" "$out" "$out" -- \
        env ROLLBOOK_BENCH_WITHOUT_INDEX=1 "$rollbook_bin" build --root "$site" --output "$out"; then
        rs_wall=$m_wall
        if ((m_rss > rb_rss)); then rb_rss=$m_rss; fi
        rs_row="| $plain | $m_wall | $((m_rss / 1024)) | $(mib "$m_bytes") | $m_files | SITE_RATIO |"
      else
        status=1
        rs_row="| $plain | failed (see logs/${m_fail_log##*/}) | | | | |"
      fi
    fi
  fi
  if ((want_hugo)); then
    hsite=$BENCH_DIR/hugo-$n
    out=$out_dir/out-hugo-$n
    prepare_hugo_site "$n"
    if measure hugo "$n" "$out" "$out" "$hsite/resources" -- \
      "$HUGO" --quiet --source "$hsite" --destination "$out"; then
      hg_wall=$m_wall
      hg_row="| hugo $hugo_ver | $m_wall | $((m_rss / 1024)) | $(mib "$m_bytes") | $m_files | 1.00× |"
    else
      status=1
      hg_row="| hugo $hugo_ver | failed (see logs/${m_fail_log##*/}) | | | | |"
    fi
  elif [[ -n ${hugo_missing:-} ]]; then
    hg_row="| hugo | not installed (apt-get install -y hugo) | | | | |"
  fi

  over() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b }'; }
  full_ratio="" ratio="" with_without=""
  if [[ -n $rb_wall && -n $hg_wall ]]; then full_ratio=$(over "$rb_wall" "$hg_wall"); fi
  if [[ -n $rs_wall && -n $hg_wall ]]; then ratio=$(over "$rs_wall" "$hg_wall"); fi
  if [[ -n $rb_wall && -n $rs_wall ]]; then with_without=$(over "$rb_wall" "$rs_wall"); fi
  rb_row=${rb_row/RATIO/${full_ratio:+${full_ratio}×}}
  rs_row=${rs_row/SITE_RATIO/${ratio:+${ratio}×}}

  md "" "### N = $n reports" ""
  md "| tool | wall s (median of $RUNS) | peak RSS MiB (max of $RUNS) | output MiB | files | wall vs Hugo |"
  md "|---|---:|---:|---:|---:|---:|"
  if [[ -n $rb_row ]]; then md "$rb_row"; fi
  if [[ -n $rs_row ]]; then md "$rs_row"; fi
  if [[ -n $hg_row ]]; then md "$hg_row"; fi
  md ""
  if ((want_rollbook)); then
    if ((n == 10000)) && [[ -n $ratio ]]; then
      verdict=$(awk -v r="$ratio" 'BEGIN { print (r <= 0.4) ? "met" : "NOT met" }')
      md "- bar: the site alone ≤ 0.4× Hugo wall time at 10,000 reports: ${ratio}× → $verdict"
    elif ((n == 10000)); then
      md "- bar: the site alone ≤ 0.4× Hugo wall time at 10,000 reports: not measured"
    else
      md "- bar: the site alone ≤ 0.4× Hugo wall time at 10,000 reports (here N = $n: ${ratio:-n/a}${ratio:+×}, informative only)"
    fi
    if [[ -n $with_without ]]; then
      # The search issue's bar: indexing adds at most 1.5× the generator's build time, "so the
      # whole build with index and related reports still beats Hugo's plain build": the whole
      # build at most 2.5× the site alone (0.4× + 1.5 × 0.4× = 1.0× Hugo).
      added=$(awk -v r="$with_without" 'BEGIN { printf "%.2f", r - 1 }')
      verdict=$(awk -v a="$added" 'BEGIN { print (a <= 1.5) ? "met" : "NOT met" }')
      # The bars are at 10,000 reports; a small site's index costs more than its few pages.
      if ((n != 10000)); then verdict="$verdict (the bar is at 10,000 reports: informative only)"; fi
      md "- bar: the search index and related reports add ≤ 1.5× the site alone's time: they add ${added}×" \
        "  (whole build ${with_without}× the site alone) → $verdict" \
        "  (bench/search.sh measures this ratio with alternating builds, which is fairer to both)"
      if [[ -n $full_ratio ]]; then
        verdict=$(awk -v r="$full_ratio" 'BEGIN { print (r < 1) ? "met" : "NOT met" }')
        if ((n != 10000)); then verdict="$verdict (informative only)"; fi
        md "- bar: the whole build beats Hugo's plain build: ${full_ratio}× Hugo's wall time → $verdict"
      fi
    fi
    if [[ -n $rb_rss ]]; then
      verdict=$( ((rb_rss < 400 * 1024)) && echo met || echo "NOT met")
      md "- bar: rollbook peak RSS < 400 MiB: $((rb_rss / 1024)) MiB → $verdict"
    else
      md "- bar: rollbook peak RSS < 400 MiB: not measured"
    fi
  fi
  if [[ -n $hg_row && -n $hugo_ver ]]; then
    md "- Hugo: minimal templates (bench/hugo/layouts), one section per year, taxonomies services/tags/teams/severity" \
      "  with term pages, lists paginated by 50, RSS (50 items) and sitemap; its time includes all of that."
    md "- $drafts of $reports reports have \`status = \"draft\"\`, which is not Hugo's draft key: Hugo renders them," \
      "  rollbook leaves them out by default. A negligible difference."
  fi
done

exit "$status"
