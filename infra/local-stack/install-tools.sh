#!/usr/bin/env bash
# Installs the pinned deploy tools (cfn-lint, awscli, boto3, aws-sam-translator, cargo-lambda with
# Zig) into a project-local virtualenv if missing. Idempotent: with every pin satisfied it does
# nothing.
set -euo pipefail
source "$(dirname "$0")/env.sh"

satisfied() {
    [[ -x "$STACK_TOOLS_VENV/bin/python" ]] || return 1
    "$STACK_TOOLS_VENV/bin/python" - "${STACK_TOOLS[@]}" <<'PY' 2>/dev/null
import importlib.metadata as m, sys
for pin in sys.argv[1:]:
    name, version = pin.split("==")
    if m.version(name) != version:
        sys.exit(1)
PY
}

satisfied && exit 0
mkdir -p "$LOCAL_DIR"
echo "installing deploy tools into $STACK_TOOLS_VENV" >&2
[[ -x "$STACK_TOOLS_VENV/bin/python" ]] || python3 -m venv "$STACK_TOOLS_VENV"
"$STACK_TOOLS_VENV/bin/pip" install --quiet --disable-pip-version-check "${STACK_TOOLS[@]}"
satisfied || {
    echo "the deploy tools did not install as pinned: ${STACK_TOOLS[*]}" >&2
    exit 1
}
