#!/usr/bin/env bash
# Tests of check.sh: it passes here, and with a tool missing or too old it stops at once,
# naming what is missing and how to get it. Runs with fake tools on a PATH of its own.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
fake="$(mktemp -d)"
trap 'rm -rf "$fake"' EXIT
failures=0

tool() { # name, what it prints for --version
    printf '#!/bin/sh\necho "%s"\n' "$2" >"$fake/$1"
    chmod +x "$fake/$1"
}
# Every tool the script calls besides the checked ones.
for t in bash awk sort head tr id printf cat; do ln -sf "$(command -v "$t")" "$fake/$t"; done
printf '#!/bin/sh\nexec %s "$@"\n' "$(python3 -c "import sys; print(sys.executable)")" >"$fake/python3"
chmod +x "$fake/python3"
tool cargo "cargo 1.91.0"
tool rustc "rustc 1.91.0 (f8297e351 2025-10-28)"
tool node "v20.19.1"
tool npm "10.8.2"
tool curl "curl 8.14.1"
tool chromium "Chromium 131"

expect() { # name, expected status, expected text or "", command...
    local name="$1" status="$2" text="$3"
    shift 3
    local out rc=0
    out="$("$@" 2>&1)" || rc=$?
    if [[ "$rc" != "$status" ]] || [[ -n "$text" && "$out" != *"$text"* ]]; then
        echo "FAIL $name: status $rc, output: $out"
        failures=$((failures + 1))
    else
        echo "PASS $name"
    fi
}

run() { PATH="$fake" PREREQS_NO_INSTALL=1 "$fake/bash" "$here/check.sh" "$@"; }

expect "everything present passes" 0 "" run test
tool node "v20.11.0"
expect "an old Node is named with its version" 1 "Node.js >= 20.19 (found 20.11.0)" run test
tool node "v22.3.0"
rm "$fake/chromium"
expect "no Chromium stops make test" 1 "apt-get install chromium" run test
expect "make up needs no Chromium" 0 "" run up
rm "$fake/cargo"
expect "no cargo names rustup" 1 "https://rustup.rs" run up
tool cargo "cargo 1.91.0"
tool rustc "rustc 1.85.0 (4d91de4e4 2025-02-17)"
expect "an old Rust is named" 1 "Rust >= 1.89 (found 1.85.0)" run up
(( failures == 0 )) || exit 1
