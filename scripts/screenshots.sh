#!/usr/bin/env bash
# Refreshes the README's screenshots of the popup in docs/screenshots/. The popup's end-to-end
# test takes them on every run, into tests/artifacts/screenshots/ (not tracked), so that a test
# run leaves the checkout as it was; this copies a fresh set over the tracked ones.
#
#   scripts/screenshots.sh        (or npm run screenshots)
#
# Builds what the test runs against first: the WebAssembly package and the reference server.
set -euo pipefail
cd "$(dirname "$0")/.."

SHOTS=(popup-light.png popup-dark.png popup-number-matching.png)

scripts/setup.sh
scripts/build-wasm.sh
cargo build -p pushotp-server --locked

# Screenshots left over from an earlier run must not be mistaken for this run's.
rm -rf tests/artifacts/screenshots
node --test --test-concurrency=1 tests/e2e/popup.test.mjs

for shot in "${SHOTS[@]}"; do
  cp "tests/artifacts/screenshots/$shot" "docs/screenshots/$shot"
done
git status --short docs/screenshots
