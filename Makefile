# The stable interface for people and CI. Every target installs what it needs first.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# Project-local tools (virtualenvs, emulator state) live here; never committed.
LOCAL := $(CURDIR)/.local

.PHONY: help prereqs e2e test test-console test-console-local test-rust test-template test-stack up down lint bench tools-rust conformance zammad-sim kimai-sim console-api demo-data local-aws-up local-aws-down soak-limits soak soak-small test-soak fuzz

help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

tools-rust: ## Install the Rust test runner if missing
	@command -v cargo-nextest >/dev/null || cargo install --locked cargo-nextest

prereqs: ## Check (and on Debian as root, install) what make test needs; stops at once naming what is missing
	infra/prereqs/check.sh test

test: prereqs tools-rust test-rust test-template test-console test-stack test-soak ## Run every test suite of the project

# The AWS adapter tests need the emulator: this starts it if needed and stops it afterwards,
# whether the tests pass or fail.
test-rust:
	infra/local-aws/with-emulator.sh cargo nextest run --workspace --no-fail-fast

test-template: ## cfn-lint over template.yaml, the template render script's tests, the prerequisites check's tests
	infra/local-aws/lint-template.sh
	infra/prereqs/check_test.sh

# The browser suite runs on the deployed stack, in test-stack (frontend/scripts/e2e-stack.sh).
test-console: ## Web console: install, lint, unit tests, build (no secrets in the bundle), typed client vs the API's OpenAPI document
	cd frontend && npm ci --no-audit --no-fund && npm run lint && npm test && npm run build
	cargo run -q -p console-api --example openapi_json | (cd frontend && node scripts/api-types.mjs check -)

test-console-local: ## The console's browser suite against the console API example (quick, no stack)
	frontend/scripts/e2e-local.sh

# Runs after test-rust: both use the emulator's port.
test-stack: ## Deploy the local stack to the emulator, smoke-test it through API Gateway, run the end-to-end suite and the console's browser suite
	infra/local-stack/smoke.sh

up: ## The whole product locally: emulator, the five functions, both simulators, demo settings, the console
	infra/prereqs/check.sh up
	infra/local-stack/up.sh
	frontend/scripts/console.sh up

e2e: tools-rust ## The end-to-end suite against the running local stack (after make up, same ports)
	infra/local-stack/e2e.sh

down: ## Stop what `make up` started
	frontend/scripts/console.sh down
	infra/local-stack/down.sh

local-aws-up: ## Start the local AWS emulator (pinned) on 127.0.0.1:4566
	infra/local-aws/start.sh

local-aws-down: ## Stop the local AWS emulator
	infra/local-aws/stop.sh

# make test runs the short version (512 cases per target, infra/fuzz/tests/short.rs).
FUZZ_SECONDS ?= 60
fuzz: tools-rust ## Fuzz each target (webhook, Zammad and Kimai answers, mappings CSV) for FUZZ_SECONDS (60) seconds; results in docs/security.md
	cargo run -q -p fuzz -- --seconds $(FUZZ_SECONDS)

lint: ## Formatting and clippy, as CI runs them
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --all-features -- -D warnings

# The recorded real responses live beside the repository, in ../shared/fixtures.
CONFORMANCE_FIXTURES ?= $(abspath $(CURDIR)/../shared/fixtures)

conformance: tools-rust ## Clients and simulators against real recorded responses (needs ../shared/fixtures)
	CONFORMANCE_FIXTURES=$(CONFORMANCE_FIXTURES) cargo nextest run -p zammad-client -p kimai-client \
		--features zammad-client/conformance,kimai-client/conformance -E 'binary(conformance)'

zammad-sim: ## Run the Zammad simulator with demo data on 127.0.0.1:8081
	cargo run -p zammad-sim -- --dataset infra/zammad-sim/demo/dataset.json

demo-data: ## Generate larger seeded demo datasets into .local/demo (zammad.json, kimai.json); ARGS="--unit hours --seed 7"
	cargo run -p demo-data -- --out $(LOCAL)/demo $(ARGS)

console-api: ## Run the console API locally (in-memory stores, both simulators) on 127.0.0.1:8090
	cargo run -p console-api --example local -- 8090

kimai-sim: ## Run the Kimai simulator with demo data on 127.0.0.1:8082
	cargo run -p kimai-sim -- --dataset infra/kimai-sim/data/demo.json --port 8082

bench: ## Benchmarks: the planner, then the deployed stack (release bootstraps, cold starts, a 2,000-accounting sync on ports 4598/18181/18182); results go to docs/benchmarks.md by hand
	cargo run --profile bench -p sync-core --example planner_bench
	infra/bench/stack-bench.sh

soak: ## Chaos soak: 10,000 accountings synced while both simulators inject faults, Zammad changes, webhooks repeat and bootstraps are killed, then checked against an oracle (ports 4630/18630/18631); ACCOUNTINGS, SEED, KILLS and the fault shares
	infra/soak/soak-chaos.sh

soak-small: ## The chaos soak with 500 accountings (what make test runs)
	ACCOUNTINGS=500 KILL_EVERY_SECS=15 infra/soak/soak-chaos.sh

test-soak: soak-small

soak-limits: ## Limits harness: a console backfill of 5,000 tickets against a slow Kimai with 429s on its own stack (ports 4620/18620/18621); TICKETS, KIMAI_LATENCY_MS, RATE_LIMIT_SHARE, RETRY_AFTER_SECS
	infra/soak/soak-limits.sh
