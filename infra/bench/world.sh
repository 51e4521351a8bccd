# Shared by the stack scripts that bring up a local stack with a generated world instead of the
# demo data (stack-bench.sh, ../soak/soak-limits.sh). Sourced after local-stack/env.sh and lib.sh.

# The host binaries (simulators, stack-bench, seed-demo), built by the caller.
world_host_bin() {
    cargo metadata --format-version 1 --no-deps |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])'
}

# The simulators start with the generated world before `up.sh` runs: up.sh keeps simulators it
# finds running under its pid files (and down.sh stops them), so the stack never sees the
# small demo data and its first (incremental) sync finds nothing in this older world.
start_world_sim() { # host-bin-dir name port dataset
    local bin="$1" name="$2" port="$3" dataset="$4" pidfile="$SIMS_DIR/$2.pid"
    if sim_answers "$port"; then
        echo "port $port is in use; stop what runs there or choose other ports" >&2
        exit 1
    fi
    setsid nohup "$bin/$name" --dataset "$dataset" --port "$port" \
        >"$SIMS_DIR/$name.log" 2>&1 </dev/null &
    echo $! >"$pidfile"
    for _ in $(seq 1 50); do sim_answers "$port" && return; sleep 0.2; done
    echo "$name did not start; see $SIMS_DIR/$name.log" >&2
    exit 1
}

# "from to busiest-ticket" of a generated world (chosen.json): from the day before its first
# working day (zones east of UTC book before midnight UTC) to now.
world_range() { # chosen.json
    python3 - "$1" <<'PY'
import datetime, json, sys
c = json.load(open(sys.argv[1]))
start = datetime.date.fromisoformat(c["start"])
frm = datetime.datetime.combine(start - datetime.timedelta(days=1), datetime.time(), datetime.timezone.utc)
now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
print(frm.isoformat(), now.isoformat(), c["busiest_tickets"][0])
PY
}
