#!/usr/bin/env bash
# Browser search benchmark: rollbook's search (tantivy in wasm, in a Web Worker) against Pagefind
# on the same built site, in headless Chromium.
#
#   bench/browser.sh [N ...]     (default N: 10000)
#
# See bench/README.md. Progress goes to stderr; the Markdown report goes to stdout and is
# appended to $BENCH_DIR/results-browser.md.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: bench/browser.sh [N ...]

For each N (default: 10000), on the cached corpus shared with bench/build.sh:
  1. builds the site with rollbook (only if BENCH_ENGINES has rollbook, or if there is no
     built site yet) into $BENCH_DIR/site-N/public;
  2. indexes its report pages with Pagefind into $BENCH_DIR/browser/pagefind-N (outside
     rollbook's output), and prints the indexing time;
  3. serves the site on 127.0.0.1 (Node, no compression) and drives headless Chromium:
     per engine, BENCH_RUNS cold runs (new browser context each) of engine start + first
     query up to the top 5 hits with excerpts, then warm queries with new terms.
Prints a Markdown table per N and appends it to $BENCH_DIR/results-browser.md.

environment:
  BENCH_ENGINES   engines to measure, comma-separated   (default: rollbook,pagefind)
  BENCH_RUNS      cold runs per engine, medians reported   (default: 3)
  BENCH_QUERY     the first query   (default: "connection pool timeout")
  BENCH_WARM      warm queries, separated by '|'
                  (default: disk full|certificate expired|dns resolution|rollback migration|memory leak)
  BENCH_DIR       work dir for corpora, sites, outputs, logs   (default: <repo>/target/bench)
  GEN_CORPUS      corpus generator   (default: <repo>/../shared/bench/gen_corpus.py)
  ROLLBOOK_BIN    use this rollbook binary instead of `cargo build --release`
  CHROMIUM        Chromium executable   (default: /usr/bin/chromium)
  BENCH_ROLLBOOK_WORKER  classic or module: how search/worker.js is started   (default: classic)

needs: node >= 20 and npm (Pagefind and playwright-core are installed from
bench/browser/package.json into $BENCH_DIR/browser), Chromium (apt-get install -y chromium).

exit status: 0 ok; 1 a build, the indexing or an engine's run failed; 2 bad usage or a
             missing tool
EOF
}

SCRIPT=browser.sh
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
parse_sizes 10000 -- "$@"
bench_paths 3

ENGINES=${BENCH_ENGINES:-rollbook,pagefind}
QUERY=${BENCH_QUERY:-connection pool timeout}
WARM=${BENCH_WARM:-disk full|certificate expired|dns resolution|rollback migration|memory leak}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
WORKER_TYPE=${BENCH_ROLLBOOK_WORKER:-classic}
[[ $WORKER_TYPE == classic || $WORKER_TYPE == module ]] ||
  die "BENCH_ROLLBOOK_WORKER must be classic or module, got '$WORKER_TYPE'"
browser_dir=$repo/bench/browser
node_dir=$BENCH_DIR/browser
results=$BENCH_DIR/results-browser.md

want_rollbook=0 want_pagefind=0
IFS=', ' read -r -a engine_list <<<"$ENGINES"
for e in "${engine_list[@]}"; do
  case $e in
    rollbook) want_rollbook=1 ;;
    pagefind) want_pagefind=1 ;;
    '') ;;
    *) die "BENCH_ENGINES: unknown engine '$e' (rollbook, pagefind)" ;;
  esac
done
((want_rollbook || want_pagefind)) || die "BENCH_ENGINES names no engine"
engines=$(printf '%s\n' "${engine_list[@]}" | awk 'NF && !seen[$0]++' | paste -sd, -)

# ---------------------------------------------------------------- tools
command -v node >/dev/null || die "node (>= 20) is required"
command -v npm >/dev/null || die "npm is required"
node_major=$(node -p 'process.versions.node.split(".")[0]')
((node_major >= 20)) || die "node >= 20 is required, found $(node --version)"
[[ -x $CHROMIUM ]] || die "Chromium not found at $CHROMIUM (apt-get install -y chromium, or set CHROMIUM)"
have_time=0
if [[ -x /usr/bin/time ]] && /usr/bin/time -f '%e' -o /dev/null true 2>/dev/null; then have_time=1; fi

# Pagefind and playwright-core, pinned in bench/browser/package.json, installed outside the
# source tree. `npm install` rather than `npm ci`: the lock file lists only the platform
# packages of Pagefind that the registry had when it was written, which `npm ci` refuses.
mkdir -p "$node_dir"
want_stamp=$(cat "$browser_dir/package.json" "$browser_dir/package-lock.json" | sha256sum | cut -d' ' -f1)
if [[ ! -x $node_dir/node_modules/.bin/pagefind || ! -d $node_dir/node_modules/playwright-core ||
  $(cat "$node_dir/.stamp" 2>/dev/null) != "$want_stamp" ]]; then
  log "installing pagefind and playwright-core into $node_dir (log: $BENCH_DIR/logs/browser-npm.log)"
  cp "$browser_dir/package.json" "$browser_dir/package-lock.json" "$node_dir/"
  (cd "$node_dir" && npm install --no-audit --no-fund) >"$BENCH_DIR/logs/browser-npm.log" 2>&1 ||
    die "npm install failed; see $BENCH_DIR/logs/browser-npm.log"
  printf '%s\n' "$want_stamp" >"$node_dir/.stamp"
fi
pagefind=$node_dir/node_modules/.bin/pagefind
pagefind_ver=$("$pagefind" --version 2>/dev/null | awk '{ print $2 }')
[[ -n $pagefind_ver ]] || die "could not run $pagefind --version"

# What Pagefind indexes: the report pages only (not the lists, taxonomy pages, lessons and
# actions pages), and in them the title, the summary and the report's body, as rollbook's index
# does. Left out: breadcrumbs, badges, the details panel (services, tags, teams: filters in
# rollbook, not text), both tables of contents, the lessons / actions / related-reports sections
# that rollbook adds after the body (lessons and actions are already in the body), footer and
# newer/older links.
pf_glob='reports/[0-9]*.html'
pf_root='article.report'
pf_exclude='.breadcrumbs, .report-badges, .meta-panel, .toc, .report-section, .report-footer, .report-nav, .report-aside'

# ---------------------------------------------------------------- report header
machine_facts
chromium_ver=$("$CHROMIUM" --version 2>/dev/null | head -n1 || true)

md "" "## Browser search benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')" ""
md "- machine: $(nproc) cores${cpu:+ ($cpu)}${mem:+, $mem RAM}, $(uname -sm);" \
  "  load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (anything else running skews the times)"
md "- engines: $engines; rollbook $rev; Pagefind $pagefind_ver; ${chromium_ver:-$CHROMIUM}; node $(node --version)"
md "- Pagefind indexes \`$pf_glob\` with \`--root-selector '$pf_root'\` and" \
  "  \`--exclude-selectors '$pf_exclude'\`: title, summary and report body, as rollbook indexes."

status=0
rollbook=""
rollbook_problem="" # why rollbook is not measured, if it is not
# get_rollbook: sets `rollbook` (lib.sh's rollbook_binary, without dying on a failed cargo build)
get_rollbook() {
  [[ -n $rollbook || -n $rollbook_problem ]] && return
  if ! rollbook=$(rollbook_binary && printf '%s' "$rollbook"); then
    rollbook="" rollbook_problem="rollbook could not be built (see logs/cargo-build.log)"
    status=1
  fi
}

for n in "${sizes[@]}"; do
  ensure_corpus "$n"
  site=$BENCH_DIR/site-$n
  public=$site/public
  notes=()
  skip=""

  # 1. The built site. rollbook writes its default output dir, public/, as bench/search.sh does.
  #    Without rollbook in BENCH_ENGINES an existing build is reused as it is.
  build_note=""
  if ((want_rollbook)) || [[ ! -d $public/reports ]]; then
    get_rollbook
  fi
  if [[ -n $rollbook ]] && { ((want_rollbook)) || [[ ! -d $public/reports ]]; }; then
    log "N=$n: rollbook build --root $site (log: $BENCH_DIR/logs/browser-build-$n.log)"
    start=$(date +%s%N)
    if "$rollbook" build --root "$site" >"$BENCH_DIR/logs/browser-build-$n.log" 2>&1; then
      build_note="built now in $(awk -v ns=$(($(date +%s%N) - start)) 'BEGIN { printf "%.1f", ns / 1e9 }') s"
    else
      log "error: rollbook build failed at N=$n; last lines of $BENCH_DIR/logs/browser-build-$n.log:"
      tail -n 15 "$BENCH_DIR/logs/browser-build-$n.log" | sed 's/^/    /' >&2
      status=1
      skip="rollbook build failed (see logs/browser-build-$n.log)"
      build_note="rollbook build FAILED, the previous build is used"
    fi
  elif [[ -n $rollbook_problem ]]; then
    skip=$rollbook_problem
    build_note="not rebuilt: $rollbook_problem"
  else
    build_note="reused (no rollbook in BENCH_ENGINES)"
    log "N=$n: reusing the built site $public"
  fi
  if [[ ! -d $public/reports ]]; then
    md "" "### N = $n reports" "" "- no built site at \`$public\`: $build_note"
    status=1
    continue
  fi
  notes+=("- site: \`$public\`, $build_note; $(find "$public/reports" -maxdepth 1 -name '[0-9]*.html' | wc -l) report pages")
  if [[ -f $public/search/worker.js ]]; then
    rb_bytes=$(du -cb "$public/search/worker.js" "$public"/search/engine-*.wasm "$public/search/web" | tail -n1 | cut -f1)
    rb_files=$(find "$public/search/web" -type f 2>/dev/null | wc -l)
    notes+=("- rollbook's browser search on disk (worker.js, engine-<hash>.wasm, web/): $(mib "$rb_bytes") MiB, $rb_files files in search/web/")
  elif ((want_rollbook)); then
    notes+=("- rollbook's browser search is not in this build (no \`search/worker.js\`)")
  fi

  # 2. Pagefind's bundle, outside rollbook's output.
  pf_out=$node_dir/pagefind-$n
  if ((want_pagefind)); then
    log "N=$n: indexing with Pagefind $pagefind_ver into $pf_out (log: $BENCH_DIR/logs/browser-pagefind-$n.log)"
    rm -rf "$pf_out"
    pf_log=$BENCH_DIR/logs/browser-pagefind-$n.log
    pf_cmd=("$pagefind" --site "$public" --output-path "$pf_out" --glob "$pf_glob"
      --root-selector "$pf_root" --exclude-selectors "$pf_exclude")
    start=$(date +%s%N)
    if ((have_time)); then
      pf_ok=1
      /usr/bin/time -f '%e %M' -o "$BENCH_DIR/logs/browser-pagefind-$n.time" "${pf_cmd[@]}" >"$pf_log" 2>&1 || pf_ok=0
    else
      pf_ok=1
      "${pf_cmd[@]}" >"$pf_log" 2>&1 || pf_ok=0
    fi
    pf_secs=$(awk -v ns=$(($(date +%s%N) - start)) 'BEGIN { printf "%.1f", ns / 1e9 }')
    if ((!pf_ok)) || [[ ! -f $pf_out/pagefind.js ]]; then
      log "error: pagefind failed at N=$n; last lines of $pf_log:"
      tail -n 15 "$pf_log" | sed 's/^/    /' >&2
      status=1
      notes+=("- Pagefind indexing failed (see logs/${pf_log##*/})")
    else
      pf_pages=$(grep -oE 'Indexed [0-9]+ pages' "$pf_log" | grep -oE '[0-9]+' | head -n1)
      pf_words=$(grep -oE 'Indexed [0-9]+ words' "$pf_log" | grep -oE '[0-9]+' | head -n1)
      pf_rss=""
      if ((have_time)); then
        pf_rss=$(awk '{ printf "%.0f", $2 / 1024 }' "$BENCH_DIR/logs/browser-pagefind-$n.time")
      fi
      pf_bytes=$(du -sb "$pf_out" | cut -f1)
      pf_frag=$(find "$pf_out/fragment" -type f | wc -l)
      pf_idx=$(find "$pf_out/index" -type f | wc -l)
      log "N=$n: Pagefind indexed ${pf_pages:-?} pages in $pf_secs s${pf_rss:+, peak RSS $pf_rss MiB}"
      notes+=("- Pagefind indexing (setup, not in the table): $pf_secs s wall${pf_rss:+, peak RSS $pf_rss MiB};" \
        "  ${pf_pages:-?} pages, ${pf_words:-?} words; bundle $(mib "$pf_bytes") MiB ($pf_idx index chunks, $pf_frag fragments)")
    fi
  fi

  # 3. The browser.
  log "N=$n: headless Chromium, engines $engines, $RUNS cold runs each"
  md_part=$BENCH_DIR/logs/browser-$n.md
  rm -f "$md_part"
  driver_status=0
  node "$browser_dir/driver.mjs" --site "$public" --pagefind "$pf_out" --modules "$node_dir" \
    --engines "$engines" --runs "$RUNS" --query "$QUERY" --warm "$WARM" --chromium "$CHROMIUM" \
    --worker-type "$WORKER_TYPE" \
    --json "$BENCH_DIR/logs/browser-$n.json" --md "$md_part" ${skip:+--skip "rollbook:$skip"} ||
    driver_status=$?
  if ((driver_status)); then status=1; fi

  md "" "### N = $n reports" ""
  if [[ -s $md_part ]]; then
    md "$(cat "$md_part")"
  else
    md "- the browser driver failed (exit $driver_status) before writing its table; see the messages above"
  fi
  notes+=("- load average after the browser runs: $(cut -d' ' -f1-3 /proc/loadavg)")
  md "${notes[@]}"
  md "- per-run figures, every file fetched: \`logs/browser-$n.json\`"
done

exit "$status"
