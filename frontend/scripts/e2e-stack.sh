#!/usr/bin/env bash
# The browser suite against the local stack that `make up` deployed (same MINISTACK_PORT,
# ZAMMAD_SIM_PORT, KIMAI_SIM_PORT): the console is served here with /api forwarded to the
# stack's API Gateway, logged in as the first admin with the password generated on deploy.
# Runs are processed by the deployed functions, so progress must reach 100 % (E2E_STACK=1); the
# demo tickets (101-107) open conflicts to resolve.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
source "$here/../infra/local-stack/env.sh"
source "$here/../infra/local-stack/lib.sh"

gateway="$MINISTACK_URL/_aws/execute-api/$(stack_output HttpApiId)"
password="$(awsl secretsmanager get-secret-value \
    --secret-id "$(stack_output ConsoleAdminPasswordSecretId)" --query SecretString)"
cd "$here"
[[ -d node_modules ]] || npm ci --no-audit --no-fund
CONSOLE_API_URL="$gateway" CONSOLE_CHAT_URL="http://127.0.0.1:$CHAT_RECEIVER_PORT" CONSOLE_USER="$(stack_output ConsoleAdminUser)" CONSOLE_PASSWORD="$password" \
    ZAMMAD_URL="http://127.0.0.1:$ZAMMAD_SIM_PORT" KIMAI_URL="http://127.0.0.1:$KIMAI_SIM_PORT" \
    E2E_STACK=1 E2E_TICKETS="${E2E_TICKETS:-101,102,103,104,105,106,107}" node e2e/run.mjs
