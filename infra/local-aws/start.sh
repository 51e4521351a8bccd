#!/usr/bin/env bash
# Starts the emulator on 127.0.0.1:$MINISTACK_PORT (default 4566) and waits until it is healthy.
# Idempotent: if an emulator started by this script is already healthy on that port, it returns.
# Prints nothing on success but the endpoint URL, so callers can `export AWS_ENDPOINT_URL=$(...)`.
set -euo pipefail
source "$(dirname "$0")/env.sh"

healthy() { curl -fsS --max-time 2 "$MINISTACK_URL/_ministack/health" >/dev/null 2>&1; }

"$(dirname "$0")/install.sh"

# A healthy emulator is reused only if it evaluates IAM as asked: a stack tested on one that
# does not would pass what AWS refuses.
auth_mode() {
    curl -fsS --max-time 2 "$MINISTACK_URL/_ministack/health" 2>/dev/null \
        | grep -o '"auth": *"[a-z]*"' | grep -o '[a-z]*"$' | tr -d '"'
}
want_auth="disabled"
[[ "$MINISTACK_AUTH" == "true" ]] && want_auth="enabled"

if healthy; then
    running_auth="$(auth_mode)"
    if [[ "$running_auth" != "$want_auth" ]]; then
        echo "the emulator on $MINISTACK_URL runs with IAM evaluation $running_auth, this run needs it $want_auth; stop it (infra/local-aws/stop.sh) or use another MINISTACK_PORT" >&2
        exit 1
    fi
    echo "$MINISTACK_URL"
    exit 0
fi
mkdir -p "$MINISTACK_STATE"
if [[ -f "$MINISTACK_PIDFILE" ]] && kill -0 "$(cat "$MINISTACK_PIDFILE")" 2>/dev/null; then
    echo "a process from an earlier start ($(cat "$MINISTACK_PIDFILE")) is alive but unhealthy; run stop.sh" >&2
    exit 1
fi

# Only loopback, no extra listeners (MQTT mTLS, SFTP). AWS_ENDPOINT_URL in the emulator's own
# environment is copied into the Lambda processes it starts, so they call back into it.
(
    cd "$MINISTACK_STATE"
    export BIND_HOST=127.0.0.1 GATEWAY_PORT="$MINISTACK_PORT" \
        IOT_MTLS_ENABLED=0 SFTP_ENABLED=0 \
        AWS_ENDPOINT_URL="$MINISTACK_URL" \
        AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 \
        AUTH="$MINISTACK_AUTH"
    setsid nohup "$MINISTACK_VENV/bin/ministack" >"$MINISTACK_LOG" 2>&1 </dev/null &
    echo $! >"$MINISTACK_PIDFILE"
)

for _ in $(seq 1 100); do
    if healthy; then
        echo "$MINISTACK_URL"
        exit 0
    fi
    if ! kill -0 "$(cat "$MINISTACK_PIDFILE")" 2>/dev/null; then
        echo "the emulator exited during start; its log ($MINISTACK_LOG):" >&2
        tail -n 40 "$MINISTACK_LOG" >&2 || true
        exit 1
    fi
    sleep 0.2
done
echo "the emulator did not become healthy within 20 s; see $MINISTACK_LOG" >&2
exit 1
