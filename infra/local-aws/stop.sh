#!/usr/bin/env bash
# Stops the emulator that start.sh started on this port (by its recorded pid). Idempotent.
set -euo pipefail
source "$(dirname "$0")/env.sh"

[[ -f "$MINISTACK_PIDFILE" ]] || exit 0
pid="$(cat "$MINISTACK_PIDFILE")"
if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
fi
rm -f "$MINISTACK_PIDFILE" "$MINISTACK_RECORDING"
