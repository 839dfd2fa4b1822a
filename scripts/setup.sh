#!/usr/bin/env bash
# Installs what building and testing PushOTP needs, skipping whatever is already there:
# the wasm32 target, wasm-bindgen-cli at the version Cargo.lock pins, cargo-fuzz, geckodriver,
# Debian's Chromium, chromedriver, Firefox ESR, PostgreSQL and Xvfb, and the npm packages of
# package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# The CLI must match the wasm-bindgen crate exactly, or the generated glue does not fit.
wbv=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3 }' Cargo.lock)
if ! wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $wbv"; then
  step "cargo install wasm-bindgen-cli $wbv"
  # Not --locked: one of the CLI's locked dependencies is not offered by the registry mirror.
  cargo install wasm-bindgen-cli --version "$wbv"
fi

# The fuzzer driver (scripts/fuzz.sh): libFuzzer itself comes with the fuzz crate's
# `libfuzzer-sys`, built with the C++ compiler.
fuzz_version=0.13.2
if ! cargo fuzz --version 2>/dev/null | grep -qx "cargo-fuzz $fuzz_version"; then
  step "cargo install cargo-fuzz $fuzz_version"
  cargo install --locked cargo-fuzz --version "$fuzz_version"
fi

# geckodriver drives Firefox for its end-to-end tests (tests/support/firefox.mjs): built from
# crates.io, so that nothing is downloaded from elsewhere.
gecko_version=0.37.1
if ! geckodriver --version 2>/dev/null | head -n1 | grep -q "^geckodriver $gecko_version"; then
  step "cargo install geckodriver $gecko_version"
  cargo install --locked geckodriver --version "$gecko_version"
fi

# Debian packages: Chromium and Firefox for the browser tests, PostgreSQL for the server's
# shared backend, Xvfb for the walkthrough's browser window where there is no display.
packages=()
[ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] || packages+=(chromium chromium-driver)
[ -x /usr/bin/firefox-esr ] || packages+=(firefox-esr)
command -v xvfb-run >/dev/null || packages+=(xvfb xauth)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || packages+=(postgresql)
if [ "${#packages[@]}" -gt 0 ]; then
  step "apt-get install ${packages[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi

# package-lock.json is the source of truth; reinstall only when it changed since the last install.
stamp=node_modules/.pushotp-lock.sha256
if ! sha256sum --check --status "$stamp" 2>/dev/null; then
  step "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  sha256sum package-lock.json >"$stamp"
fi
