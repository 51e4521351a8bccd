#!/usr/bin/env bash
# Starts the emulator on 127.0.0.1:$MINISTACK_PORT (default 4566) and waits until it is healthy.
# Idempotent: if an emulator started by this script is already healthy on that port, it returns.
# Prints nothing on success but the endpoint URL, so callers can `export AWS_ENDPOINT_URL=$(...)`.
# With MINISTACK_RECORD_CALLS=<file> the emulator is started through ministack_recording.py,
# which appends every IAM decision about a function's call to that file (one JSON line each;
# infra/local-stack/iam_check.py reads it). Recording runs the emulator with AUTH=true, so
# functions call as their roles; MINISTACK_AUTH=false then only stops it from refusing calls.
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
# What a recording emulator writes down and whether it still refuses; kept beside its pid file
# so a later start (and smoke.sh) can tell how the running one was started.
want_recording=""
if [[ -n "$MINISTACK_RECORD_CALLS" ]]; then
    want_auth="enabled"
    want_recording="$(realpath -m "$MINISTACK_RECORD_CALLS") enforce=$MINISTACK_AUTH"
fi

if healthy; then
    running_auth="$(auth_mode)"
    running_recording="$(cat "$MINISTACK_RECORDING" 2>/dev/null || true)"
    if [[ "$running_auth" != "$want_auth" ]]; then
        echo "the emulator on $MINISTACK_URL runs with IAM evaluation $running_auth, this run needs it $want_auth; stop it (infra/local-aws/stop.sh) or use another MINISTACK_PORT" >&2
        exit 1
    fi
    # A recording emulator that lets every call through must not pass for an enforcing one.
    if [[ -n "$want_recording" && "$running_recording" != "$want_recording" ]] ||
        [[ -z "$want_recording" && "$running_recording" == *" enforce=false" ]]; then
        echo "the emulator on $MINISTACK_URL records calls as '${running_recording:-not at all}', this run needs '${want_recording:-an enforcing emulator}'; stop it (infra/local-aws/stop.sh) or use another MINISTACK_PORT" >&2
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
rm -f "$MINISTACK_RECORDING"
launcher=("$MINISTACK_VENV/bin/ministack")
if [[ -n "$want_recording" ]]; then
    mkdir -p "$(dirname "${want_recording% enforce=*}")"
    launcher=("$MINISTACK_VENV/bin/python" "$(cd "$(dirname "$0")" && pwd)/ministack_recording.py")
    echo "$want_recording" >"$MINISTACK_RECORDING"
fi
(
    cd "$MINISTACK_STATE"
    export BIND_HOST=127.0.0.1 GATEWAY_PORT="$MINISTACK_PORT" \
        IOT_MTLS_ENABLED=0 SFTP_ENABLED=0 \
        AWS_ENDPOINT_URL="$MINISTACK_URL" \
        AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 \
        AUTH="$MINISTACK_AUTH"
    if [[ -n "$want_recording" ]]; then
        export AUTH=true MINISTACK_RECORD_CALLS="${want_recording% enforce=*}" \
            MINISTACK_RECORD_ENFORCE="$MINISTACK_AUTH"
    fi
    setsid nohup "${launcher[@]}" >"$MINISTACK_LOG" 2>&1 </dev/null &
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
