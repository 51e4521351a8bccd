#!/usr/bin/env bash
# `make up`: the whole product on this machine, no Docker, no AWS account.
#  1. the AWS emulator (pinned, infra/local-aws) on 127.0.0.1:$MINISTACK_PORT (default 4566)
#  2. the deploy tools (pinned: cfn-lint, awscli, cargo-lambda + Zig) in .local/stack-tools-venv
#  3. every function crate built as an x86_64 bootstrap.zip (profile lambdalocal)
#  4. template.yaml packaged and deployed to the emulator as stack $STACK_NAME
#  5. the emulator gaps patched (TTL), the simulators of Zammad and Kimai started with demo data
#  6. a local chat receiver, and the notification rule's chat delivery pointed at it
#  7. secrets and demo settings seeded, a first sync (a backfill of the last two weeks, where
#     the demo's bookings are moved to) triggered, the URLs printed
# Idempotent: a second run updates what changed and keeps what runs.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/env.sh"
source "$here/lib.sh"
cd "$REPO_ROOT"
mkdir -p "$STACK_DIR" "$SIMS_DIR"
step() { printf '\n==> %s\n' "$*" >&2; }
started=$SECONDS

step "emulator"
"$REPO_ROOT/infra/local-aws/start.sh" >/dev/null
"$here/install-tools.sh"

step "build functions (x86_64, profile $LAMBDA_PROFILE)"
build_started=$SECONDS
"$here/build-functions.sh" >/dev/null
echo "built in $((SECONDS - build_started)) s" >&2

step "build simulators and the seeding tool"
cargo build --quiet -p zammad-sim -p kimai-sim -p local-stack
host_bin="$(cargo metadata --format-version 1 --no-deps |
    "$STACK_TOOLS_VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/debug"

step "deploy template.yaml as $STACK_NAME"
deploy_started=$SECONDS
# A stack deployed here for the first time has no console admin yet (the api function creates
# it from its secret at its first start): only then may that secret still be replaced.
if awsl cloudformation describe-stacks --stack-name "$STACK_NAME" >/dev/null 2>&1; then
    fresh_stack=0
else
    fresh_stack=1
fi
"$STACK_TOOLS_VENV/bin/python" "$here/render_template.py" \
    template.yaml "$STACK_ZIPS" "$STACK_DIR/template.json" 2>"$STACK_DIR/missing-functions"
if [[ -s "$STACK_DIR/missing-functions" ]]; then
    echo "not deployed yet (no crate built): $(tr '\n' ' ' <"$STACK_DIR/missing-functions")" >&2
fi
awsl s3api head-bucket --bucket "$ARTIFACT_BUCKET" >/dev/null 2>&1 ||
    awsl s3 mb "s3://$ARTIFACT_BUCKET" >/dev/null
awsl cloudformation package --template-file "$STACK_DIR/template.json" \
    --s3-bucket "$ARTIFACT_BUCKET" --output-template-file "$STACK_DIR/packaged.yaml" >/dev/null
# Through the artifact bucket: CloudFormation takes at most 51,200 bytes of template inline, and
# ours is larger (on AWS, `sam deploy` uploads it the same way: samconfig.toml's resolve_s3).
awsl cloudformation deploy --stack-name "$STACK_NAME" \
    --template-file "$STACK_DIR/packaged.yaml" --s3-bucket "$ARTIFACT_BUCKET" \
    --capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND \
    --no-fail-on-empty-changeset \
    --parameter-overrides Architecture=x86_64 \
    "ZammadUrl=http://127.0.0.1:$ZAMMAD_SIM_PORT" "KimaiUrl=http://127.0.0.1:$KIMAI_SIM_PORT" \
    "QueueVisibilityTimeout=$LOCAL_QUEUE_VISIBILITY_TIMEOUT" "QueueMaxReceiveCount=$LOCAL_QUEUE_MAX_RECEIVE_COUNT" \
    "KimaiCallsPerSecond=$LOCAL_KIMAI_CALLS_PER_SECOND" "ZammadCallsPerSecond=$LOCAL_ZAMMAD_CALLS_PER_SECOND" \
    ConsoleApiDirectAccess=true LogLevel=info >&2
awsl cloudformation describe-stacks --stack-name "$STACK_NAME" --output json \
    --query 'Stacks[0].Outputs' |
    "$STACK_TOOLS_VENV/bin/python" -c '
import json, sys
print(json.dumps({o["OutputKey"]: o["OutputValue"] for o in json.load(sys.stdin) or []}, indent=1))
' >"$STACK_DIR/outputs.json"
echo "deployed in $((SECONDS - deploy_started)) s" >&2

step "emulator workarounds"
# Gap: TimeToLiveSpecification in a template may be ignored. Turn TTL on where it is not.
for table_output in AuditTableName ControlTableName; do
    table="$(stack_output "$table_output")"
    status="$(awsl dynamodb describe-time-to-live --table-name "$table" \
        --query 'TimeToLiveDescription.TimeToLiveStatus' 2>/dev/null || true)"
    if [[ "$status" != "ENABLED" ]]; then
        awsl dynamodb update-time-to-live --table-name "$table" \
            --time-to-live-specification "Enabled=true,AttributeName=expires_at" >/dev/null
        echo "TTL on $table: was '$status', enabled by UpdateTimeToLive" >&2
    fi
done

# Gap: ReservedConcurrentExecutions is not applied from the template; set it directly.
writer_fn="$(awsl cloudformation describe-stack-resources --stack-name "$STACK_NAME" \
    --logical-resource-id KimaiWriterFunction --query 'StackResources[0].PhysicalResourceId' 2>/dev/null || true)"
if [[ -n "$writer_fn" && "$writer_fn" != "None" ]] &&
    [[ -z "$(awsl lambda get-function-concurrency --function-name "$writer_fn" 2>/dev/null)" ]]; then
    awsl lambda put-function-concurrency --function-name "$writer_fn" \
        --reserved-concurrent-executions 2 >/dev/null
    echo "reserved concurrency of $writer_fn: set to 2 by PutFunctionConcurrency" >&2
fi

# Gap: a mapping created from the template keeps ScalingConfig.MaximumConcurrency as the string
# CloudFormation resolved from the parameter, and the emulator's SQS poller then fails on every
# poll ('<' between int and str), for all mappings. Re-set it through the API, which stores an int.
for uuid in $(awsl lambda list-event-source-mappings \
    --query 'EventSourceMappings[?ScalingConfig.MaximumConcurrency!=null].UUID'); do
    concurrency="$(awsl lambda get-event-source-mapping --uuid "$uuid" \
        --query 'ScalingConfig.MaximumConcurrency')"
    awsl lambda update-event-source-mapping --uuid "$uuid" \
        --scaling-config "MaximumConcurrency=$concurrency" >/dev/null
done

step "simulators"
start_sim() { # name port args...
    local name="$1" port="$2"
    shift 2
    local pidfile="$SIMS_DIR/$name.pid" log="$SIMS_DIR/$name.log"
    if [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null && sim_answers "$port"; then
        echo "$name already running on $port (pid $(cat "$pidfile"))" >&2
        return
    fi
    if sim_answers "$port"; then
        local var="${name^^}"
        echo "port $port is taken by a process this script did not start; stop it or set ${var//-/_}_PORT" >&2
        exit 1
    fi
    setsid nohup "$host_bin/$name" "$@" --port "$port" >"$log" 2>&1 </dev/null &
    echo $! >"$pidfile"
    for _ in $(seq 1 50); do
        sim_answers "$port" && return
        sleep 0.2
    done
    echo "$name did not start; its log ($log):" >&2
    tail -n 20 "$log" >&2
    exit 1
}
# The demo's bookings are moved by whole weeks into the past week, so the first sync books them
# and the dashboard shows them.
start_sim zammad-sim "$ZAMMAD_SIM_PORT" --dataset infra/zammad-sim/demo/dataset.json --dated-recently
start_sim kimai-sim "$KIMAI_SIM_PORT" --dataset infra/kimai-sim/data/demo.json

step "chat notifications"
# A stand-in for a chat's incoming webhook, and the template's chat rule pointed at it through
# the emulator's EventBridge API (its CloudFormation cannot create API destinations).
receiver_pidfile="$SIMS_DIR/chat-receiver.pid"
if ! { [[ -f "$receiver_pidfile" ]] && kill -0 "$(cat "$receiver_pidfile")" 2>/dev/null; }; then
    if curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$CHAT_RECEIVER_PORT/"; then
        echo "port $CHAT_RECEIVER_PORT is taken by a process this script did not start; stop it or set CHAT_RECEIVER_PORT" >&2
        exit 1
    fi
    setsid nohup "$STACK_TOOLS_VENV/bin/python" "$here/chat_receiver.py" --port "$CHAT_RECEIVER_PORT" \
        --file "$SIMS_DIR/chat-deliveries.jsonl" >"$SIMS_DIR/chat-receiver.log" 2>&1 </dev/null &
    echo $! >"$receiver_pidfile"
    for _ in $(seq 1 50); do
        curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$CHAT_RECEIVER_PORT/" && break
        sleep 0.2
    done
fi
AWS_ENDPOINT_URL="$MINISTACK_URL" AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
    AWS_DEFAULT_REGION=us-east-1 PYTHONDONTWRITEBYTECODE=1 \
    "$STACK_TOOLS_VENV/bin/python" "$here/chat_destination.py" template.yaml "$STACK_NAME" \
    "$(stack_output EventBusName)" "http://127.0.0.1:$CHAT_RECEIVER_PORT/chat"

step "secrets and demo settings"
# Demo tokens of the simulators' datasets; the webhook secret stays the generated one, unless
# the emulator ignored ExcludePunctuation (gap): then a generated hex secret replaces it once, so
# it can be pasted into a webhook configuration and a shell without quoting trouble.
webhook_secret_id="$(stack_output WebhookSecretId)"
if ! awsl secretsmanager get-secret-value --secret-id "$webhook_secret_id" \
    --query SecretString | grep -Eq '^[A-Za-z0-9]+$'; then
    awsl secretsmanager put-secret-value --secret-id "$webhook_secret_id" \
        --secret-string "$(openssl rand -hex 24)" >/dev/null
    echo "webhook secret: replaced the emulator's punctuated value with a generated hex one" >&2
fi
# The same gap for the console admin's generated password: it must paste into a shell and a
# login form as it is. Replaced only on a fresh stack, before the api function's first start
# creates the admin from it (a later change would not reach the user).
admin_secret_id="$(stack_output ConsoleAdminPasswordSecretId)"
if [[ $fresh_stack == 1 ]] && ! awsl secretsmanager get-secret-value --secret-id "$admin_secret_id" \
    --query SecretString | grep -Eq '^[A-Za-z0-9]+$'; then
    awsl secretsmanager put-secret-value --secret-id "$admin_secret_id" \
        --secret-string "$(openssl rand -hex 12)" >/dev/null
    echo "console admin password: replaced the emulator's punctuated value with a generated hex one" >&2
fi
awsl secretsmanager put-secret-value --secret-id "$(stack_output ZammadTokenSecretId)" \
    --secret-string demo-admin-token >/dev/null
awsl secretsmanager put-secret-value --secret-id "$(stack_output KimaiTokenSecretId)" \
    --secret-string demo-admin-token >/dev/null
AWS_ENDPOINT_URL="$MINISTACK_URL" AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
    AWS_REGION=us-east-1 CONTROL_TABLE="$(stack_output ControlTableName)" \
    "$host_bin/seed-demo" \
    --zammad-url "http://127.0.0.1:$ZAMMAD_SIM_PORT" \
    --kimai-url "http://127.0.0.1:$KIMAI_SIM_PORT" \
    --policy "$here/demo-policy.json" >&2

step "first sync"
# A backfill of the last two weeks: an incremental run looks back only a day, and the demo's
# bookings lie anywhere in the past week.
first_sync="$(python3 -c '
import datetime, json
now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
print(json.dumps({"mode": "backfill", "from": (now - datetime.timedelta(days=14)).isoformat(),
                  "to": now.isoformat(), "concurrency": "queue"}))')"
fetch_fn="$(stack_output ScheduledFetchFunctionName)"
if [[ -n "$fetch_fn" ]] && awsl lambda invoke --function-name "$fetch_fn" \
    --payload "$first_sync" "$STACK_DIR/first-sync.json" >"$STACK_DIR/first-sync.meta" 2>&1 &&
    ! grep -q FunctionError "$STACK_DIR/first-sync.meta"; then
    echo "scheduled-fetch answered: $(cat "$STACK_DIR/first-sync.json")" >&2
else
    echo "warning: the first sync did not run cleanly; see $STACK_DIR/first-sync.* and" >&2
    echo "  the function's log: aws logs tail /aws/lambda/$fetch_fn (endpoint $MINISTACK_URL)" >&2
fi

api_id="$(stack_output HttpApiId)"
gateway="$MINISTACK_URL/_aws/execute-api/$api_id"
# The first admin's password, generated on deploy; the api function reads the same secret.
admin_user="$(stack_output ConsoleAdminUser)"
admin_password="$(awsl secretsmanager get-secret-value \
    --secret-id "$(stack_output ConsoleAdminPasswordSecretId)" --query SecretString 2>/dev/null ||
    echo "<not readable: is the api function deployed?>")"
cat >"$STACK_DIR/urls.env" <<URLS
API_URL=$gateway/api
WEBHOOK_URL=$gateway/webhooks/zammad
ZAMMAD_URL=http://127.0.0.1:$ZAMMAD_SIM_PORT
KIMAI_URL=http://127.0.0.1:$KIMAI_SIM_PORT
CHAT_RECEIVER_URL=http://127.0.0.1:$CHAT_RECEIVER_PORT
AWS_ENDPOINT_URL=$MINISTACK_URL
URLS
cat <<DONE

Local stack is up ($((SECONDS - started)) s). Stop it with: make down
  API             $gateway/api/health
  Zammad webhook  $gateway/webhooks/zammad   (secret: Secrets Manager $(stack_output WebhookSecretId))
  Zammad sim      http://127.0.0.1:$ZAMMAD_SIM_PORT   (token demo-admin-token)
  Kimai sim       http://127.0.0.1:$KIMAI_SIM_PORT   (token demo-admin-token)
  Chat receiver   http://127.0.0.1:$CHAT_RECEIVER_PORT/deliveries   (what the notification rule posted)
  AWS emulator    $MINISTACK_URL
  Console admin   user $admin_user, password: $admin_password
                  (generated on deploy: Secrets Manager $(stack_output ConsoleAdminPasswordSecretId);
                   the api function creates the user at its first start; change it after login)
The same values: $STACK_DIR/urls.env and $STACK_DIR/outputs.json
DONE
