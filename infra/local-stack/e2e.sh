#!/usr/bin/env bash
# The end-to-end suite (tests/e2e.rs, cargo feature `e2e`) against the running local stack of
# this MINISTACK_PORT: webhook → ticket-sync → reconcile → kimai-write → writer → Kimai
# simulator, edits and deletes, conflicts, a scheduled backfill, forged and replayed webhooks,
# "commit, then 500", a poison message. Needs the stack up (`make up` with the same ports, or
# smoke.sh, which calls this); without it the suite fails, it never skips.
# Extra arguments go to cargo nextest (e.g. a test name filter).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/env.sh"
source "$here/lib.sh"

if [[ ! -f "$STACK_DIR/outputs.json" || ! -f "$STACK_DIR/urls.env" ]]; then
    echo "e2e: no local stack on port $MINISTACK_PORT ($STACK_DIR/outputs.json missing); run make up first" >&2
    exit 1
fi
command -v cargo-nextest >/dev/null || cargo install --locked cargo-nextest
cd "$REPO_ROOT"
# Loopback only: no proxy may see the traffic. One case at a time (the suite also locks).
env -u HTTP_PROXY -u HTTPS_PROXY -u http_proxy -u https_proxy NO_PROXY='*' \
    STACK_DIR="$STACK_DIR" \
    cargo nextest run -p local-stack --features e2e -E 'binary(e2e)' \
    --no-fail-fast --test-threads 1 "$@"
