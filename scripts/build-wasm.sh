#!/usr/bin/env bash
# Builds the core as WebAssembly into extension/pkg/ and checks its size budget.
#
#   scripts/build-wasm.sh          release build (what the extension ships)
#
# Needs the wasm32 target, wasm-bindgen-cli at the version in Cargo.lock and the npm
# packages (scripts/setup.sh installs all three).
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=extension/pkg
# Every build appends the size of each module here, one JSON object per line (time, commit,
# module, raw and gzipped bytes, budget), so that sizes can be followed from build to build;
# BENCHMARKS.md quotes them. target/ is not in the repository.
SIZES=target/wasm-sizes.jsonl
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD -- crate Cargo.toml Cargo.lock 2>/dev/null || COMMIT="$COMMIT+changes"

# build NAME FEATURE PROFILE BUDGET_BYTES: one package extension/pkg/NAME.js + NAME_bg.wasm.
build() {
  local name=$1 feature=$2 profile=$3 budget=$4
  cargo build -p pushotp --features "$feature" --target wasm32-unknown-unknown --profile "$profile" --locked
  wasm-bindgen --target web --remove-name-section --remove-producers-section \
    --out-dir "$OUT" --out-name "$name" "target/wasm32-unknown-unknown/$profile/pushotp.wasm"
  # npm's binaryen, not Debian's: Debian's wasm-opt 108 turns wasm-bindgen's externref table
  # into a funcref table and the module fails at start-up. wasm-bindgen output has no
  # target_features section, so the features it uses are named here.
  node_modules/.bin/wasm-opt -Oz \
    --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types --enable-multivalue \
    "$OUT/${name}_bg.wasm" -o "$OUT/${name}_bg.wasm"

  local raw gz
  raw=$(stat -c %s "$OUT/${name}_bg.wasm")
  gz=$(gzip -9 -c "$OUT/${name}_bg.wasm" | wc -c)
  printf 'wasm size: %s_bg.wasm %d bytes raw, %d bytes gzipped (budget %d raw)\n' \
    "$name" "$raw" "$gz" "$budget"
  mkdir -p "$(dirname "$SIZES")"
  printf '{"at":"%s","commit":"%s","module":"%s_bg.wasm","raw":%d,"gzipped":%d,"budget":%d}\n' \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$COMMIT" "$name" "$raw" "$gz" "$budget" >>"$SIZES"
  if [ "$raw" -gt "$budget" ]; then
    echo "error: $OUT/${name}_bg.wasm is over its size budget" >&2
    exit 1
  fi
}

rm -rf "$OUT"
# What the service worker loads at every wake-up. 128 KB since approval passcodes are OCRA
# responses (RFC 6287) over the request id: the core's one OCRA implementation added about 8 KB;
# 130 KB since approvals carry the binding of their login page (the request's commitment to it,
# the answer's field and the check that it is the page's), about 2.3 KB (BENCHMARKS.md,
# WebAssembly size).
build pushotp wasm wasm-worker $((130 * 1024))
# What only the options page and PIN prompts load, on demand, and the worker while privacyIDEA
# tokens exist or for a rare check (a restore elsewhere, a notice about a token) (Argon2id and
# the privacyIDEA device keys' RSA and prime search, about 174 KB, are the largest parts; QR code
# reading about 29 KB; refusing hidden characters in privacyIDEA links and challenges and plain
# http to other computers about 1.1 KB; the login origins of an enrollment answer and the rule
# of where a push passcode may be typed about 3.5 KB; a request's typed number and the
# failed-approvals notice about 0.8 KB; an enrollment's comparison code about 0.25 KB).
build pushotp_tools wasm-tools release $((503 * 1024))
# wasm-bindgen writes a .gitignore of its own; the repository's ignores the folder already.
rm -f "$OUT/.gitignore"
node scripts/smoke-wasm.mjs
