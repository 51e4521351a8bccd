#!/usr/bin/env bash
# Checks template.yaml: cfn-lint (pinned, installed into the project-local deploy-tools
# virtualenv if missing; any error or warning fails), the unit tests of the script that
# renders the template for the local emulator and of the IAM check (iam_check.py). The template-vs-schema check is a Rust test
# (cargo nextest run -p local-stack).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../local-stack/env.sh"

"$here/../local-stack/install-tools.sh"
cd "$REPO_ROOT"
"$STACK_TOOLS_VENV/bin/cfn-lint" --format parseable template.yaml
echo "cfn-lint: template.yaml is clean"
cd "$REPO_ROOT/infra/local-stack"
PYTHONDONTWRITEBYTECODE=1 "$STACK_TOOLS_VENV/bin/python" -m unittest test_render_template test_iam_check test_chat_destination
