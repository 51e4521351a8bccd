#!/usr/bin/env bash
# The limits harness (`make soak-limits`, docs/reliability.md "Limits harness"):
#  1. a local stack on its own ports (IAM evaluated, as in every stack script) with a generated
#     world of $TICKETS tickets, their accountings in one date range;
#  2. Kimai made slow and impatient: $KIMAI_LATENCY_MS on every API route, and a share
#     ($RATE_LIMIT_SHARE) of the calls answered 429 with Retry-After: $RETRY_AFTER_SECS;
#  3. a backfill of that range started from the console (POST /api/sync-runs as the first
#     admin; the api hands it to scheduled-fetch), waited for until the run has ended, every
#     queued ticket is reconciled, the work queues are empty and neither simulator is called;
#  4. the checks, each printed PASS or FAIL: every accounting in Kimai exactly once with the
#     right duration and user (against the world, not the sync's own plan), both dead-letter
#     queues empty, no "Task timed out" in any function's log, at most the configured number of
#     concurrent requests at each simulator; then wall time and calls per route.
# Exits non-zero when a check fails. Stops what it started, whatever happens.
#
# Variables: TICKETS (5000), WEEKS (12), KIMAI_LATENCY_MS (2000), RATE_LIMIT_SHARE (0.05),
# RETRY_AFTER_SECS (2), LIMIT_SECS (how long the backfill may take; default from the size),
# MINISTACK_PORT (4620), ZAMMAD_SIM_PORT (18620), KIMAI_SIM_PORT (18621),
# LOCAL_QUEUE_VISIBILITY_TIMEOUT (360) and LOCAL_QUEUE_MAX_RECEIVE_COUNT (5), AWS's defaults.
set -euo pipefail
export MINISTACK_PORT="${MINISTACK_PORT:-4620}"
export ZAMMAD_SIM_PORT="${ZAMMAD_SIM_PORT:-18620}"
export KIMAI_SIM_PORT="${KIMAI_SIM_PORT:-18621}"
# The queues as on AWS (template defaults), not the local stack's 10 s / 3 receives that make
# the end-to-end suite quick: with Kimai this slow a batch outlasts 10 s, its messages come back
# while still being worked on, and the run measures redeliveries instead of the limits.
export LOCAL_QUEUE_VISIBILITY_TIMEOUT="${LOCAL_QUEUE_VISIBILITY_TIMEOUT:-360}"
export LOCAL_QUEUE_MAX_RECEIVE_COUNT="${LOCAL_QUEUE_MAX_RECEIVE_COUNT:-5}"
# The shared call pace at the template's defaults, as deployed on AWS.
export LOCAL_KIMAI_CALLS_PER_SECOND="${LOCAL_KIMAI_CALLS_PER_SECOND:-10}"
export LOCAL_ZAMMAD_CALLS_PER_SECOND="${LOCAL_ZAMMAD_CALLS_PER_SECOND:-10}"
here="$(cd "$(dirname "$0")" && pwd)"
stack="$here/../local-stack"
bench_dir="$here/../bench"
source "$stack/env.sh"
source "$stack/lib.sh"
source "$bench_dir/world.sh"
source "$here/lib.sh"
cd "$REPO_ROOT"

TICKETS="${TICKETS:-5000}"
WEEKS="${WEEKS:-12}"
KIMAI_LATENCY_MS="${KIMAI_LATENCY_MS:-2000}"
RATE_LIMIT_SHARE="${RATE_LIMIT_SHARE:-0.05}"
RETRY_AFTER_SECS="${RETRY_AFTER_SECS:-2}"
# Generous: about eight Kimai calls per ticket, four at a time (the writer's share), plus a
# record that fails until its last delivery (each waits a visibility timeout), plus ten minutes.
LIMIT_SECS="${LIMIT_SECS:-$((600 + LOCAL_QUEUE_VISIBILITY_TIMEOUT * LOCAL_QUEUE_MAX_RECEIVE_COUNT + TICKETS * 8 * (KIMAI_LATENCY_MS + 200) / 4000))}"
WORK="$LOCAL_DIR/soak-$MINISTACK_PORT"
mkdir -p "$WORK" "$SIMS_DIR"
began=$SECONDS

stack_started=0
cleanup() {
    local status=$?
    if [[ $stack_started == 1 ]]; then
        step "stopping the stack on port $MINISTACK_PORT"
        "$stack/down.sh" >&2 || true
    fi
    exit "$status"
}
trap cleanup EXIT

soak_tools

step "a demo world of $TICKETS tickets over $WEEKS weeks"
# Nothing of an earlier run may be read as this one's.
rm -rf "$WORK/data" "$WORK/logs" "$WORK/backfill.json" "$WORK/backfill.out" "$WORK/world-check."*
"$bench" dataset --tickets "$TICKETS" --weeks "$WEEKS" --out "$WORK/data" >"$WORK/chosen.json"
cat "$WORK/chosen.json" >&2
read -r from to _ < <(world_range "$WORK/chosen.json")

soak_world_stack

kimai="http://127.0.0.1:$KIMAI_SIM_PORT"
zammad="http://127.0.0.1:$ZAMMAD_SIM_PORT"
step "Kimai faults: ${KIMAI_LATENCY_MS} ms on every route, ${RATE_LIMIT_SHARE} of calls 429 (Retry-After ${RETRY_AFTER_SECS} s)"
# Every API route kimai-sim serves (its faults are set per route).
for route in "${KIMAI_API_ROUTES[@]}"; do
    ROUTE="$route" python3 -c '
import json, os, sys
print(json.dumps({"route": os.environ["ROUTE"], "latency_ms": int(sys.argv[1]),
    "rules": [{"kind": "rate_limit", "retry_after_secs": int(sys.argv[2]), "probability": float(sys.argv[3])}]}))
' "$KIMAI_LATENCY_MS" "$RETRY_AFTER_SECS" "$RATE_LIMIT_SHARE" |
        curl -fsS -X PUT -H 'Content-Type: application/json' --data-binary @- "$kimai/__admin/faults"
done
# The measurement starts here (the set-up's own calls are not the backfill's).
curl -fsS -X DELETE "$kimai/__admin/concurrency" >/dev/null
curl -fsS -X DELETE "$zammad/__admin/concurrency" >/dev/null

export AWS_ENDPOINT_URL="$MINISTACK_URL" AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
    AWS_REGION=us-east-1
api_url="$MINISTACK_URL/_aws/execute-api/$(stack_output HttpApiId)/api"
SOAK_ADMIN_PASSWORD="$(awsl secretsmanager get-secret-value \
    --secret-id "$(stack_output ConsoleAdminPasswordSecretId)" --query SecretString)"
export SOAK_ADMIN_PASSWORD

step "backfill $from .. $to from the console (limit ${LIMIT_SECS} s)"
backfill_began=$SECONDS
backfill_ok=1
"$bench" soak --api-url "$api_url" --admin-user "$(stack_output ConsoleAdminUser)" \
    --zammad-url "$zammad" --kimai-url "$kimai" \
    --control-table "$(stack_output ControlTableName)" \
    --work-queue "ticket-sync=$(stack_output TicketSyncQueueUrl)" \
    --work-queue "kimai-write=$(stack_output KimaiWriteQueueUrl)" \
    --dead-letter-queue "ticket-sync-dlq=$(stack_output TicketSyncDeadLetterQueueUrl)" \
    --dead-letter-queue "kimai-write-dlq=$(stack_output KimaiWriteDeadLetterQueueUrl)" \
    --from "$from" --to "$to" --limit-secs "$LIMIT_SECS" --out "$WORK/backfill.json" \
    >"$WORK/backfill.out" || backfill_ok=0
backfill_wall=$((SECONDS - backfill_began))

# ---------------------------------------------------------------- checks
results="$WORK/results.txt"
{
    echo "limits harness: TICKETS=$TICKETS WEEKS=$WEEKS KIMAI_LATENCY_MS=$KIMAI_LATENCY_MS RATE_LIMIT_SHARE=$RATE_LIMIT_SHARE RETRY_AFTER_SECS=$RETRY_AFTER_SECS queue visibility ${LOCAL_QUEUE_VISIBILITY_TIMEOUT} s, max receives $LOCAL_QUEUE_MAX_RECEIVE_COUNT, at $(git rev-parse --short HEAD)"
    python3 - "$WORK/chosen.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
print("world: %(tickets)s tickets, %(accountings)s accountings, seed %(seed)s, from %(start)s" % c)
PY

    if [[ $backfill_ok == 1 ]]; then
        check "backfill settled" 1 "$(python3 - "$WORK/backfill.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
run = r.get("run") or {}
print("run %s answered %s %s, ended %s, settled %.0f s after the POST, counters %s" % (
    r["run_id"], r["started_status"], r["started_state"], run.get("state"), r["settled_s"],
    json.dumps(run.get("counters"))))
PY
)"
        run_state="$(python3 -c 'import json,sys; print((json.load(open(sys.argv[1])).get("run") or {}).get("state"))' "$WORK/backfill.json")"
        check "run succeeded" "$([[ $run_state == Succeeded ]] && echo 1 || echo 0)" "state $run_state"
        read -r dlq_total dlq_detail < <(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))["dead_letters"]
print(sum(d.values()), json.dumps(d))' "$WORK/backfill.json")
        check "dead-letter queues empty" "$([[ $dlq_total == 0 ]] && echo 1 || echo 0)" "$dlq_detail"
    else
        check "backfill settled" 0 "$(tail -n 5 "$WORK/backfill.out" | tr '\n' ' ') (see $WORK/backfill.out)"
    fi

    if "$bench" soak-check --world "$WORK/data" --kimai-url "$kimai" --out "$WORK/world-check.json" \
        >"$WORK/world-check.txt" 2>&1; then
        check "every accounting in Kimai exactly once, right duration and user" 1 "$(head -n 1 "$WORK/world-check.txt")"
    else
        check "every accounting in Kimai exactly once, right duration and user" 0 "$(head -n 1 "$WORK/world-check.txt") (list: $WORK/world-check.txt)"
    fi
    sed -n '2,12p' "$WORK/world-check.txt"

    # The emulator keeps each function's CloudWatch log; a function killed at its Timeout
    # leaves "Task timed out" there.
    timeouts="$("$STACK_TOOLS_VENV/bin/python" - "$MINISTACK_URL" "$WORK/logs" <<'PY'
import boto3, os, sys
logs = boto3.client("logs", endpoint_url=sys.argv[1], region_name="us-east-1",
                    aws_access_key_id="test", aws_secret_access_key="test")
os.makedirs(sys.argv[2], exist_ok=True)
found, lines, parts = 0, 0, []
groups = logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/").get("logGroups", [])
for g in groups:
    name = g["logGroupName"]
    hits = 0
    with open(os.path.join(sys.argv[2], name.rsplit("/", 1)[-1] + ".log"), "w") as out:
        streams = logs.describe_log_streams(logGroupName=name).get("logStreams", [])
        for s in streams:
            token = None
            while True:
                kw = dict(logGroupName=name, logStreamName=s["logStreamName"], startFromHead=True)
                if token:
                    kw["nextToken"] = token
                page = logs.get_log_events(**kw)
                for e in page.get("events", []):
                    lines += 1
                    out.write(e["message"].rstrip("\n") + "\n")
                    if "Task timed out" in e["message"]:
                        hits += 1
                if not page.get("events") or page.get("nextForwardToken") in (None, token):
                    break
                token = page.get("nextForwardToken")
    found += hits
    parts.append(f"{name.rsplit('/', 1)[-1]}: {hits}")
print(found, f"{len(groups)} log groups, {lines} lines; " + ", ".join(parts))
PY
)"
    read -r timeout_count timeout_detail <<<"$timeouts"
    check "no invocation timed out" "$([[ $timeout_count == 0 && $timeout_detail != "0 log groups"* ]] && echo 1 || echo 0)" \
        "\"Task timed out\" x$timeout_count ($timeout_detail; logs in $WORK/logs)"

    # The configured maxima: invocations of each queue consumer (template parameters, as
    # deployed), times what one invocation may send at once (its records in parallel, capped
    # by the client's own limit; constants of shared/lambda and the clients' defaults).
    param() {
        awsl cloudformation describe-stacks --stack-name "$STACK_NAME" \
            --query "Stacks[0].Parameters[?ParameterKey=='$1'].ParameterValue | [0]"
    }
    const() { grep -Eo "$2: usize = [0-9]+" "$1" | grep -Eo '[0-9]+$' | head -n 1; }
    reconcile_max="$(param ReconcileConcurrency)"
    writer_max="$(param WriterConcurrency)"
    reconcile_records="$(const shared/lambda/src/reconcile.rs CONCURRENCY)"
    writer_records="$(const shared/lambda/src/writer.rs CONCURRENCY)"
    kimai_client="$(grep -Eo 'max_concurrency: [0-9]+' shared/kimai/src/config.rs | grep -Eo '[0-9]+' | head -n 1)"
    zammad_client="$(grep -Eo 'max_concurrency: [0-9]+' shared/zammad/src/config.rs | grep -Eo '[0-9]+' | head -n 1)"
    min() { echo $(($1 < $2 ? $1 : $2)); }
    kimai_bound=$((reconcile_max * $(min "$reconcile_records" "$kimai_client") + writer_max * $(min "$writer_records" "$kimai_client")))
    # Zammad is read by reconcile and by the one scheduled-fetch run that holds the lease.
    zammad_bound=$((reconcile_max * $(min "$reconcile_records" "$zammad_client") + zammad_client))
    kimai_seen="$(curl -fsS "$kimai/__admin/concurrency" | python3 -c 'import json,sys; print(json.load(sys.stdin)["max_in_flight"])')"
    zammad_seen="$(curl -fsS "$zammad/__admin/concurrency" | python3 -c 'import json,sys; print(json.load(sys.stdin)["max_in_flight"])')"
    check "Kimai concurrency within the configured maximum" "$((kimai_seen <= kimai_bound))" \
        "at most $kimai_seen requests at once; bound $kimai_bound = ReconcileConcurrency $reconcile_max x min($reconcile_records records, client $kimai_client) + WriterConcurrency $writer_max x min($writer_records records, client $kimai_client); invocations alone: $((reconcile_max + writer_max))"
    check "Zammad concurrency within the configured maximum" "$((zammad_seen <= zammad_bound))" \
        "at most $zammad_seen requests at once; bound $zammad_bound = ReconcileConcurrency $reconcile_max x min($reconcile_records, client $zammad_client) + one fetch run x client $zammad_client"

    echo "wall time: $((SECONDS - began)) s in all, the backfill $backfill_wall s (POST to settled and checked by the watcher)"
    if [[ -f "$WORK/backfill.json" ]]; then
        python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
for system in ("kimai", "zammad"):
    calls = r["calls"][system]
    print(f"{system} calls during the backfill: {sum(calls.values())}")
    for route, n in sorted(calls.items(), key=lambda kv: -kv[1]):
        print(f"  {n:>7}  {route}")
' "$WORK/backfill.json"
    fi
    echo "checks: $passed passed, $failed failed"
    [[ $failed == 0 ]]
} 2>&1 | tee "$results"
status="${PIPESTATUS[0]}"
echo "results: $results" >&2
exit "$status"
