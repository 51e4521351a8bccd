#!/usr/bin/env bash
# Lints template.yaml with cfn-lint (pinned, installed into the project-local deploy-tools
# virtualenv if missing). Exit status is cfn-lint's: non-zero on any error or warning.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../local-stack/env.sh"

"$here/../local-stack/install-tools.sh"
cd "$REPO_ROOT"
"$STACK_TOOLS_VENV/bin/cfn-lint" --format parseable template.yaml
echo "cfn-lint: template.yaml is clean"
