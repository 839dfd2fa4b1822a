#!/usr/bin/env bash
# Refreshes the README's screenshots in docs/screenshots/ from the walkthrough
# (scripts/walkthrough.sh), which plays the README's demo and saves a screenshot of every step
# into tests/artifacts/walkthrough/ (not tracked) on each test run; this copies a fresh set of
# the ones the README shows over the tracked ones.
#
#   scripts/screenshots.sh        (or npm run screenshots)
#
# Builds what the walkthrough runs against first: the WebAssembly package and the server.
set -euo pipefail
cd "$(dirname "$0")/.."

# walkthrough step's file (without its number) → the README's file
SHOTS=(
  login-page-number:login-page-number
  popup-request:popup-bound
  popup-unexpected-request:popup-unbound
  popup-request-dark:popup-dark
  popup-report-question:popup-report
)

scripts/setup.sh
scripts/build-wasm.sh
cargo build -p pushotp-server --locked

scripts/walkthrough.sh

for pair in "${SHOTS[@]}"; do
  from=${pair%%:*}
  to=${pair#*:}
  # The walkthrough numbers its screenshots in step order; the name after the number is stable.
  file=$(ls tests/artifacts/walkthrough/[0-9][0-9]-"$from".png)
  cp "$file" "docs/screenshots/$to.png"
done
git status --short docs/screenshots
