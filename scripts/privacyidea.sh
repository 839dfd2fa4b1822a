#!/usr/bin/env bash
# A local privacyIDEA 3.14 (from PyPI, SQLite) for the end-to-end tests.
#
#   scripts/privacyidea.sh install          venv + pip install (cached under .cache/)
#   scripts/privacyidea.sh start DATA_DIR   initialise DATA_DIR, start on 127.0.0.1 at a free
#                                           port, configure a realm, a user and a poll-only
#                                           push policy; prints `URL PID` on the last line
#   scripts/privacyidea.sh stop DATA_DIR    stops the server started for DATA_DIR
#
# The admin is `admin` / `admin-pass`; realm `realm1` has users alice, bob and carol (flat file).
# Exits 3 with a message when python3 is missing, so that callers can skip.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=3.14
CACHE=${PUSHOTP_CACHE:-$PWD/.cache}
VENV=$CACHE/privacyidea-venv
PY=$VENV/bin/python

if ! command -v python3 >/dev/null; then
  echo "privacyIDEA tests skipped: python3 is missing" >&2
  exit 3
fi

install() {
  if [ -x "$VENV/bin/pi-manage" ] && "$PY" -c "import privacyidea" 2>/dev/null \
    && [ "$(cat "$VENV/.pushotp-version" 2>/dev/null)" = "$VERSION" ]; then
    return
  fi
  mkdir -p "$CACHE/pip"
  python3 -m venv "$VENV"
  timeout 900 "$VENV/bin/pip" install -q --cache-dir "$CACHE/pip" "privacyidea==$VERSION"
  echo "$VERSION" >"$VENV/.pushotp-version"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

start() {
  local data=$1
  install
  mkdir -p "$data"
  data=$(cd "$data" && pwd)
  local port
  port=$(free_port)
  if [ ! -f "$data/pi.cfg" ]; then
    cat >"$data/pi.cfg" <<CFG
SQLALCHEMY_DATABASE_URI = 'sqlite:///$data/privacyidea.sqlite'
SECRET_KEY = '$(python3 -c 'import secrets; print(secrets.token_hex(32))')'
PI_PEPPER = '$(python3 -c 'import secrets; print(secrets.token_hex(24))')'
PI_ENCFILE = '$data/enckey'
PI_AUDIT_KEY_PRIVATE = '$data/private.pem'
PI_AUDIT_KEY_PUBLIC = '$data/public.pem'
PI_AUDIT_SQL_TRUNCATE = True
PI_LOGFILE = '$data/privacyidea.log'
PI_LOGLEVEL = 20
PI_UUID_FILE = '$data/uuid.txt'
PI_GNUPG_HOME = '$data/gpg'
PI_NODE = 'localnode'
CFG
    cat >"$data/users" <<USERS
alice:x:1001:1001:Alice Example,,,,alice@example.org:/home/alice:/bin/sh
bob:x:1002:1002:Bob Example,,,,bob@example.org:/home/bob:/bin/sh
carol:x:1003:1003:Carol Example,,,,carol@example.org:/home/carol:/bin/sh
USERS
    (
      cd "$data"
      export PRIVACYIDEA_CONFIGFILE=$data/pi.cfg
      "$VENV/bin/pi-manage" setup create_enckey >/dev/null
      "$VENV/bin/pi-manage" setup create_audit_keys >/dev/null
      "$VENV/bin/pi-manage" setup create_tables >/dev/null
      "$VENV/bin/pi-manage" admin add admin -p admin-pass >/dev/null
    ) >>"$data/setup.log" 2>&1
  fi
  (
    cd "$data"
    export PRIVACYIDEA_CONFIGFILE=$data/pi.cfg
    exec "$VENV/bin/pi-manage" run -h 127.0.0.1 -p "$port" >>"$data/server.log" 2>&1
  ) &
  local pid=$!
  echo "$pid" >"$data/pid"
  local url=http://127.0.0.1:$port
  for _ in $(seq 1 180); do
    if curl -fsS "$url/healthz/" >/dev/null 2>&1; then break; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "privacyIDEA did not start; see $data/server.log" >&2
      exit 1
    fi
    sleep 0.5
  done
  "$PY" - "$url" "$data/users" <<'PY'
import json, sys, urllib.request, urllib.parse
url, users = sys.argv[1], sys.argv[2]
def call(method, path, body=None, token=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", token)
    with urllib.request.urlopen(req) as r:
        reply = json.load(r)
    assert reply["result"]["status"], (path, reply)
    return reply["result"]["value"]
token = call("POST", "/auth", {"username": "admin", "password": "admin-pass"})["token"]
call("POST", "/resolver/flat1", {"type": "passwdresolver", "fileName": users}, token)
call("POST", "/realm/realm1", {"resolvers": "flat1"}, token)
call("POST", "/defaultrealm/realm1", {}, token)
call("POST", "/policy/push_enroll", {"scope": "enrollment", "action": {
    "push_firebase_configuration": "poll only",
    "push_registration_url": url + "/ttype/push",
    "push_ttl": "10", "push_ssl_verify": "0"}}, token)
call("POST", "/policy/push_auth", {"scope": "authentication", "action": {
    "push_text_on_mobile": "Sign in as {username}@{userrealm} from {client_ip}?",
    "push_title_on_mobile": "privacyIDEA test",
    "push_ssl_verify": "0", "push_allow_polling": "allow"}}, token)
PY
  echo "$url $pid"
}

stop() {
  local data=$1
  [ -f "$data/pid" ] || return 0
  local pid
  pid=$(cat "$data/pid")
  # `pi-manage run` (Flask's reloader off) is one process; end it by its id.
  kill "$pid" 2>/dev/null || true
  rm -f "$data/pid"
}

case "${1:-}" in
  install) install ;;
  start) start "${2:?data directory}" ;;
  stop) stop "${2:?data directory}" ;;
  *) echo "usage: $0 install | start DATA_DIR | stop DATA_DIR" >&2; exit 2 ;;
esac
