#!/usr/bin/env bash
# The deployed stack's benchmark (docs/benchmarks.md, section "Deployed stack"):
#  1. the five functions built with the release profile for x86_64 (ARM64=1: for arm64 too),
#     their binary and zip sizes;
#  2. for each Kimai latency in $LATENCIES, a fresh local stack on its own ports with a demo
#     world of exactly $ACCOUNTINGS accountings, a backfill through scheduled-fetch as the
#     scheduler would start it, then a no-change rerun of the same window (what a verify sweep
#     costs): time to idle against calls × latency ÷ writer concurrency, Kimai and Zammad
#     calls per route, the AWS calls the emulator recorded, and what they cost on AWS;
#  3. cold starts of every release bootstrap (and, for comparison, the lambdalocal ones the
#     stack runs) behind stack-bench's local Runtime API, against the stack's resources:
#     init time, first event, peak RSS; $RUNS counted runs each, median and max.
# Prints the tables and writes them to $WORK/results.md. Stops what it started, whatever happens.
#
# Variables: MINISTACK_PORT (4598), ZAMMAD_SIM_PORT (18181), KIMAI_SIM_PORT (18182),
# ACCOUNTINGS (2000), WEEKS (12), LATENCIES ("20 150": ms per Kimai call, one stack each),
# WRITER_CONCURRENCY (2, the template's default), SYNC_ONLY (0; 1: only part 2, no release
# builds and no cold starts), RUNS (7), ARM64 (0), KEEP_BUILD (0: the release target
# directories are deleted at the end, they are large), REUSE_BUILD (0; 1: measure the release
# binaries already built instead of building), BENCH_TARGET_DIR (target/bench-release).
set -euo pipefail
export MINISTACK_PORT="${MINISTACK_PORT:-4598}"
export ZAMMAD_SIM_PORT="${ZAMMAD_SIM_PORT:-18181}"
export KIMAI_SIM_PORT="${KIMAI_SIM_PORT:-18182}"
here="$(cd "$(dirname "$0")" && pwd)"
stack="$here/../local-stack"
source "$stack/env.sh"
source "$stack/lib.sh"
source "$here/world.sh"
cd "$REPO_ROOT"

ACCOUNTINGS="${ACCOUNTINGS:-2000}"
WEEKS="${WEEKS:-12}"
LATENCIES="${LATENCIES:-20 150}"
WRITER_CONCURRENCY="${WRITER_CONCURRENCY:-2}"
RUNS="${RUNS:-7}"
ARM64="${ARM64:-0}"
KEEP_BUILD="${KEEP_BUILD:-0}"
REUSE_BUILD="${REUSE_BUILD:-0}"
SYNC_ONLY="${SYNC_ONLY:-0}"
BENCH_TARGET_DIR="${BENCH_TARGET_DIR:-$REPO_ROOT/target/bench-release}"
WORK="$LOCAL_DIR/bench-$MINISTACK_PORT"
FUNCTIONS=(webhook-ingest scheduled-fetch reconcile kimai-writer api)
declare -A LOGICAL=(
    [webhook-ingest]=WebhookIngestFunction [scheduled-fetch]=ScheduledFetchFunction
    [reconcile]=ReconcileFunction [kimai-writer]=KimaiWriterFunction [api]=ApiFunction
)
step() { printf '\n==> %s\n' "$*" >&2; }
mkdir -p "$WORK" "$SIMS_DIR"
results="$WORK/results.md"
: >"$results"
out() { tee -a "$results"; }

stack_started=0
cleanup() {
    local status=$?
    if [[ $stack_started == 1 ]]; then
        step "stopping the stack on port $MINISTACK_PORT"
        "$stack/down.sh" || true
    fi
    if [[ $KEEP_BUILD != 1 ]]; then
        rm -rf "$BENCH_TARGET_DIR" "$BENCH_TARGET_DIR-arm64"
    fi
    exit "$status"
}
trap cleanup EXIT

"$stack/install-tools.sh"
export PATH="$STACK_TOOLS_VENV/bin:$PATH"
export GIT_COMMIT="${GIT_COMMIT:-$(git rev-parse --short HEAD)}"

# ---------------------------------------------------------------- 1. release builds and sizes
packages=()
for f in "${FUNCTIONS[@]}"; do packages+=(-p "$f"); done
build_release() { # arch flag target-dir
    local arch="$1" flag="$2" dir="$3" began=$SECONDS
    if [[ $REUSE_BUILD == 1 && -d "$dir/lambda" ]]; then
        echo "$arch: reusing the release build in $dir (REUSE_BUILD=1)" >&2
        return
    fi
    step "release build, $arch (profile release: opt-level s, fat LTO, one codegen unit, strip)"
    CARGO_TARGET_DIR="$dir" cargo lambda build --release "$flag" --output-format zip \
        "${packages[@]}" >"$WORK/build-$arch.log" 2>&1 ||
        { tail -n 30 "$WORK/build-$arch.log" >&2; exit 1; }
    echo "$arch: built in $((SECONDS - began)) s (a no-op when nothing changed)" >&2
}
size_rows() { # arch target-triple target-dir
    local arch="$1" triple="$2" dir="$3" f bin zip inside
    for f in "${FUNCTIONS[@]}"; do
        bin="$dir/$triple/release/$f"
        zip="$dir/lambda/$f/bootstrap.zip"
        # The zip must hold exactly this binary as `bootstrap`.
        inside="$(unzip -l "$zip" bootstrap | awk 'NR==4 {print $1}')"
        [[ "$inside" == "$(stat -c %s "$bin")" ]] ||
            { echo "$zip does not hold $bin ($inside bytes)" >&2; exit 1; }
        awk -v f="$f" -v a="$arch" -v b="$(stat -c %s "$bin")" -v z="$(stat -c %s "$zip")" \
            'BEGIN { printf "| %s | %s | %.2f MiB | %.2f MiB |\n", f, a, b / 1048576, z / 1048576 }'
    done
}
if [[ $SYNC_ONLY != 1 ]]; then
build_release x86_64 --x86-64 "$BENCH_TARGET_DIR"
[[ $ARM64 == 1 ]] && build_release arm64 --arm64 "$BENCH_TARGET_DIR-arm64"
{
    echo "## Bootstrap sizes (release profile)"
    echo
    echo "| function | arch | binary | zip |"
    echo "|---|---|---:|---:|"
    size_rows x86_64 x86_64-unknown-linux-gnu "$BENCH_TARGET_DIR"
    [[ $ARM64 == 1 ]] && size_rows arm64 aarch64-unknown-linux-gnu "$BENCH_TARGET_DIR-arm64"
    true
} | out
fi

# ---------------------------------------------------------------- 2. the stack and its data
step "stack-bench, the simulators and the seeding tool"
cargo build --quiet -p stack-bench -p zammad-sim -p kimai-sim -p local-stack
host_bin="$(world_host_bin)/debug"
bench="$host_bin/stack-bench"

step "a demo world of exactly $ACCOUNTINGS accountings"
"$bench" dataset --accountings "$ACCOUNTINGS" --weeks "$WEEKS" --out "$WORK/data" >"$WORK/chosen.json"
cat "$WORK/chosen.json" >&2
read -r from to ticket < <(world_range "$WORK/chosen.json")

export AWS_ENDPOINT_URL="$MINISTACK_URL" AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
    AWS_REGION=us-east-1
deployed_name() {
    awsl cloudformation describe-stack-resources --stack-name "$STACK_NAME" \
        --logical-resource-id "${LOGICAL[$1]}" --query 'StackResources[0].PhysicalResourceId'
}

# A fresh stack with the world: the simulators first, then up.sh, then the mappings.
world_stack() {
    step "simulators with the generated world (ports $ZAMMAD_SIM_PORT, $KIMAI_SIM_PORT)"
    stack_started=1
    start_world_sim "$host_bin" zammad-sim "$ZAMMAD_SIM_PORT" "$WORK/data/zammad.json"
    start_world_sim "$host_bin" kimai-sim "$KIMAI_SIM_PORT" "$WORK/data/kimai.json"

    step "the local stack on port $MINISTACK_PORT (make up; log: $WORK/up.log)"
    "$stack/up.sh" >"$WORK/up.log" 2>&1 || { tail -n 40 "$WORK/up.log" >&2; exit 1; }

    step "the benchmark's mappings (every organisation to its customer's Support project)"
    CONTROL_TABLE="$(stack_output ControlTableName)" \
        "$host_bin/seed-demo" --zammad-url "http://127.0.0.1:$ZAMMAD_SIM_PORT" \
        --kimai-url "http://127.0.0.1:$KIMAI_SIM_PORT" --policy "$here/bench-policy.json" >&2
}

# The emulator writes down every call the functions make (IAM evaluated, as on AWS): with its
# log, that is what the cost tables are computed from.
export MINISTACK_RECORD_CALLS="$WORK/aws-calls.jsonl"
rm -f "$MINISTACK_RECORD_CALLS"
first_latency=1
for latency in $LATENCIES; do
    if [[ $first_latency == 0 ]]; then
        step "a fresh stack and world for the next latency"
        "$stack/down.sh" >&2
    fi
    first_latency=0
    world_stack
    kimai_latency "http://127.0.0.1:$KIMAI_SIM_PORT" "$latency"
    step "sync of $ACCOUNTINGS accountings with Kimai answering in $latency ms: backfill $from .. $to, then a no-change rerun"
    {
        echo
        echo "## Sync through the local stack ($ACCOUNTINGS accountings, lambdalocal bootstraps, Kimai $latency ms a call)"
        "$bench" sync --zammad-url "http://127.0.0.1:$ZAMMAD_SIM_PORT" \
            --kimai-url "http://127.0.0.1:$KIMAI_SIM_PORT" \
            --fetch-function "$(deployed_name scheduled-fetch)" \
            --control-table "$(stack_output ControlTableName)" \
            --work-queue "ticket-sync=$(stack_output TicketSyncQueueUrl)" \
            --work-queue "kimai-write=$(stack_output KimaiWriteQueueUrl)" \
            --dead-letter-queue "ticket-sync-dlq=$(stack_output TicketSyncDeadLetterQueueUrl)" \
            --dead-letter-queue "kimai-write-dlq=$(stack_output KimaiWriteDeadLetterQueueUrl)" \
            --kimai-latency-ms "$latency" --writer-concurrency "$WRITER_CONCURRENCY" \
            --accountings "$ACCOUNTINGS" \
            --aws-calls "$MINISTACK_RECORD_CALLS" --emulator-log "$MINISTACK_LOG" \
            --from "$from" --to "$to" --out "$WORK/sync-$latency.json"
    } | out
    curl -fsS -X DELETE "http://127.0.0.1:$KIMAI_SIM_PORT/__admin/faults"
done

# ---------------------------------------------------------------- 3. cold starts
if [[ $SYNC_ONLY == 1 ]]; then
    step "done (SYNC_ONLY=1); results in $results"
    exit 0
fi
cold() { # build-label path-of-function-dir...
    local build="$1" root="$2" args=() f
    for f in "${FUNCTIONS[@]}"; do
        args+=(--function "$f=$(deployed_name "$f")=$root/$f")
    done
    "$bench" cold-init --build "$build" --runs "$RUNS" --ticket "$ticket" \
        --log-dir "$WORK/cold-logs" --out "$WORK/cold-$build.json" "${args[@]}"
}
# The stack's own (lambdalocal) bootstraps, unpacked from the zips it deployed.
for f in "${FUNCTIONS[@]}"; do
    mkdir -p "$WORK/lambdalocal"
    unzip -o -q -p "$STACK_ZIPS/$f/bootstrap.zip" bootstrap >"$WORK/lambdalocal/$f"
    chmod +x "$WORK/lambdalocal/$f"
done
step "cold starts: $RUNS runs per function, release and lambdalocal builds"
{
    echo
    echo "## Cold starts (x86_64, $RUNS runs each after one uncounted)"
    echo
    cold release "$BENCH_TARGET_DIR/x86_64-unknown-linux-gnu/release"
    cold lambdalocal "$WORK/lambdalocal" | tail -n +3
} | out

step "done; results in $results"
