#!/usr/bin/env bash
# Builds the console and serves it on 127.0.0.1 with `vite preview`, which forwards /api/* to the
# API the way CloudFront does in AWS.
#   scripts/console.sh up [api-origin]   e.g. http://127.0.0.1:8090; without it, the API Gateway of
#                                        the local stack `make up` deployed (its urls.env, same
#                                        MINISTACK_PORT)
#   scripts/console.sh down
# CONSOLE_PORT (default 5180) picks the port. The server's pid and log live in frontend/.run/.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
run="$here/.run"
port="${CONSOLE_PORT:-5180}"
mkdir -p "$run"

case "${1:-}" in
up)
    api="${2:-}"
    if [[ -z "$api" ]]; then
        source "$here/../infra/local-stack/env.sh"
        [[ -f "$STACK_DIR/urls.env" ]] || { echo "no local stack on port $MINISTACK_PORT: run make up first, or name the API" >&2; exit 1; }
        api="$(sed -n 's|^API_URL=\(.*\)/api$|\1|p' "$STACK_DIR/urls.env")"
        # The chat receiver `make up` started: the Notifications section lists what it got.
        export CONSOLE_CHAT_URL="$(sed -n 's|^CHAT_RECEIVER_URL=||p' "$STACK_DIR/urls.env")"
    fi
    cd "$here"
    if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
        npm ci --no-audit --no-fund >&2
    fi
    npm run build >&2
    if [[ -f "$run/preview.pid" ]] && kill -0 "$(cat "$run/preview.pid")" 2>/dev/null; then
        kill "$(cat "$run/preview.pid")" && sleep 0.5
    fi
    CONSOLE_API_URL="$api" setsid nohup npx vite preview --port "$port" >"$run/preview.log" 2>&1 </dev/null &
    echo $! >"$run/preview.pid"
    for _ in $(seq 1 50); do
        if curl -fsS --max-time 1 "http://127.0.0.1:$port/config.json" >/dev/null 2>&1; then
            echo "Console         http://127.0.0.1:$port/   (API: $api)"
            exit 0
        fi
        sleep 0.2
    done
    echo "the console server did not start; its log ($run/preview.log):" >&2
    tail -n 20 "$run/preview.log" >&2
    exit 1
    ;;
down)
    if [[ -f "$run/preview.pid" ]]; then
        pid="$(cat "$run/preview.pid")"
        # setsid made it a process group leader: stop vite and its children together.
        kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
        rm -f "$run/preview.pid"
    fi
    ;;
*)
    echo "usage: console.sh up <api-origin> | down" >&2
    exit 2
    ;;
esac
