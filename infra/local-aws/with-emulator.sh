#!/usr/bin/env bash
# Runs a command with the emulator up and the AWS environment pointing at it, then stops the
# emulator again if this script started it, whether the command passed or failed.
#   infra/local-aws/with-emulator.sh cargo nextest run -p sync-store
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/env.sh"

# Stop the emulator afterwards only if this script started it: decided by the recorded pid after
# the start, not by a health check before it (another run may stop its emulator in between).
live_pid() {
    [[ -f "$MINISTACK_PIDFILE" ]] && kill -0 "$(cat "$MINISTACK_PIDFILE")" 2>/dev/null \
        && cat "$MINISTACK_PIDFILE" || true
}
pid_before="$(live_pid)"
trap 'pid_after="$(live_pid)"; if [[ -n "$pid_after" && "$pid_after" != "$pid_before" ]]; then "$here/stop.sh"; fi' EXIT
"$here/start.sh" >/dev/null

export AWS_ENDPOINT_URL="$MINISTACK_URL"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
export AWS_REGION="${AWS_REGION:-us-east-1}"
"$@"
