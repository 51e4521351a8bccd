#!/usr/bin/env bash
# Runs a command with the emulator up and the AWS environment pointing at it, then stops the
# emulator again if this script started it, whether the command passed or failed.
#   infra/local-aws/with-emulator.sh cargo nextest run -p sync-store
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/env.sh"

started_here=0
if ! curl -fsS --max-time 2 "$MINISTACK_URL/_ministack/health" >/dev/null 2>&1; then
    started_here=1
fi
trap '[[ $started_here == 1 ]] && "$here/stop.sh"' EXIT
"$here/start.sh" >/dev/null

export AWS_ENDPOINT_URL="$MINISTACK_URL"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
export AWS_REGION="${AWS_REGION:-us-east-1}"
"$@"
