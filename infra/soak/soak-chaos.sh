#!/usr/bin/env bash
# The chaos soak (`make soak`; `make test` runs a 500-accounting version, `make soak-small`),
# docs/reliability.md "Chaos soak":
#  1. a local stack on its own ports with a generated world of $ACCOUNTINGS accountings over
#     $WEEKS weeks, booked by $AGENTS agents in three time zones;
#  2. faults in both simulators for the whole chaos phase: Kimai answers 5xx, 429 with
#     Retry-After, hangs past the client's timeout, and saves a write then answers 500; Zammad
#     answers 5xx and serves every page slowly;
#  3. a backfill of the world's range started from the console while the chaos driver changes
#     Zammad (edits, deletions, negative corrections, new bookings) with every webhook delivered
#     twice and some out of order, edits Kimai descriptions by hand, and this script kills a
#     reconcile and a writer bootstrap (`kill -9`) partway through their batches, $KILLS times;
#  4. the faults end; the dead-letter queues are replayed once from the console; one verify
#     sweep (a second backfill of the range) runs;
#  5. the checks, each printed PASS or FAIL: Kimai against an oracle over Zammad's final data
#     (0 duplicates, 0 missing, 0 wrong minutes, day, user or activity; written from the rules,
#     not with the sync's code), both dead-letter queues empty, the counters of the verify run
#     and of the chaos backfill (each ticket once, despite the kills) add up; then the figures
#     and the time. A failure prints the first timesheets that differ.
# Exits non-zero when a check fails. Stops what it started, whatever happens.
#
# Variables: ACCOUNTINGS (10000), WEEKS (13), AGENTS (40), SEED (7), CHANGES (ACCOUNTINGS / 20),
# CHANGE_PAUSE_MS (1000), HAND_EDITS (ACCOUNTINGS / 100), KILLS (4), KILL_EVERY_SECS (20),
# KIMAI_ERROR_SHARE (0.10), KIMAI_RATE_LIMIT_SHARE (0.05), KIMAI_TIMEOUT_SHARE (0.02),
# KIMAI_COMMIT_THEN_500_SHARE (0.02), ZAMMAD_ERROR_SHARE (0.05), ZAMMAD_LATENCY_MS (300),
# LIMIT_SECS, MINISTACK_PORT (4630), ZAMMAD_SIM_PORT (18630), KIMAI_SIM_PORT (18631).
set -euo pipefail
export MINISTACK_PORT="${MINISTACK_PORT:-4630}"
export ZAMMAD_SIM_PORT="${ZAMMAD_SIM_PORT:-18630}"
export KIMAI_SIM_PORT="${KIMAI_SIM_PORT:-18631}"
# A killed invocation's records come back after the visibility timeout: short enough for the
# soak to see them come back, longer than one batch under the faults.
export LOCAL_QUEUE_VISIBILITY_TIMEOUT="${LOCAL_QUEUE_VISIBILITY_TIMEOUT:-90}"
export LOCAL_QUEUE_MAX_RECEIVE_COUNT="${LOCAL_QUEUE_MAX_RECEIVE_COUNT:-5}"
here="$(cd "$(dirname "$0")" && pwd)"
stack="$here/../local-stack"
bench_dir="$here/../bench"
source "$stack/env.sh"
source "$stack/lib.sh"
source "$bench_dir/world.sh"
source "$here/lib.sh"
cd "$REPO_ROOT"

ACCOUNTINGS="${ACCOUNTINGS:-10000}"
WEEKS="${WEEKS:-13}"
AGENTS="${AGENTS:-40}"
SEED="${SEED:-7}"
CHANGES="${CHANGES:-$((ACCOUNTINGS / 20))}"
CHANGE_PAUSE_MS="${CHANGE_PAUSE_MS:-1000}"
HAND_EDITS="${HAND_EDITS:-$((ACCOUNTINGS / 100))}"
KILLS="${KILLS:-4}"
KILL_EVERY_SECS="${KILL_EVERY_SECS:-20}"
KIMAI_ERROR_SHARE="${KIMAI_ERROR_SHARE:-0.10}"
KIMAI_RATE_LIMIT_SHARE="${KIMAI_RATE_LIMIT_SHARE:-0.05}"
KIMAI_TIMEOUT_SHARE="${KIMAI_TIMEOUT_SHARE:-0.02}"
KIMAI_COMMIT_THEN_500_SHARE="${KIMAI_COMMIT_THEN_500_SHARE:-0.02}"
ZAMMAD_ERROR_SHARE="${ZAMMAD_ERROR_SHARE:-0.05}"
ZAMMAD_LATENCY_MS="${ZAMMAD_LATENCY_MS:-300}"
LIMIT_SECS="${LIMIT_SECS:-$((1200 + ACCOUNTINGS))}"
WORK="$LOCAL_DIR/chaos-$MINISTACK_PORT"
mkdir -p "$WORK" "$SIMS_DIR"
began=$SECONDS

stack_started=0
background=()
cleanup() {
    local status=$?
    for pid in "${background[@]}"; do kill "$pid" 2>/dev/null || true; done
    if [[ $stack_started == 1 ]]; then
        step "stopping the stack on port $MINISTACK_PORT"
        "$stack/down.sh" >&2 || true
    fi
    exit "$status"
}
trap cleanup EXIT

soak_tools

step "a world of $ACCOUNTINGS accountings over $WEEKS weeks by $AGENTS agents"
rm -rf "$WORK"/*
mkdir -p "$WORK/final"
"$bench" dataset --accountings "$ACCOUNTINGS" --weeks "$WEEKS" --agents "$AGENTS" --out "$WORK/data" >"$WORK/chosen.json"
cat "$WORK/chosen.json" >&2
read -r from to _ < <(world_range "$WORK/chosen.json")

soak_world_stack
export AWS_ENDPOINT_URL="$MINISTACK_URL" AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
    AWS_REGION=us-east-1

kimai="http://127.0.0.1:$KIMAI_SIM_PORT"
zammad="http://127.0.0.1:$ZAMMAD_SIM_PORT"
api_url="$MINISTACK_URL/_aws/execute-api/$(stack_output HttpApiId)/api"
webhook_url="$MINISTACK_URL/_aws/execute-api/$(stack_output HttpApiId)/webhooks/zammad"
admin_user="$(stack_output ConsoleAdminUser)"
SOAK_ADMIN_PASSWORD="$(awsl secretsmanager get-secret-value \
    --secret-id "$(stack_output ConsoleAdminPasswordSecretId)" --query SecretString)"
SOAK_WEBHOOK_SECRET="$(awsl secretsmanager get-secret-value \
    --secret-id "$(stack_output WebhookSecretId)" --query SecretString)"
export SOAK_ADMIN_PASSWORD SOAK_WEBHOOK_SECRET
queues=(--work-queue "ticket-sync=$(stack_output TicketSyncQueueUrl)"
    --work-queue "kimai-write=$(stack_output KimaiWriteQueueUrl)"
    --dead-letter-queue "ticket-sync-dlq=$(stack_output TicketSyncDeadLetterQueueUrl)"
    --dead-letter-queue "kimai-write-dlq=$(stack_output KimaiWriteDeadLetterQueueUrl)")
backfill() { # out-file
    "$bench" soak --api-url "$api_url" --admin-user "$admin_user" \
        --zammad-url "$zammad" --kimai-url "$kimai" \
        --control-table "$(stack_output ControlTableName)" "${queues[@]}" \
        --from "$from" --to "$to" --limit-secs "$LIMIT_SECS" --out "$1"
}

step "faults: Kimai ${KIMAI_ERROR_SHARE} 5xx, ${KIMAI_RATE_LIMIT_SHARE} 429, ${KIMAI_TIMEOUT_SHARE} timeouts, ${KIMAI_COMMIT_THEN_500_SHARE} commit-then-500; Zammad ${ZAMMAD_ERROR_SHARE} 5xx, ${ZAMMAD_LATENCY_MS} ms a page"
# Every API route kimai-sim serves; the rules are drawn in this order, each of what the
# earlier ones let through.
for route in "${KIMAI_API_ROUTES[@]}"; do
    ROUTE="$route" python3 -c '
import json, os, sys
error, limit, hang, commit = map(float, sys.argv[1:5])
rules = [{"kind": "error", "statuses": [500, 502, 503], "probability": error},
         {"kind": "rate_limit", "retry_after_secs": 1, "probability": limit},
         {"kind": "timeout", "hang_ms": 40000, "probability": hang}]
if os.environ["ROUTE"].split()[0] in ("POST", "PATCH", "DELETE"):
    rules.append({"kind": "commit_then_500", "probability": commit})
print(json.dumps({"route": os.environ["ROUTE"], "latency_ms": 0, "rules": rules}))
' "$KIMAI_ERROR_SHARE" "$KIMAI_RATE_LIMIT_SHARE" "$KIMAI_TIMEOUT_SHARE" "$KIMAI_COMMIT_THEN_500_SHARE" |
        curl -fsS -X PUT -H 'Content-Type: application/json' --data-binary @- "$kimai/__admin/faults"
done
python3 -c '
import json, sys
print(json.dumps({"seed": int(sys.argv[3]), "rules": [
    {"route": "*", "latency_ms": int(sys.argv[2]), "error_rate": float(sys.argv[1])}]}))
' "$ZAMMAD_ERROR_SHARE" "$ZAMMAD_LATENCY_MS" "$SEED" |
    curl -fsS -X PUT -H 'Content-Type: application/json' --data-binary @- "$zammad/__admin/faults"

step "backfill $from .. $to from the console, with the chaos driver and $KILLS kills"
chaos_began=$SECONDS
backfill "$WORK/backfill.json" >"$WORK/backfill.out" 2>&1 &
backfill_pid=$!
background+=("$backfill_pid")
"$bench" chaos --zammad-url "$zammad" --kimai-url "$kimai" --webhook-url "$webhook_url" \
    --seed "$SEED" --changes "$CHANGES" --pause-ms "$CHANGE_PAUSE_MS" \
    --hand-edits "$HAND_EDITS" --out "$WORK/chaos.json" >"$WORK/chaos.out" 2>&1 &
chaos_pid=$!
background+=("$chaos_pid")
# kill -9 of a busy bootstrap, reconcile and kimai-writer in turn: the emulator runs each warm
# instance as a host process whose environment names its function; a busy one has a
# connection open to a simulator.
busy_bootstrap() { # part of the function's name
    local pid
    for pid in $(ss -Htnp state established "( dport = :$KIMAI_SIM_PORT or dport = :$ZAMMAD_SIM_PORT )" 2>/dev/null |
        grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u); do
        if tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -q "^AWS_LAMBDA_FUNCTION_NAME=.*$1"; then
            echo "$pid"
            return
        fi
    done
}
kills_done=0
kill_log="$WORK/kills.txt"
: >"$kill_log"
for ((k = 0; k < KILLS; k++)); do
    sleep "$KILL_EVERY_SECS"
    function_name=$([[ $((k % 2)) == 0 ]] && echo ReconcileFunction || echo KimaiWriterFunction)
    victim=""
    for _ in $(seq 1 40); do
        victim="$(busy_bootstrap "$function_name")"
        [[ -n $victim ]] && break
        sleep 0.25
    done
    if [[ -n $victim ]] && kill -9 "$victim" 2>/dev/null; then
        kills_done=$((kills_done + 1))
        echo "$(date -u +%T) killed a busy $function_name bootstrap ($victim)" >>"$kill_log"
    else
        echo "$(date -u +%T) no busy $function_name bootstrap to kill" >>"$kill_log"
    fi
done
backfill_ok=1
wait "$chaos_pid" || { echo "the chaos driver failed: $(tail -n 5 "$WORK/chaos.out")" >&2; exit 1; }
wait "$backfill_pid" || backfill_ok=0
chaos_wall=$((SECONDS - chaos_began))

step "faults off; dead letters replayed once; one verify sweep"
curl -fsS -X DELETE "$kimai/__admin/faults" >/dev/null
curl -fsS -X DELETE "$zammad/__admin/faults" >/dev/null
# A console session (its token may expire during a long verify sweep: log in again after it).
login() {
    curl -fsS -X POST -H 'Content-Type: application/json' \
        --data "$(python3 -c 'import json,os,sys; print(json.dumps({"username": sys.argv[1], "password": os.environ["SOAK_ADMIN_PASSWORD"]}))' "$admin_user")" \
        "$api_url/auth/login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}
token="$(login)"
: >"$WORK/replay.json"
for queue in ticket-sync kimai-write; do
    curl -fsS -X POST -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
        --data '{"all": true}' "$api_url/dead-letters/$queue/replay" >>"$WORK/replay.json"
    echo >>"$WORK/replay.json"
done
cat "$WORK/replay.json" >&2
verify_ok=1
verify_from="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
backfill "$WORK/verify.json" >"$WORK/verify.out" 2>&1 || verify_ok=0
# What the console shows after it, kept to look into a finding later: the open conflicts (the
# oracle checks that time held back for want of room is among them), and the audit of the
# verify sweep (what it wrote, and why).
token="$(login)"
python3 - "$api_url" "$token" >"$WORK/final/open-conflicts.json" <<'PY'
import json, sys, urllib.parse, urllib.request
api, token = sys.argv[1], sys.argv[2]
items, after = [], None
while True:
    query = {"status": "open", "limit": 500} | ({"after": after} if after else {})
    request = urllib.request.Request(api + "/conflicts?" + urllib.parse.urlencode(query),
                                     headers={"Authorization": "Bearer " + token})
    page = json.load(urllib.request.urlopen(request))
    items += page["items"]
    after = page.get("next")
    if not after:
        break
json.dump(items, sys.stdout)
PY
# The audit export selects whole UTC days; the rows from the sweep's start are kept.
curl -fsS -H "Authorization: Bearer $token" -G --data-urlencode "from=${verify_from%%T*}" \
    --data-urlencode "to=$(date -u +%Y-%m-%d)" "$api_url/audit/export" |
    python3 -c 'import csv,sys; rows=list(csv.reader(sys.stdin)); w=csv.writer(sys.stdout); w.writerows(rows[:1] + [r for r in rows[1:] if r and r[0] >= sys.argv[1]])' "$verify_from" \
    >"$WORK/final/verify-audit.csv" || echo "the verify sweep's audit could not be read" >&2
curl -fsS "$zammad/__admin/dataset" >"$WORK/final/zammad.json"
# Kimai's end state too, to look into a finding after the simulators are stopped.
curl -fsS "$kimai/__admin/timesheets" >"$WORK/final/kimai-timesheets.json"
cp "$WORK/data/kimai.json" "$WORK/final/kimai.json"

# ---------------------------------------------------------------- checks
results="$WORK/results.txt"
{
    echo "chaos soak: ACCOUNTINGS=$ACCOUNTINGS WEEKS=$WEEKS AGENTS=$AGENTS SEED=$SEED CHANGES=$CHANGES HAND_EDITS=$HAND_EDITS KILLS=$KILLS; Kimai faults 5xx $KIMAI_ERROR_SHARE, 429 $KIMAI_RATE_LIMIT_SHARE, timeouts $KIMAI_TIMEOUT_SHARE, commit-then-500 $KIMAI_COMMIT_THEN_500_SHARE; Zammad 5xx $ZAMMAD_ERROR_SHARE, ${ZAMMAD_LATENCY_MS} ms per page; queue visibility ${LOCAL_QUEUE_VISIBILITY_TIMEOUT} s, max receives $LOCAL_QUEUE_MAX_RECEIVE_COUNT; at $(git rev-parse --short HEAD)"
    python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); print("world: %(tickets)s tickets, %(accountings)s accountings by %(agents)s agents, seed %(seed)s, from %(start)s" % c)' "$WORK/chosen.json"
    echo "chaos: $(tail -n 1 "$WORK/chaos.out")"
    echo "kills: $kills_done of $KILLS ($(tr '\n' ';' <"$kill_log"))"
    check "backfill under chaos settled" "$backfill_ok" "$(tail -n 3 "$WORK/backfill.out" | tr '\n' ' ')"
    check "kills happened" "$((kills_done >= (KILLS + 1) / 2))" "$kills_done bootstraps killed"
    if [[ $verify_ok == 1 ]]; then
        read -r verify_state verify_adds verify_detail < <(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
run = r.get("run") or {}
c = run.get("counters") or {}
adds = c.get("tickets_done", 0) + c.get("failed", 0) == c.get("tickets_queued", -1) and c.get("failed", 0) == 0
print(run.get("state"), int(adds), json.dumps(c))' "$WORK/verify.json")
        check "verify sweep succeeded" "$([[ $verify_state == Succeeded ]] && echo 1 || echo 0)" "state $verify_state"
        check "verify run counters add up" "$verify_adds" "tickets_done + failed = tickets_queued, none failed: $verify_detail"
        # Everything was synced before it: the sweep finds nothing to write and nothing new to
        # ask a person about (a run that rewrote timesheets, or called hand edits conflicts,
        # would be caught here).
        read -r verify_quiet < <(python3 -c '
import json, sys
c = (json.load(open(sys.argv[1])).get("run") or {}).get("counters") or {}
print(int(sum(c.get(k, 0) for k in ("created", "updated", "deleted", "conflicts")) == 0))' "$WORK/verify.json")
        check "verify sweep wrote nothing" "$verify_quiet" "created, updated, deleted and conflicts opened all 0: $verify_detail"
        read -r dlq_total dlq_detail < <(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))["dead_letters"]
print(sum(d.values()), json.dumps(d))' "$WORK/verify.json")
        check "dead-letter queues empty after one replay" "$([[ $dlq_total == 0 ]] && echo 1 || echo 0)" "$dlq_detail"
    else
        check "verify sweep settled" 0 "$(tail -n 5 "$WORK/verify.out" | tr '\n' ' ')"
    fi
    if "$bench" soak-check --world "$WORK/final" --timesheets "$WORK/final/kimai-timesheets.json" \
        --conflicts "$WORK/final/open-conflicts.json" \
        --policy "$bench_dir/bench-policy.json" --out "$WORK/world-check.json" \
        >"$WORK/world-check.txt" 2>&1; then
        check "Kimai matches the oracle over Zammad's final data" 1 "$(head -n 1 "$WORK/world-check.txt")"
    else
        check "Kimai matches the oracle over Zammad's final data" 0 "$(head -n 1 "$WORK/world-check.txt") (list: $WORK/world-check.txt)"
    fi
    grep PROBLEM "$WORK/world-check.txt" | head -n 20 || true
    read -r kept_count hand_count < <(python3 - "$kimai" "$WORK/chaos.json" <<'PY'
import json, sys, urllib.request
hand = set(json.load(open(sys.argv[2]))["hand_edited"])
sheets = json.load(urllib.request.urlopen(sys.argv[1] + "/__admin/timesheets"))
print(sum(1 for t in sheets if t["id"] in hand and "(checked by hand)" in (t.get("description") or "")), len(hand))
PY
)
    check "hand edits in Kimai kept" "$([[ $hand_count -gt 0 && $kept_count == "$hand_count" ]] && echo 1 || echo 0)" \
        "$kept_count of $hand_count descriptions edited by hand still read so"
    # Each ticket counts once in its run, done or failed, however often a kill made its
    # message come again (docs/pipeline.md, reconcile step 12).
    read -r chaos_adds chaos_detail < <(python3 -c '
import json, sys
try:
    run = json.load(open(sys.argv[1])).get("run") or {}
except (OSError, ValueError):
    run = {}
c = run.get("counters") or {}
adds = c.get("tickets_done", 0) + c.get("failed", 0) == c.get("tickets_queued", -1)
print(int(adds), "state %s, counters %s" % (run.get("state"), json.dumps(c)))' "$WORK/backfill.json")
    check "chaos backfill run counters add up" "$chaos_adds" "tickets_done + failed = tickets_queued under kills: $chaos_detail"
    echo "wall time: $((SECONDS - began)) s in all, the chaos phase $chaos_wall s"
    echo "checks: $passed passed, $failed failed"
    [[ $failed == 0 ]]
} 2>&1 | tee "$results"
status="${PIPESTATUS[0]}"
echo "results: $results" >&2
exit "$status"
