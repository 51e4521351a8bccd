# Shared by the soak scripts (soak-limits.sh, soak-chaos.sh), sourced after the local stack's
# env.sh and lib.sh and the bench's world.sh, from the repository root. They set `stack`,
# `bench_dir` and `WORK` first.

step() { printf '\n==> %s\n' "$*" >&2; }

# The deploy tools, then the harness's own binaries; sets `host_bin` and `bench`.
soak_tools() {
    "$stack/install-tools.sh"
    export PATH="$STACK_TOOLS_VENV/bin:$PATH"
    step "stack-bench, the simulators and the seeding tool"
    cargo build --quiet -p stack-bench -p zammad-sim -p kimai-sim -p local-stack
    host_bin="$(world_host_bin)/debug"
    bench="$host_bin/stack-bench"
}

# Both simulators with the world in $WORK/data, the stack (IAM evaluated), and the benchmark's
# mappings. Sets `stack_started` first, so the caller's cleanup stops what was started.
soak_world_stack() {
    step "simulators with the world (ports $ZAMMAD_SIM_PORT, $KIMAI_SIM_PORT)"
    stack_started=1
    start_world_sim "$host_bin" zammad-sim "$ZAMMAD_SIM_PORT" "$WORK/data/zammad.json"
    start_world_sim "$host_bin" kimai-sim "$KIMAI_SIM_PORT" "$WORK/data/kimai.json"

    step "the local stack on port $MINISTACK_PORT (log: $WORK/up.log)"
    local up_began=$SECONDS
    "$stack/up.sh" >"$WORK/up.log" 2>&1 || { tail -n 40 "$WORK/up.log" >&2; exit 1; }
    echo "up in $((SECONDS - up_began)) s" >&2

    step "mappings: every organisation to its customer's Support project"
    AWS_ENDPOINT_URL="$MINISTACK_URL" AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
        AWS_REGION=us-east-1 CONTROL_TABLE="$(stack_output ControlTableName)" \
        "$host_bin/seed-demo" --zammad-url "http://127.0.0.1:$ZAMMAD_SIM_PORT" \
        --kimai-url "http://127.0.0.1:$KIMAI_SIM_PORT" --policy "$bench_dir/bench-policy.json" >&2
}

# One check, printed PASS or FAIL and counted.
passed=0
failed=0
check() { # name ok(0/1) detail
    if [[ $2 == 1 ]]; then
        echo "PASS $1: $3"
        passed=$((passed + 1))
    else
        echo "FAIL $1: $3"
        failed=$((failed + 1))
    fi
}
