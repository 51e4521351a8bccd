#!/usr/bin/env bash
# Property-based test of the console API against its own OpenAPI document, with schemathesis
# (pinned, in .local/schemathesis-venv): no answer may be a 5xx, and every status, content type
# and body must be the one the document declares.
#
# Usage: schemathesis.sh API_BASE TOKEN [read-only|all]
#        schemathesis.sh --stack [read-only|all]
#   API_BASE  the API's origin and path up to, not including, /api (127.0.0.1 only): a local
#             console API (http://127.0.0.1:8090) or the deployed stack's gateway
#             (http://127.0.0.1:4566/_aws/execute-api/<api id>)
#   TOKEN     an admin's bearer token
#   --stack   the deployed local stack of MINISTACK_PORT: its gateway from urls.env, and a token
#             from logging in as the first admin (password read back from the emulator's
#             Secrets Manager, as smoke.sh does)
#   read-only (default) GET operations and login only: safe on a stack someone is using
#   all       every operation but the ones that call out to Zammad or Kimai (connection tests,
#             pickers, starting a sync run) and the connection writes (they say where such calls
#             go): for a throw-away stack, as smoke.sh uses it when it started the emulator
# Bounded: a few examples per operation and a time budget, so it ends in a few minutes.
#
# Through API Gateway the gateway itself answers some requests before the API sees them: a
# path segment with bytes it will not route (a 404 {"message":"Not Found"} as application/json)
# or one it decodes into another route (a 405). Path parameters carry a pattern in the document
# so generated valid values never hit this; against a gateway, the negative pass (invalid
# values) therefore runs only for operations without path parameters.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/env.sh"
source "$here/lib.sh"

usage="usage: schemathesis.sh API_BASE TOKEN [read-only|all] | schemathesis.sh --stack [read-only|all]"
stack=false
if [[ "${1:-}" == "--stack" ]]; then
    stack=true
    scope="${2:-read-only}"
    [[ -f "$STACK_DIR/urls.env" && -f "$STACK_DIR/outputs.json" ]] || {
        echo "schemathesis.sh: no deployed stack for MINISTACK_PORT=$MINISTACK_PORT ($STACK_DIR); run make up first" >&2
        exit 2
    }
    base="$(grep '^API_URL=' "$STACK_DIR/urls.env" | cut -d= -f2- | sed 's,/api$,,')"
    admin_user="$(stack_output ConsoleAdminUser)"
    admin_password="$(awsl secretsmanager get-secret-value \
        --secret-id "$(stack_output ConsoleAdminPasswordSecretId)" --query SecretString)"
    token="$(ADMIN_USER="$admin_user" ADMIN_PASSWORD="$admin_password" BASE="$base" \
        "$STACK_TOOLS_VENV/bin/python" - <<'PY'
import json, os, sys, urllib.error, urllib.request
body = json.dumps({"username": os.environ["ADMIN_USER"], "password": os.environ["ADMIN_PASSWORD"]}).encode()
request = urllib.request.Request(os.environ["BASE"] + "/api/auth/login", data=body,
                                 headers={"Content-Type": "application/json"})
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
try:
    print(json.load(opener.open(request, timeout=30))["token"])
except urllib.error.HTTPError as e:
    wait = e.headers.get("Retry-After")
    hint = f"; the login is throttled, try again in {wait} s" if wait else ""
    sys.exit(f"schemathesis.sh: login as the first admin failed: HTTP {e.code}{hint}")
PY
)"
else
    base="${1:?$usage}"
    token="${2:?$usage}"
    scope="${3:-read-only}"
fi
case "$base" in
http://127.0.0.1:*) ;;
*)
    echo "schemathesis.sh: only a local API (http://127.0.0.1:...) may be tested, not $base" >&2
    exit 2
    ;;
esac
gateway=false
[[ "$base" == */_aws/execute-api/* ]] && gateway=true

SCHEMATHESIS_VERSION="4.32.5"
venv="$LOCAL_DIR/schemathesis-venv"
if ! "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('schemathesis') != '$SCHEMATHESIS_VERSION')" 2>/dev/null; then
    echo "installing schemathesis $SCHEMATHESIS_VERSION into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

# Operations are named "METHOD /path". Several --exclude options of different kinds combine
# into one condition (all must match), so each pass has a single exclude regex.
with_path_parameter='[{]'
# With --stack the login is not fuzzed: wrong passwords for the first admin from this machine
# would throttle the login this script needs next time (5 failures lock it for 15 minutes).
case "$scope" in
read-only)
    if [[ "$stack" == true ]]; then
        filters=(--include-name-regex '^GET /api/')
    else
        filters=(--include-name-regex '^(GET /api/|POST /api/auth/login$)')
    fi
    negative_filters=("${filters[@]}" --exclude-name-regex "$with_path_parameter")
    ;;
# Calls out to the configured Zammad / Kimai (tests, pickers, a date-range run), or changes where
# those calls go (connection writes). Their GETs of settings and runs are still tested.
all)
    calls_out='^(PUT /api/connections/|POST /api/connections/|GET /api/pickers/|POST /api/sync-runs$)'
    [[ "$stack" == true ]] && calls_out="$calls_out|^POST /api/auth/login\$"
    filters=(--exclude-name-regex "$calls_out")
    negative_filters=(--exclude-name-regex "$calls_out|$with_path_parameter")
    # The stateful pass resolves the conflicts opened for it one by one; a bulk resolution by
    # filter (tested in the passes before) would close them all at its first step.
    stateful_filters=(--exclude-name-regex "$calls_out|^POST /api/conflicts/resolve\$")
    ;;
*)
    echo "schemathesis.sh: scope is read-only or all, not $scope" >&2
    exit 2
    ;;
esac

# The stateful phase follows the document's links to the operations with an id in their path;
# through a gateway it runs as a pass of its own (below), after conflicts were opened for it.
phases=examples,coverage,fuzzing,stateful
# schemathesis.toml makes a pass fail on the warnings that say the document and the API
# disagree; the negative pass shows them only (its cases of operations without parameters can
# only break the credentials, so every answer is a 401, which is what "missing auth" reports).
warnings=()
report="$STACK_DIR/schemathesis"
mkdir -p "$report"
# One schemathesis run; extra arguments narrow it. Without a proxy: the traffic must stay on
# this machine.
run() { # report-subdir mode extra-args...
    local dir="$report/$1" mode="$2"
    shift 2
    mkdir -p "$dir"
    env -u HTTP_PROXY -u HTTPS_PROXY -u http_proxy -u https_proxy NO_PROXY='*' \
        timeout 600 "$venv/bin/st" --config-file "$here/schemathesis.toml" run "$base/api/openapi.json" \
        --url "$base" \
        --header "Authorization: Bearer $token" \
        --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
        --phases "$phases" \
        --mode "$mode" \
        --max-examples 15 \
        --max-time 240 \
        --request-timeout 30 \
        --workers 2 \
        --seed 20261122 \
        --suppress-health-check all \
        --report junit,har --report-dir "$dir" \
        "${warnings[@]}" "${filters[@]}" "$@"
}

# A run that exits non-zero fails, unless its report holds no failed check and only errors of
# schemathesis itself (it has crashed inside its own generator, e.g. hypothesis' "AST
# constructor recursion depth mismatch"): those say nothing about the API, and every case that
# ran still passed its checks. Counted and printed, never hidden.
judge() { # report-subdir exit-status
    local dir="$report/$1" status="$2"
    [[ "$status" == 0 ]] && return 0
    "$venv/bin/python" - "$dir" "$base" <<'PY'
import glob, json, os, re, sys, urllib.request
import xml.etree.ElementTree as ET


def refusals(directory, base):
    """Print each operation that served none of its cases and refused some as invalid (a 4xx
    other than 401/403/404/409/429): what schemathesis' validation-mismatch warning counts."""
    hars = sorted(glob.glob(os.path.join(directory, "har-*.json")), key=os.path.getmtime)
    if not hars:
        return
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    paths = json.load(opener.open(base + "/api/openapi.json", timeout=30))["paths"]
    templates = [(re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(p)) + "$"), p)
                 for p in paths]
    outcomes = {}
    for entry in json.load(open(hars[-1]))["log"]["entries"]:
        request, response = entry["request"], entry["response"]
        path = "/" + request["url"].split("/api/", 1)[-1].split("?", 1)[0]
        label = next((t for rx, t in templates if rx.match("/api" + path)), "/api" + path)
        outcomes.setdefault(f"{request['method']} {label}", []).append((request, response))
    for label, calls in sorted(outcomes.items()):
        statuses = [r["status"] for _, r in calls]
        invalid = [s for s in statuses if 400 <= s < 500 and s not in (401, 403, 404, 409, 429)]
        if invalid and not any(s < 400 for s in statuses):
            counts = {s: statuses.count(s) for s in sorted(set(statuses))}
            request, response = next((q, r) for q, r in calls if r["status"] in invalid)
            body = (request.get("postData") or {}).get("text", "")
            answer = (response.get("content") or {}).get("text", "")
            print(f"schemathesis.sh: {label} served none of its {len(calls)} calls {counts}; "
                  f"e.g. {request['url']} {body[:500]!r} -> {response['status']} {answer[:500]!r}",
                  file=sys.stderr)


reports = sorted(glob.glob(os.path.join(sys.argv[1], "junit-*.xml")), key=os.path.getmtime)
if not reports:
    sys.exit("schemathesis.sh: no report was written: the run failed")
root = ET.parse(reports[-1]).getroot()
failures = [tc.get("name") for tc in root.iter("testcase") if tc.find("failure") is not None]
errors = [(tc.get("name"), tc.find("error")) for tc in root.iter("testcase") if tc.find("error") is not None]
if failures or not errors:
    # The summary names the check, not the request: print each failure's own text (operation,
    # status, a curl to reproduce), as a log tail may be all there is to read.
    for tc in root.iter("testcase"):
        failure = tc.find("failure")
        if failure is not None:
            text = (failure.text or failure.get("message") or "").strip()
            print(f"schemathesis.sh: {tc.get('name')} failed:\n{text[:3000]}", file=sys.stderr)
    if not failures:
        # No check failed, so a warning failed the run; its list of operations is far above a
        # log tail. Name them from the recorded traffic instead (refusals of every case).
        refusals(sys.argv[1], sys.argv[2])
    sys.exit(f"schemathesis.sh: failed checks: {failures or 'a warning, see the output above'}")
internal = [n for n, e in errors if "Traceback" in ((e.get("message") or "") + (e.text or ""))
            or "Runtime Error" in ((e.get("message") or "") + (e.text or ""))]
if len(internal) != len(errors):
    sys.exit(f"schemathesis.sh: errors that are not schemathesis' own: {[n for n, _ in errors]}")
print(f"schemathesis.sh: warning: schemathesis crashed inside its own generator on {internal}; "
      "no check failed", file=sys.stderr)
PY
}

# How many conflicts the stateful pass resolved, one by one (a 200 of their resolve): it has to
# have followed a listed conflict's link at least once.
resolved_by_link() { # report-subdir
    "$venv/bin/python" - "$report/$1" <<'PY'
import glob, json, os, re, sys
har = sorted(glob.glob(os.path.join(sys.argv[1], "har-*.json")), key=os.path.getmtime)[-1]
entries = json.load(open(har))["log"]["entries"]
print(sum(1 for e in entries if e["request"]["method"] == "POST"
          and re.search(r"/api/conflicts/[^/]+/resolve$", e["request"]["url"])
          and not e["request"]["url"].endswith("/api/conflicts/resolve")
          and e["response"]["status"] == 200))
PY
}

if [[ "$gateway" == true ]]; then
    echo "schemathesis.sh: through the gateway at $base ($scope): valid values everywhere, invalid ones where no path parameter is involved" >&2
    phases=examples,coverage,fuzzing
    status=0
    run positive positive || status=$?
    judge positive "$status" || exit 1
    filters=("${negative_filters[@]}")
    warnings=(--warnings validation_mismatch,unsupported_regex,missing_test_data)
    status=0
    run negative negative || status=$?
    judge negative "$status" || exit 1
    [[ "$stack" == true && "$scope" == all ]] || exit 0
    # The stateful pass: conflicts opened as they open in use, then resolved through the links
    # from the conflicts listing.
    zammad="$(grep '^ZAMMAD_URL=' "$STACK_DIR/urls.env" | cut -d= -f2-)"
    opened="$(env -u HTTP_PROXY -u HTTPS_PROXY -u http_proxy -u https_proxy \
        "$venv/bin/python" "$here/seed_conflicts.py" "$base" "$zammad" "$token")" || exit 1
    echo "schemathesis.sh: conflicts opened for the stateful pass: $opened" >&2
    filters=("${stateful_filters[@]}")
    warnings=()
    phases=stateful
    status=0
    run stateful positive || status=$?
    judge stateful "$status" || exit 1
    resolved="$(resolved_by_link stateful)"
    echo "schemathesis.sh: conflicts resolved through the listing's link: $resolved" >&2
    [[ "$resolved" -ge 1 ]] || {
        echo "schemathesis.sh: the stateful pass resolved none of the conflicts opened for it" >&2
        exit 1
    }
    exit 0
fi
status=0
run all all || status=$?
judge all "$status"
