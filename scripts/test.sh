#!/usr/bin/env bash
# Runs every check and test of PushOTP, installing what is missing first.
#
#   scripts/test.sh
#
# Order: fast and local first, the browser last, so a formatting slip fails in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

scripts/setup.sh

# Here every test must run: the privacyIDEA tests fail, rather than skip, when their
# prerequisites are missing (tests/support/privacyidea.mjs).
export PUSHOTP_REQUIRE_PRIVACYIDEA=1

# chromedriver and Chromium leave profile folders in TMPDIR; keep them out of the shared one.
export TMPDIR="${TMPDIR:-/tmp}/pushotp-test.$$"
mkdir -p "$TMPDIR"

# A throwaway PostgreSQL cluster for the server's shared-database tests. It lives in /tmp
# itself, so that the postgres user can reach it whatever TMPDIR's parents allow.
step "PostgreSQL for the tests"
pgdir=$(mktemp -d /tmp/pushotp-pg.XXXXXX)
chmod 755 "$pgdir"
trap 'scripts/postgres.sh stop "$pgdir/cluster"; rm -rf "$pgdir" "$TMPDIR"' EXIT
PUSHOTP_TEST_POSTGRES=$(scripts/postgres.sh start "$pgdir/cluster")
export PUSHOTP_TEST_POSTGRES
echo "$PUSHOTP_TEST_POSTGRES"

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy -D warnings (native, and the wasm binding)"
cargo clippy --workspace --all-targets --locked -- -D warnings
# QR code reading is behind the core's `qr` feature (the tools module's): lint it and its tests.
cargo clippy -p pushotp --all-targets --features qr --locked -- -D warnings
for feature in wasm wasm-tools; do
  cargo clippy -p pushotp --features "$feature" --target wasm32-unknown-unknown --locked -- -D warnings
done

step "cargo test (native)"
cargo test --workspace --features pushotp/qr --locked -- --nocapture 2>&1 | tee "$TMPDIR/native.log"
grep -h '^vectors:' "$TMPDIR/native.log" | sed 's/^/native /'

step "cargo test (the server on PostgreSQL)"
# A plain `cargo test` reports these ignored, since it has no database to give them (see
# server/tests/support: postgres_database). Here the cluster above is given, and each test
# whose name ends in `on_postgresql` runs for real; without the variable, or with a cluster
# it cannot reach, it fails. Other ignored tests, if any, are not run by this step.
cargo test --workspace --tests --features pushotp/qr --locked -- --ignored on_postgresql 2>&1 \
  | tee "$TMPDIR/postgres.log"
grep -q 'on_postgresql \.\.\. ok$' "$TMPDIR/postgres.log" \
  || { echo "no PostgreSQL test ran: are they still named ...on_postgresql?" >&2; exit 1; }

step "fuzzing: every parser input from outside reaches, ${PUSHOTP_FUZZ_SECONDS:-20} s each (scripts/fuzz.sh)"
scripts/fuzz.sh

step "cargo test (WebAssembly in headless Chromium)"
# No -q: cargo would pass --quiet on to the runner, which refuses it.
CHROMEDRIVER=/usr/bin/chromedriver cargo test -p pushotp --target wasm32-unknown-unknown \
  --test vectors --locked -- --nocapture 2>&1 | tee "$TMPDIR/wasm.log"
grep -h 'vectors:' "$TMPDIR/wasm.log" | sed 's/^.*vectors:/chromium vectors:/'

step "WebAssembly package build and size budget"
scripts/build-wasm.sh

step "web-ext lint"
npm run -s lint:ext

step "type check (tsc over the extension's JSDoc types, tsconfig.json)"
npx tsc -p tsconfig.json

step "ESLint (eslint.config.js)"
npx eslint extension/

step "reference server for the tests"
cargo build -p pushotp-server --locked

step "unit tests (Node only: the WebAssembly packages, against the real server, and pure modules)"
node --test tests/unit/

step "privacyIDEA $(sed -n 's/^VERSION=//p' scripts/privacyidea.sh) from PyPI for the end-to-end tests"
# Installed once into .cache/; each test file starts its own server. Without python3 the
# privacyIDEA tests fail and say why (PUSHOTP_REQUIRE_PRIVACYIDEA above); the other tests
# still run first.
scripts/privacyidea.sh install || { [ $? -eq 3 ] && echo "python3 is missing: the privacyIDEA tests will fail"; }

step "end-to-end tests (WebAssembly packages against the real server, the extension in Chromium)"
node --test --test-concurrency=1 tests/e2e/

step "end-to-end tests in Firefox (firefox-esr through geckodriver, against the real server)"
firefox_start=$(date +%s)
node --test --test-concurrency=1 tests/firefox/
echo "Firefox suite: $(( $(date +%s) - firefox_start )) s"

step "walkthrough: the README's demo as a person plays it (screenshots in tests/artifacts/walkthrough/)"
scripts/walkthrough.sh
