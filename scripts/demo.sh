#!/usr/bin/env bash
# Runs the PushOTP demo: the reference server (embedded SQLite in .demo/, demo user alice with
# password alice-demo, a push token ready to enroll) and Chromium with the extension loaded at
# the demo app's sign-in page.
#
#   scripts/demo.sh            (Ctrl-C stops the server)
#
# Without a display no browser is started: the script says how to load the built extension
# into your own Chrome or Edge, and keeps the server running.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
address=${PUSHOTP_DEMO_ADDRESS:-127.0.0.1:8080}

scripts/setup.sh
scripts/build-wasm.sh
cargo build -p pushotp-server --locked

mkdir -p .demo
target/debug/pushotp-server --database "sqlite://$root/.demo/pushotp.db" serve --demo --bind "$address" &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT
sleep 1
kill -0 "$server" 2>/dev/null || { echo "the server did not start (is $address in use?)" >&2; exit 1; }
echo
echo "To make a new activation link:  target/debug/pushotp-server --database sqlite://$root/.demo/pushotp.db token enroll alice --public-url http://$address"
echo "To answer pushes from a terminal: cargo run -p pushotp-server --example device -- '<activation link>'"

if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  cat <<TXT

The demo server runs at http://$address/app (alice / alice-demo). No display was found, so
no browser was started. To use the extension in your own browser:
  1. Open chrome://extensions (or edge://extensions) in Chrome, Edge or Chromium.
  2. Turn on "Developer mode".
  3. Click "Load unpacked" and choose: $root
  4. Pin PushOTP from the puzzle-piece menu to see its toolbar button.
Press Ctrl-C to stop the server.
TXT
  wait "$server"
  exit 0
fi

profile=$(mktemp -d "${TMPDIR:-/tmp}/pushotp-demo.XXXXXX")
trap 'kill "$server" 2>/dev/null || true; rm -rf "$profile"' EXIT
echo "Starting Chromium with PushOTP loaded (profile $profile); close the window to stop the demo."
args=(--user-data-dir="$profile" --no-first-run --disable-extensions-except="$root" --load-extension="$root")
# Chromium refuses to run as root without this.
[ "$(id -u)" -ne 0 ] || args+=(--no-sandbox)
/usr/bin/chromium "${args[@]}" "http://$address/app"
