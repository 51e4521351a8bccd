#!/usr/bin/env bash
# The browser suite against the console API example (in-memory stores, both simulators inside),
# started here on a free port and stopped again, pass or fail. Quick: no emulator, no stack.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
repo="$here/.."
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
password="e2e-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
log="$(mktemp)"

cd "$repo"
# Build first and run the binary itself: no compile inside the wait below, and its own process
# group, so stopping the group stops the server and nothing else.
exe="$(cargo build -q -p console-api --example local --message-format=json |
    python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "local":
        print(m["executable"])')"
[[ -x "$exe" ]] || { echo "the console API example did not build" >&2; exit 1; }
CONSOLE_ADMIN_PASSWORD="$password" setsid "$exe" "$port" >"$log" 2>&1 </dev/null &
api_pid=$!
trap 'kill -- "-$api_pid" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 150); do
    grep -q "^Kimai simulator:" "$log" && break
    kill -0 "$api_pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 0.2
done
grep -q "^Kimai simulator:" "$log" || { echo "the console API example did not start; its log:" >&2; cat "$log" >&2; exit 1; }
zammad="$(sed -n 's/^Zammad simulator: \([^ ]*\).*/\1/p' "$log")"
kimai="$(sed -n 's/^Kimai simulator: *\([^ ]*\).*/\1/p' "$log")"

cd "$here"
[[ -d node_modules ]] || npm ci --no-audit --no-fund
CONSOLE_API_URL="http://127.0.0.1:$port" CONSOLE_PASSWORD="$password" \
    ZAMMAD_URL="$zammad" KIMAI_URL="${kimai%/}" node e2e/run.mjs
