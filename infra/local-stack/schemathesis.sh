#!/usr/bin/env bash
# Property-based test of the console API against its own OpenAPI document, with schemathesis
# (pinned, in .local/schemathesis-venv): no answer may be a 5xx, and every status, content type
# and body must be the one the document declares.
#
# Usage: schemathesis.sh API_BASE TOKEN [read-only|all]
#   API_BASE  the API's origin path up to, not including, /api (127.0.0.1 only)
#   TOKEN     an admin's bearer token
#   read-only (default) GET operations and login only: safe on a stack someone is using
#   all       every operation but the ones that call out to Zammad or Kimai (connection tests,
#             pickers, starting a sync run) and the connection writes (they say where such calls
#             go): for a throw-away stack, as smoke.sh uses it when it started the emulator
# Bounded: a few examples per operation and a time budget, so it ends in a few minutes.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/env.sh"

base="${1:?usage: schemathesis.sh API_BASE TOKEN [read-only|all]}"
token="${2:?usage: schemathesis.sh API_BASE TOKEN [read-only|all]}"
scope="${3:-read-only}"
case "$base" in
http://127.0.0.1:*) ;;
*)
    echo "schemathesis.sh: only a local API (http://127.0.0.1:...) may be tested, not $base" >&2
    exit 2
    ;;
esac

SCHEMATHESIS_VERSION="4.32.5"
venv="$LOCAL_DIR/schemathesis-venv"
if ! "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('schemathesis') != '$SCHEMATHESIS_VERSION')" 2>/dev/null; then
    echo "installing schemathesis $SCHEMATHESIS_VERSION into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

# Operations are named "METHOD /path".
case "$scope" in
read-only) filters=(--include-name-regex '^(GET /api/|POST /api/auth/login$)') ;;
# Calls out to the configured Zammad / Kimai (tests, pickers, a date-range run), or changes where
# those calls go (connection writes). Their GETs of settings and runs are still tested.
all) filters=(--exclude-name-regex '^(PUT /api/connections/|POST /api/connections/|GET /api/pickers/|POST /api/sync-runs$)') ;;
*)
    echo "schemathesis.sh: scope is read-only or all, not $scope" >&2
    exit 2
    ;;
esac

report="$STACK_DIR/schemathesis"
mkdir -p "$report"
# Without a proxy: the traffic must stay on this machine.
env -u HTTP_PROXY -u HTTPS_PROXY -u http_proxy -u https_proxy NO_PROXY='*' \
    timeout 600 "$venv/bin/st" run "$base/api/openapi.json" \
    --url "$base" \
    --header "Authorization: Bearer $token" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --phases examples,coverage,fuzzing \
    --max-examples 15 \
    --max-time 240 \
    --request-timeout 30 \
    --workers 2 \
    --seed 20261122 \
    --suppress-health-check all \
    --report junit --report-dir "$report" \
    "${filters[@]}"
