# Shared by the stack scripts that bring up a local stack with a generated world instead of the
# demo data (stack-bench.sh, the soak scripts). Sourced after local-stack/env.sh and lib.sh.

# Every API route kimai-sim serves: its faults are set per route.
KIMAI_API_ROUTES=(
    "GET /api/timesheets" "POST /api/timesheets" "GET /api/timesheets/{id}"
    "PATCH /api/timesheets/{id}" "DELETE /api/timesheets/{id}"
    "GET /api/customers" "POST /api/customers" "GET /api/customers/{id}" "PATCH /api/customers/{id}"
    "GET /api/projects" "POST /api/projects" "GET /api/projects/{id}" "PATCH /api/projects/{id}"
    "GET /api/activities" "POST /api/activities" "GET /api/activities/{id}" "PATCH /api/activities/{id}"
    "GET /api/users" "GET /api/users/me" "GET /api/users/{id}" "PATCH /api/users/{id}"
    "GET /api/tags" "POST /api/tags" "GET /api/tags/find" "DELETE /api/tags/{id}"
    "GET /api/ping" "GET /api/version"
)

# Every Kimai route answers `latency_ms` later (faults as they were otherwise cleared).
kimai_latency() { # kimai-url latency-ms
    local route
    for route in "${KIMAI_API_ROUTES[@]}"; do
        ROUTE="$route" python3 -c '
import json, os, sys
print(json.dumps({"route": os.environ["ROUTE"], "latency_ms": int(sys.argv[1]), "rules": []}))
' "$2" | curl -fsS -X PUT -H 'Content-Type: application/json' --data-binary @- "$1/__admin/faults"
    done
}

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
# working day (zones east of UTC book before midnight UTC) to the day after its last week (zones
# west of UTC book after midnight UTC), or now if that is earlier. The window is the world's own,
# so reconcile reads Kimai once for it (a window over 93 days is read per ticket).
world_range() { # chosen.json
    python3 - "$1" <<'PY'
import datetime, json, sys
c = json.load(open(sys.argv[1]))
start = datetime.date.fromisoformat(c["start"])
utc = datetime.timezone.utc
frm = datetime.datetime.combine(start - datetime.timedelta(days=1), datetime.time(), utc)
end = datetime.datetime.combine(start + datetime.timedelta(weeks=c["weeks"], days=1), datetime.time(), utc)
now = datetime.datetime.now(utc).replace(microsecond=0)
print(frm.isoformat(), min(end, now).isoformat(), c["busiest_tickets"][0])
PY
}
