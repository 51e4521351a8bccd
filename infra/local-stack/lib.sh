# Helpers of the local stack scripts. Sourced after env.sh.

# awscli v1 ignores AWS_ENDPOINT_URL for some services: always name the endpoint.
awsl() {
    AWS_ENDPOINT_URL="$MINISTACK_URL" AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 \
        "$STACK_TOOLS_VENV/bin/aws" --endpoint-url "$MINISTACK_URL" --output text "$@"
}

# The value of one output of the deployed stack (empty if absent).
stack_output() {
    "$STACK_TOOLS_VENV/bin/python" - "$STACK_DIR/outputs.json" "$1" <<'PY'
import json, sys
outputs = json.load(open(sys.argv[1]))
print(outputs.get(sys.argv[2], ""))
PY
}

# Any HTTP answer at all means the simulator is up. Asked on an admin route, which the
# simulators leave out of their call logs: a probe of `/` showed there as `GET (no route)`.
sim_answers() { [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$1/__admin/concurrency")" != "000" ]]; }
