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
db="sqlite://$root/.demo/pushotp.db"
target/debug/pushotp-server --database "$db" serve --demo --bind "$address" >.demo/server.log 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  grep -q 'Demo app:' .demo/server.log 2>/dev/null && break
  kill -0 "$server" 2>/dev/null || { cat .demo/server.log >&2; echo "the server did not start (is $address in use?)" >&2; exit 1; }
  sleep 0.2
done
# A fresh activation link on every run (the first run's is in the server's output too).
link=$(target/debug/pushotp-server --database "$db" token enroll alice --public-url "http://$address" | grep -o 'pushotp://enroll?[^[:space:]]*' | head -n1)
tail -f .demo/server.log &
tailer=$!
trap 'kill "$server" "$tailer" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT

# Chromium gives an unpacked extension an id made from its folder's path.
extension_id=$(printf '%s' "$root" | sha256sum | cut -c1-32 | tr '0-9a-f' 'a-p')
options="chrome-extension://$extension_id/extension/options.html#enroll=$(node -p 'encodeURIComponent(process.argv[1])' "$link")"

cat <<TXT

PushOTP demo
  Demo app:         http://$address/app   (sign in as alice / alice-demo)
  Activation link:  $link
  Answer pushes from a terminal instead: cargo run -p pushotp-server --example device -- '<activation link>'

TXT

if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  cat <<TXT
No display was found, so no browser was started. To use the extension in your own browser:
  1. Open chrome://extensions (or edge://extensions) in Chrome, Edge or Chromium.
  2. Turn on "Developer mode".
  3. Click "Load unpacked" and choose: $root
  4. Pin PushOTP from the puzzle-piece menu to see its toolbar button.
  5. In PushOTP's options page, paste the activation link above and press Add.
  6. Open http://$address/app, sign in as alice / alice-demo and choose
     "Use my mobile to autosend a password"; approve in the PushOTP popup.
Press Ctrl-C to stop the server.
TXT
  wait "$server"
  exit 0
fi

profile=$(mktemp -d "${TMPDIR:-/tmp}/pushotp-demo.XXXXXX")
trap 'kill "$server" "$tailer" 2>/dev/null || true; rm -rf "$profile"' EXIT
echo "Starting Chromium with PushOTP loaded (profile $profile); close the window to stop the demo."
echo "The options page opens with the activation link filled in: press Add, then sign in on the demo app tab."
args=(--user-data-dir="$profile" --no-first-run --disable-extensions-except="$root" --load-extension="$root")
# Chromium refuses to run as root without this.
[ "$(id -u)" -ne 0 ] || args+=(--no-sandbox)
/usr/bin/chromium "${args[@]}" "http://$address/app" "$options"
