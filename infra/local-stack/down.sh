#!/usr/bin/env bash
# `make down`: stops what up.sh started (simulators by their pid files, then the emulator,
# whose state goes with it). Idempotent: nothing running is fine.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/env.sh"
source "$here/lib.sh"

for name in zammad-sim kimai-sim chat-receiver; do
    pidfile="$SIMS_DIR/$name.pid"
    [[ -f "$pidfile" ]] || continue
    pid="$(cat "$pidfile")"
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        for _ in $(seq 1 30); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
        echo "stopped $name (pid $pid)" >&2
    fi
    rm -f "$pidfile"
done
"$REPO_ROOT/infra/local-aws/stop.sh"
rm -f "$STACK_DIR/outputs.json" "$STACK_DIR/urls.env"
echo "local stack stopped" >&2
