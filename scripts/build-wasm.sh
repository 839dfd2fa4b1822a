#!/usr/bin/env bash
# Builds the core as WebAssembly into extension/pkg/ and checks its size budget.
#
#   scripts/build-wasm.sh          release build (what the extension ships)
#
# Needs the wasm32 target, wasm-bindgen-cli at the version in Cargo.lock and the npm
# packages (scripts/setup.sh installs all three).
set -euo pipefail
cd "$(dirname "$0")/.."

# The service worker loads this module on every wake-up; keep it small.
BUDGET_BYTES=$((120 * 1024))
OUT=extension/pkg

cargo build -p pushotp --features wasm --target wasm32-unknown-unknown --release --locked
rm -rf "$OUT"
wasm-bindgen --target web --remove-name-section --remove-producers-section \
  --out-dir "$OUT" target/wasm32-unknown-unknown/release/pushotp.wasm
# npm's binaryen, not Debian's: Debian's wasm-opt 108 turns wasm-bindgen's externref table
# into a funcref table and the module fails at start-up. wasm-bindgen output has no
# target_features section, so the features it uses are named here.
node_modules/.bin/wasm-opt -Oz \
  --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals --enable-reference-types --enable-multivalue \
  "$OUT/pushotp_bg.wasm" -o "$OUT/pushotp_bg.wasm"
# wasm-bindgen writes a .gitignore of its own; the repository's ignores the folder already.
rm -f "$OUT/.gitignore"

raw=$(stat -c %s "$OUT/pushotp_bg.wasm")
gz=$(gzip -9 -c "$OUT/pushotp_bg.wasm" | wc -c)
printf 'wasm size: %d bytes raw, %d bytes gzipped (budget %d raw)\n' "$raw" "$gz" "$BUDGET_BYTES"
if [ "$raw" -gt "$BUDGET_BYTES" ]; then
  echo "error: $OUT/pushotp_bg.wasm is over its size budget" >&2
  exit 1
fi
node scripts/smoke-wasm.mjs
