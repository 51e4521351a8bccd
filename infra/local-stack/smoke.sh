#!/usr/bin/env bash
# End-to-end smoke test of the deployed local stack, through the emulator's API Gateway:
#  - GET /api/health answers 200 with status ok (the api function reached its DynamoDB table);
#  - the console API: /api/openapi.json, login as the first admin with the password generated on
#    deploy (read back from the emulator's Secrets Manager), /api/auth/me with the token, a
#    protected route without a token (401);
#  - a webhook signed with the deployed secret answers 202 (webhook-ingest verified and enqueued),
#    and the same body with a wrong signature answers 401; reconcile reads the ticket from Zammad
#    and drains ticket-sync, and kimai-writer's timesheet for it is in the Kimai simulator;
#  - then the end-to-end suite (e2e.sh) and the web console's browser suite on the same stack,
#  - schemathesis against the OpenAPI document through the gateway (writes included
#    when this script started the stack, read-only on a stack someone else is using),
#  - and last the IAM check (iam-check.sh): every call the functions made during all of the
#    above, as the emulator recorded it, and the calls AWS makes for them (logs, queue polling,
#    Scheduler, iam:PassRole), against the roles in template.yaml; over-grants are reported.
# Brings the stack up first (up.sh is idempotent); if the emulator was not running before,
# tears everything down again at the end, pass or fail.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/env.sh"
source "$here/lib.sh"

# A test: a function crate that does not build fails it, instead of being left out.
export STRICT_BUILD="${STRICT_BUILD:-1}"
# A stack this script starts is thrown away after it, so the API may be fuzzed with writes too.
fuzz_scope=read-only
if ! curl -fsS --max-time 2 "$MINISTACK_URL/_ministack/health" >/dev/null 2>&1; then
    trap '"$here/down.sh"' EXIT
    fuzz_scope=all
    # The emulator this script starts writes down every call the functions make, for the IAM
    # check at the end (a fresh file, unless one is given).
    if [[ -z "$MINISTACK_RECORD_CALLS" ]]; then
        export MINISTACK_RECORD_CALLS="$STACK_DIR/iam-calls.jsonl"
        rm -f "$MINISTACK_RECORD_CALLS"
    fi
fi
"$here/up.sh" >/dev/null

api_id="$(stack_output HttpApiId)"
gateway="$MINISTACK_URL/_aws/execute-api/$api_id"
passed=0
failed=0
check() { # name expected actual
    if [[ "$2" == "$3" ]]; then
        echo "PASS $1" >&2
        passed=$((passed + 1))
    else
        echo "FAIL $1: expected $2, got $3" >&2
        failed=$((failed + 1))
    fi
}

body="$STACK_DIR/smoke-health.json"
status="$(curl -s -o "$body" -w '%{http_code}' --max-time 30 "$gateway/api/health")"
check "GET /api/health status" 200 "$status"
check "GET /api/health body" ok "$("$STACK_TOOLS_VENV/bin/python" -c \
    'import json,sys; print(json.load(open(sys.argv[1])).get("status"))' "$body" 2>/dev/null || echo unreadable)"

status="$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 "$gateway/api/version")"
check "GET /api/version status" 200 "$status"

status="$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 "$gateway/api/no-such-thing")"
check "GET /api/no-such-thing status" 404 "$status"

# The value of a top-level field of a JSON file ("unreadable" if it is not JSON).
json_field() { # file field
    "$STACK_TOOLS_VENV/bin/python" -c \
        'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], ""))' "$1" "$2" \
        2>/dev/null || echo unreadable
}

status="$(curl -s -o "$STACK_DIR/smoke-openapi.json" -w '%{http_code}' --max-time 30 "$gateway/api/openapi.json")"
check "GET /api/openapi.json status" 200 "$status"
check "GET /api/openapi.json is OpenAPI 3.1" 3.1 "$(json_field "$STACK_DIR/smoke-openapi.json" openapi | cut -d. -f1-2)"

admin_user="$(stack_output ConsoleAdminUser)"
admin_password="$(awsl secretsmanager get-secret-value \
    --secret-id "$(stack_output ConsoleAdminPasswordSecretId)" --query SecretString)"
# The body is built by Python so any character of the generated password is escaped right.
ADMIN_USER="$admin_user" ADMIN_PASSWORD="$admin_password" "$STACK_TOOLS_VENV/bin/python" -c \
    'import json,os; print(json.dumps({"username": os.environ["ADMIN_USER"], "password": os.environ["ADMIN_PASSWORD"]}))' \
    >"$STACK_DIR/smoke-login-request.json"
status="$(curl -s -o "$STACK_DIR/smoke-login.json" -w '%{http_code}' --max-time 30 -X POST \
    -H 'Content-Type: application/json' --data-binary "@$STACK_DIR/smoke-login-request.json" \
    "$gateway/api/auth/login")"
rm -f "$STACK_DIR/smoke-login-request.json"
check "POST /api/auth/login as $admin_user status" 200 "$status"
token="$(json_field "$STACK_DIR/smoke-login.json" token)"
rm -f "$STACK_DIR/smoke-login.json"

status="$(curl -s -o "$STACK_DIR/smoke-me.json" -w '%{http_code}' --max-time 30 \
    -H "Authorization: Bearer $token" "$gateway/api/auth/me")"
check "GET /api/auth/me with the token status" 200 "$status"
check "GET /api/auth/me names the admin" "$admin_user admin" \
    "$(json_field "$STACK_DIR/smoke-me.json" username) $(json_field "$STACK_DIR/smoke-me.json" role)"

status="$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 "$gateway/api/auth/me")"
check "GET /api/auth/me without a token status" 401 "$status"
status="$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 "$gateway/api/policies")"
check "GET /api/policies without a token status" 401 "$status"


if [[ -n "$(stack_output WebhookSecretId)" ]] && ! grep -qx webhook-ingest "$STACK_DIR/missing-functions"; then
    secret="$(awsl secretsmanager get-secret-value --secret-id "$(stack_output WebhookSecretId)" \
        --query SecretString)"
    payload='{"ticket":{"id":101,"number":"31101","title":"VPN drops every 20 minutes"}}'
    signature="sha1=$(printf '%s' "$payload" | openssl dgst -sha1 -hmac "$secret" -r | cut -d' ' -f1)"
    delivery="smoke-$(date +%s%N)"
    consumed_reads_before="$(curl -s --max-time 5 "http://127.0.0.1:$ZAMMAD_SIM_PORT/__admin/counters" |
        "$STACK_TOOLS_VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin).get("GET /api/v1/tickets/{id}", 0))' \
        2>/dev/null || echo unreadable)"
    status="$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 -X POST \
        -H 'Content-Type: application/json' -H "X-Hub-Signature: $signature" \
        -H "X-Zammad-Delivery: $delivery" --data-binary "$payload" "$gateway/webhooks/zammad")"
    check "signed webhook status" 202 "$status"
    status="$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 -X POST \
        -H 'Content-Type: application/json' -H "X-Hub-Signature: sha1=0000000000000000000000000000000000000000" \
        -H "X-Zammad-Delivery: $delivery-forged" --data-binary "$payload" "$gateway/webhooks/zammad")"
    check "forged webhook status" 401 "$status"
    # The queued ticket is picked up by reconcile through the template's event source mapping:
    # reconcile reads ticket 101 from the Zammad simulator (its call counter moves), the queue
    # drains (nothing visible, nothing in flight), and the writer's timesheet for accounting 1
    # of ticket 101 is in the Kimai simulator.
    if ! grep -qx reconcile "$STACK_DIR/missing-functions"; then
        zammad_ticket_reads() {
            curl -s --max-time 5 "http://127.0.0.1:$ZAMMAD_SIM_PORT/__admin/counters" |
                "$STACK_TOOLS_VENV/bin/python" -c \
                    'import json,sys; print(json.load(sys.stdin).get("GET /api/v1/tickets/{id}", 0))' \
                    2>/dev/null || echo unreadable
        }
        queue_depth() {
            awsl sqs get-queue-attributes --queue-url "$(stack_output TicketSyncQueueUrl)" \
                --attribute-names ApproximateNumberOfMessages ApproximateNumberOfMessagesNotVisible \
                --output json | "$STACK_TOOLS_VENV/bin/python" -c \
                'import json,sys; a=json.load(sys.stdin)["Attributes"]; print(int(a["ApproximateNumberOfMessages"]) + int(a["ApproximateNumberOfMessagesNotVisible"]))'
        }
        reads_before="$consumed_reads_before"
        consumed=no
        for _ in $(seq 1 60); do
            reads="$(zammad_ticket_reads)"
            if [[ "$reads" =~ ^[0-9]+$ && "$reads_before" =~ ^[0-9]+$ ]] && ((reads > reads_before)) &&
                [[ "$(queue_depth)" == 0 ]]; then
                consumed=yes
                break
            fi
            sleep 1
        done
        check "ticket-sync consumed by reconcile (ticket read from Zammad, queue drained)" yes "$consumed"
        written=no
        for _ in $(seq 1 60); do
            if curl -s --max-time 5 "http://127.0.0.1:$KIMAI_SIM_PORT/__admin/timesheets" |
                grep -qF '[zammad:ta=1]'; then
                written=yes
                break
            fi
            sleep 1
        done
        check "ticket 101 written to Kimai by kimai-writer" yes "$written"
    fi
else
    echo "FAIL webhook-ingest is not deployed (no crate built)" >&2
    failed=$((failed + 1))
fi

echo "smoke: $passed passed, $failed failed"
[[ $failed -eq 0 ]]

# The end-to-end suite, on the same stack while it is up.
"$here/e2e.sh"

# The web console's browser suite, against the same stack.
"$REPO_ROOT/frontend/scripts/e2e-stack.sh"

# Last, as it may change settings the suites above rely on: schemathesis against the served
# OpenAPI document through the gateway (no 5xx, every answer as documented).
echo "schemathesis ($fuzz_scope) through the gateway; log: $STACK_DIR/schemathesis.log" >&2
fuzz_failed=0
if ! "$here/schemathesis.sh" --stack "$fuzz_scope" >"$STACK_DIR/schemathesis.log" 2>&1; then
    tail -n 60 "$STACK_DIR/schemathesis.log" >&2
    echo "FAIL schemathesis ($fuzz_scope) through the gateway" >&2
    fuzz_failed=1
else
    echo "PASS schemathesis ($fuzz_scope) through the gateway" >&2
fi

# The IAM check, over everything the suites above made the functions do (also when
# schemathesis failed: its calls were recorded all the same). A stack someone else started
# without recording is not checked.
iam_failed=0
if [[ -s "$MINISTACK_RECORDING" ]]; then
    if "$here/iam-check.sh"; then
        echo "PASS IAM check (report: $STACK_DIR/iam-report.txt)" >&2
    else
        echo "FAIL IAM check (report: $STACK_DIR/iam-report.txt)" >&2
        iam_failed=1
    fi
else
    echo "SKIP IAM check: the emulator on $MINISTACK_URL was started without MINISTACK_RECORD_CALLS" >&2
fi
[[ $fuzz_failed -eq 0 && $iam_failed -eq 0 ]]
