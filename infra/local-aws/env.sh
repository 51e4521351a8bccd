# Shared settings of the local AWS emulator scripts. Sourced, not run.
# Everything lives under <repo>/.local (gitignored); nothing is installed system-wide.
LOCAL_AWS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LOCAL_DIR="$LOCAL_AWS_ROOT/.local"
MINISTACK_VERSION="1.5.33"
MINISTACK_VENV="$LOCAL_DIR/ministack-venv"
MINISTACK_PORT="${MINISTACK_PORT:-4566}"
MINISTACK_STATE="$LOCAL_DIR/ministack-$MINISTACK_PORT"
MINISTACK_PIDFILE="$MINISTACK_STATE/ministack.pid"
MINISTACK_LOG="$MINISTACK_STATE/ministack.log"
MINISTACK_URL="http://127.0.0.1:$MINISTACK_PORT"
# "true": the emulator evaluates IAM, and each function runs as its own execution role, so a
# permission the template does not grant is an AccessDenied here as on AWS. The stack scripts
# turn it on (local-stack/env.sh); the adapter tests call as the account root either way.
MINISTACK_AUTH="${MINISTACK_AUTH:-false}"
# Set to a file: the emulator writes down every IAM decision about a function's call there
# (start.sh, ministack_recording.py); how the running emulator records is kept in
# MINISTACK_RECORDING ("<file> enforce=<true|false>", absent when it does not).
MINISTACK_RECORD_CALLS="${MINISTACK_RECORD_CALLS:-}"
MINISTACK_RECORDING="$MINISTACK_STATE/recording"
