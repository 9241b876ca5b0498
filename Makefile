# Nærvær — the two commands a fresh machine needs are `make up` and `make test`.
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo "$(HOME)/.local/bin/uv")

.PHONY: help install up test test-fast fmt lint typecheck schemas check-schemas bench

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

install: ## Install uv (if missing) and every workspace package with its dev tools
	@bash scripts/bootstrap.sh

up: install ## Start all four services on the embedded default (SQLite, no Kafka)
	$(UV) run naervaer up

test: install ## Lint, type-check and run every test (starts PostgreSQL and the broker itself)
	@bash scripts/test.sh

fmt: install ## Format the code
	$(UV) run ruff format shared services tests
	$(UV) run ruff check --fix shared services tests

lint: install ## ruff (lint + format check) and import contracts
	$(UV) run ruff check shared services tests
	$(UV) run ruff format --check shared services tests
	$(UV) run lint-imports

typecheck: install ## mypy (strict) on shared/, services/ and the bench/ harness
	$(UV) run mypy

schemas: install ## Regenerate schemas/ from the event models
	$(UV) run naervaer schemas

bench: install ## Run the benchmarks (see BENCHMARKS.md); options: make bench ARGS="--workload 1 --scale small"
	$(UV) run naervaer bench $(ARGS)
