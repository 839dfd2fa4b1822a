#!/usr/bin/env bash
# Runs the PushOTP demo: the reference server (embedded SQLite in .demo/, demo user alice with
# password alice-demo, sign-ins from this machine placed in London by the built-in GeoIP test
# database, a push token ready to enroll) and Chromium with the extension (staged into
# dist/extension/) at the demo app's sign-in page and PushOTP's options page, the token's
# activation link filled in.
#
#   scripts/demo.sh               (close the browser window or press Ctrl-C to stop)
#   scripts/demo.sh --no-browser  the server only: the activation link with its QR code, and
#                                 how to load the extension into your own Chrome or Edge
#   scripts/demo.sh --no-build    skips installing and building (done already, as by
#                                 scripts/test.sh before its walkthrough)
#
# Without a display no browser is started either, as with --no-browser. PUSHOTP_DEMO_ADDRESS
# (127.0.0.1:8080) is where the server listens, PUSHOTP_DEMO_DIR (.demo) where it keeps its data.
set -euo pipefail
cd "$(dirname "$0")/.."
address=${PUSHOTP_DEMO_ADDRESS:-127.0.0.1:8080}
data=${PUSHOTP_DEMO_DIR:-.demo}

browser=yes
build=yes
for arg in "$@"; do
  case $arg in
    --no-browser) browser=no ;;
    --no-build) build=no ;;
    *) echo "usage: scripts/demo.sh [--no-browser] [--no-build]" >&2; exit 2 ;;
  esac
done
display=yes
[ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] || display=no

if [ "$build" = yes ]; then
  scripts/setup.sh
  scripts/build-wasm.sh
  cargo build -p pushotp-server --locked
fi
node scripts/stage-extension.mjs
extension=$(realpath dist/extension)

mkdir -p "$data"
data=$(realpath "$data")
db="sqlite://$data/pushotp.db"
log="$data/server.log"

pids=()
profile=""
cleanup() {
  [ "${#pids[@]}" -eq 0 ] || kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  [ -z "$profile" ] || rm -rf "$profile"
}
trap cleanup EXIT
# Ctrl-C or a kill ends the script through its EXIT trap, which stops the server.
trap 'exit 130' INT TERM

target/debug/pushotp-server --database "$db" serve --demo --bind "$address" >"$log" 2>&1 &
server=$!
pids+=("$server")
for _ in $(seq 50); do
  grep -q 'Demo app:' "$log" 2>/dev/null && break
  kill -0 "$server" 2>/dev/null || { cat "$log" >&2; echo "the server did not start (is $address in use?)" >&2; exit 1; }
  sleep 0.2
done
# A fresh activation link on every run: the first run's, in the server's log, is used up once
# the demo has been tried.
enrollment=$(RUST_LOG=warn target/debug/pushotp-server --database "$db" token enroll alice --public-url "http://$address")
link=$(grep -o 'pushotp://enroll?[^[:space:]]*' <<<"$enrollment" | head -n1)

cat <<TXT

PushOTP demo
  Demo app:         http://$address/app   (sign in as alice / alice-demo)
  Sign-ins from this machine show as from 81.2.69.142, which the demo's GeoIP test database
  places in London, GB.
  Extension:        $extension
  Answer pushes from a terminal instead: cargo run -p pushotp-server --example device -- '<activation link>'

TXT

if [ "$browser" = no ] || [ "$display" = no ]; then
  # The whole QR code and the link; the server's log comes after them.
  printf '%s\n\n' "$enrollment"
  [ "$display" = yes ] || echo "No display was found, so no browser was started."
  cat <<TXT
To use the extension in your own Chrome, Edge or Chromium on this machine:
  1. Open chrome://extensions (or edge://extensions) and turn on "Developer mode".
  2. Click "Load unpacked" and choose: $extension
  3. Pin PushOTP from the puzzle-piece menu to see its toolbar button.
  4. Open PushOTP's options page (right-click its toolbar button, then Options), paste the
     activation link above under "Add a push token" and press Add.
  5. Open http://$address/app, sign in as alice / alice-demo and choose
     "Use my mobile to autosend a password"; in the PushOTP popup, pick the number the
     sign-in page shows and press Approve.
Press Ctrl-C to stop the server. Its log follows.

TXT
  tail -n 0 -f "$log" &
  pids+=($!)
  wait "$server"
  exit 0
fi

# Chromium names an unpacked extension after its folder's path (SHA-256, the first 32 hex
# digits written with the letters a to p).
extension_id=$(printf '%s' "$extension" | sha256sum | cut -c1-32 | tr '0-9a-f' 'a-p')
options="chrome-extension://$extension_id/extension/options.html#enroll=$(node -p 'encodeURIComponent(process.argv[1])' "$link")"
profile=$(mktemp -d "${TMPDIR:-/tmp}/pushotp-demo.XXXXXX")
args=(--user-data-dir="$profile" --no-first-run)
# Chromium refuses to run as root without this.
[ "$(id -u)" -ne 0 ] || args+=(--no-sandbox)

echo "Starting Chromium with PushOTP loaded (profile $profile); close its window to stop the demo."
/usr/bin/chromium "${args[@]}" --disable-extensions-except="$extension" --load-extension="$extension" \
  "http://$address/app" >"$data/chromium.log" 2>&1 &
chromium=$!
pids+=("$chromium")
# Chromium blocks an extension's page named on its command line while the extension is still
# loading (ERR_BLOCKED_BY_CLIENT). Once the extension's service worker runs (it opens its
# storage folder in the profile), the running browser opens the page like a typed address.
for _ in $(seq 150); do
  [ -d "$profile/Default/Local Extension Settings/$extension_id" ] && break
  kill -0 "$chromium" 2>/dev/null || { cat "$data/chromium.log" >&2; echo "Chromium did not start" >&2; exit 1; }
  sleep 0.1
done
/usr/bin/chromium "${args[@]}" "$options" >>"$data/chromium.log" 2>&1
cat <<TXT
In the browser:
  1. PushOTP's options page has the activation link filled in: press Add. (If the page is
     missing, right-click PushOTP's toolbar button, choose Options and paste the link
     $link)
  2. In the demo app's tab, sign in as alice / alice-demo and choose
     "Use my mobile to autosend a password".
  3. Open PushOTP from its toolbar button (pin it from the puzzle-piece menu) or from its
     notification, pick the number the sign-in page shows and press Approve.
TXT
wait "$chromium"
