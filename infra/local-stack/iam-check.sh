#!/usr/bin/env bash
# Checks the calls the running stack's functions made, and the calls AWS makes for them, against
# the roles in template.yaml (iam_check.py), and writes the over-grant report. Needs an emulator
# started with MINISTACK_RECORD_CALLS (smoke.sh starts it so; by hand:
# `MINISTACK_RECORD_CALLS=<file> infra/local-stack/up.sh`, then the suites, then this script).
# Fails, naming function, action and resource, when a call is not allowed; the over-grants
# never fail it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/env.sh"

recording="$(cat "$MINISTACK_RECORDING" 2>/dev/null || true)"
if [[ -z "$recording" ]]; then
    echo "the emulator on $MINISTACK_URL does not record calls; start it with MINISTACK_RECORD_CALLS=<file> (infra/local-aws/start.sh)" >&2
    exit 2
fi
calls="${recording% enforce=*}"
touch "$calls"
"$here/install-tools.sh"
cd "$here"
PYTHONDONTWRITEBYTECODE=1 "$STACK_TOOLS_VENV/bin/python" iam_check.py \
    --template "$REPO_ROOT/template.yaml" --calls "$calls" \
    --endpoint "$MINISTACK_URL" --stack "$STACK_NAME" \
    --save-state "$STACK_DIR/iam-state.json" --report "$STACK_DIR/iam-report.txt"
