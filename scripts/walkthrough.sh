#!/usr/bin/env bash
# Plays the README's demo in Chromium as a person would and saves a screenshot of each step in
# tests/artifacts/walkthrough/ (scripts/walkthrough.mjs says which). Chromium gets a window: on
# this display, or where there is none on a virtual one (xvfb-run, Debian's xvfb package, which
# scripts/setup.sh installs).
#
#   scripts/walkthrough.sh      (after scripts/build-wasm.sh and cargo build -p pushotp-server)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -n "${DISPLAY:-}" ]; then
  exec node scripts/walkthrough.mjs
fi
exec xvfb-run --auto-servernum --server-args="-screen 0 1280x900x24" node scripts/walkthrough.mjs
