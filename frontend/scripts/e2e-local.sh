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
cargo build -q -p console-api --example local
# Its own process group: stopping the group stops cargo and the server it runs.
CONSOLE_ADMIN_PASSWORD="$password" setsid cargo run -q -p console-api --example local -- "$port" >"$log" 2>&1 </dev/null &
api_pid=$!
trap 'kill -- "-$api_pid" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do
    grep -q "^Kimai simulator:" "$log" && break
    kill -0 "$api_pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 0.2
done
zammad="$(sed -n 's/^Zammad simulator: \([^ ]*\).*/\1/p' "$log")"
kimai="$(sed -n 's/^Kimai simulator: *\([^ ]*\).*/\1/p' "$log")"

cd "$here"
[[ -d node_modules ]] || npm ci --no-audit --no-fund
CONSOLE_API_URL="http://127.0.0.1:$port" CONSOLE_PASSWORD="$password" \
    ZAMMAD_URL="$zammad" KIMAI_URL="${kimai%/}" node e2e/run.mjs
