#!/usr/bin/env bash
# Builds PushOTP and opens Chromium with the extension loaded.
#
#   scripts/demo.sh
#
# With a display, Chromium opens in a fresh profile with the extension installed; without one,
# the script says how to load the built extension into your own browser.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

scripts/setup.sh
scripts/build-wasm.sh

if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  cat <<TXT

PushOTP is built. No display was found, so no browser was started. To use it:
  1. Open chrome://extensions (or edge://extensions) in Chrome, Edge or Chromium.
  2. Turn on "Developer mode".
  3. Click "Load unpacked" and choose: $root
  4. Pin PushOTP from the puzzle-piece menu to see its toolbar button.
TXT
  exit 0
fi

profile=$(mktemp -d "${TMPDIR:-/tmp}/pushotp-demo.XXXXXX")
trap 'rm -rf "$profile"' EXIT
echo "Starting Chromium with PushOTP loaded (profile $profile); close the window to end."
args=(--user-data-dir="$profile" --no-first-run --disable-extensions-except="$root" --load-extension="$root")
# Chromium refuses to run as root without this.
[ "$(id -u)" -ne 0 ] || args+=(--no-sandbox)
/usr/bin/chromium "${args[@]}" chrome://extensions
