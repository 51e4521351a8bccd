# Shared settings of the local stack scripts. Sourced, not run.
# Everything they install or start lives under <repo>/.local (gitignored).
# The stack runs on an emulator that evaluates IAM: every function calls AWS as its own
# execution role, as it will on AWS (MINISTACK_AUTH=false turns it off, to tell a permission
# problem from another one).
export MINISTACK_AUTH="${MINISTACK_AUTH:-true}"
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../local-aws/env.sh"
REPO_ROOT="$LOCAL_AWS_ROOT"

# Deploy tools, pinned, in their own virtualenv (the emulator keeps its own).
STACK_TOOLS_VENV="$LOCAL_DIR/stack-tools-venv"
STACK_TOOLS=(
    "cfn-lint==1.58.0"
    "awscli==1.46.3"
    "boto3==1.44.5"
    "PyYAML==6.0.3"
    # SAM's own translator: the IAM check (iam_check.py) expands policy templates with it.
    "aws-sam-translator==1.115.0"
    "cargo-lambda==1.9.2"
    "ziglang==0.14.1"
)

STACK_NAME="${STACK_NAME:-zammad-kimai-sync}"
# One stack per emulator port: everything a stack writes (outputs, logs, pid files of its
# simulators, the zips it deployed) lives in directories named after that port, so stacks on
# different MINISTACK_PORT / ZAMMAD_SIM_PORT / KIMAI_SIM_PORT run side by side.
STACK_DIR="$LOCAL_DIR/stack-$MINISTACK_PORT"
SIMS_DIR="$LOCAL_DIR/sims-$MINISTACK_PORT"
ARTIFACT_BUCKET="${STACK_NAME}-artifacts"
# Queue timings of the local deploy (template parameters; AWS keeps the defaults 360 s and 5):
# a failed record is retried after 10 s and dead-letters on its third delivery, so retries and
# dead letters show within seconds (the end-to-end suite waits for both).
LOCAL_QUEUE_VISIBILITY_TIMEOUT="${LOCAL_QUEUE_VISIBILITY_TIMEOUT:-10}"
LOCAL_QUEUE_MAX_RECEIVE_COUNT="${LOCAL_QUEUE_MAX_RECEIVE_COUNT:-3}"
# The shared call pace of the local deploy (AWS default: 10 a second each). Higher, so the
# suites' backfills do not wait on it; the pace still runs through the control table.
LOCAL_KIMAI_CALLS_PER_SECOND="${LOCAL_KIMAI_CALLS_PER_SECOND:-40}"
LOCAL_ZAMMAD_CALLS_PER_SECOND="${LOCAL_ZAMMAD_CALLS_PER_SECOND:-40}"
ZAMMAD_SIM_PORT="${ZAMMAD_SIM_PORT:-8081}"
KIMAI_SIM_PORT="${KIMAI_SIM_PORT:-8082}"
# The local stand-in for a chat's incoming webhook (chat_receiver.py): the notification rule
# posts there through an EventBridge API destination, as it would to Slack.
CHAT_RECEIVER_PORT="${CHAT_RECEIVER_PORT:-$((KIMAI_SIM_PORT + 1))}"
# Lambda binaries for the emulator: built for this machine with the `lambdalocal` profile (defined in build-functions.sh).
LAMBDA_PROFILE="lambdalocal"
# Where the function builds go. CI may point this at a directory that survives fresh clones
# (e.g. under $HOME/.cache) so only changed crates rebuild.
LAMBDA_TARGET_DIR="${LAMBDA_TARGET_DIR:-$REPO_ROOT/target}"
LAMBDA_ZIPS="$LAMBDA_TARGET_DIR/lambda"
# This stack's own copy of the zips, taken under the build lock (build-functions.sh): another
# stack's build cannot change them between build and deploy.
STACK_ZIPS="$STACK_DIR/lambda"
