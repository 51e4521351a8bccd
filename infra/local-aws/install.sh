#!/usr/bin/env bash
# Installs the pinned AWS emulator (MiniStack, PyPI) into a project-local virtualenv if missing.
# Idempotent: a second run with the right version installed does nothing.
set -euo pipefail
source "$(dirname "$0")/env.sh"

installed_version() {
    "$MINISTACK_VENV/bin/python" -c \
        'import importlib.metadata as m; print(m.version("ministack"))' 2>/dev/null || true
}

if [[ "$(installed_version)" == "$MINISTACK_VERSION" ]]; then
    exit 0
fi
mkdir -p "$LOCAL_DIR"
echo "installing ministack $MINISTACK_VERSION into $MINISTACK_VENV" >&2
python3 -m venv "$MINISTACK_VENV"
"$MINISTACK_VENV/bin/pip" install --quiet --disable-pip-version-check \
    "ministack[full]==$MINISTACK_VERSION"
[[ "$(installed_version)" == "$MINISTACK_VERSION" ]] || {
    echo "ministack $MINISTACK_VERSION did not install" >&2
    exit 1
}
