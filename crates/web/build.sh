#!/usr/bin/env bash
# Builds the browser search engine into crates/web/dist/engine.wasm, which rollbook embeds.
# Run it after changing crates/web or crates/search (or their dependencies) and commit the
# result; CI runs `crates/web/build.sh --check` to prove the committed engine is this build.
#
# Needs: the wasm32-unknown-unknown target (installed here if missing) and wasm-opt from the
# npm package binaryen (pinned in package.json, installed here if missing).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
check=false
[ "${1:-}" = "--check" ] && check=true

rustup target list --installed | grep -qx wasm32-unknown-unknown ||
  rustup target add wasm32-unknown-unknown
[ -x "$here/node_modules/.bin/wasm-opt" ] ||
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)

cd "$root"
# The same bytes from any checkout: source paths (kept in panic messages) are remapped.
cargo_home="${CARGO_HOME:-$HOME/.cargo}"
export RUSTFLAGS="--cfg getrandom_backend=\"custom\" --remap-path-prefix=$root=/rollbook --remap-path-prefix=$cargo_home=/cargo"
cargo build --locked -p rollbook-web --target wasm32-unknown-unknown --profile wasm
built="$root/target/wasm32-unknown-unknown/wasm/rollbook_web.wasm"
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
# The features are those rustc's wasm32 target enables by default. `--converge` repeats the
# passes until the module stops shrinking: 1.6 KB less brotli than one round, for 50 s.
"$here/node_modules/.bin/wasm-opt" -Oz --converge --strip-debug --strip-producers \
  --enable-bulk-memory --enable-sign-ext --enable-mutable-globals \
  --enable-nontrapping-float-to-int --enable-multivalue --enable-reference-types \
  "$built" -o "$out"

target="$here/dist/engine.wasm"
if $check; then
  if ! cmp -s "$out" "$target"; then
    echo "crates/web/dist/engine.wasm is not what its source builds: run crates/web/build.sh and commit the result" >&2
    exit 1
  fi
  echo "crates/web/dist/engine.wasm is up to date ($(wc -c <"$target") bytes)"
else
  mkdir -p "$here/dist"
  cp "$out" "$target"
  echo "wrote $target ($(wc -c <"$target") bytes)"
fi
