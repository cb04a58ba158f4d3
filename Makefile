# ShopStream Stack — one entry point for users and CI.
#   make run    set up .venv (core pipeline + dbt) and run the whole local road at SF1
#   make test   set up everything (infra, airflow, dashboard, dev tools) and run the test suite
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
# Never download a Python: use the one on this machine.
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)
# Compile every installed module to bytecode once, at install time, as pip does by default. Without it each command
# compiles dbt, Airflow and pyarrow again in memory wherever PYTHONDONTWRITEBYTECODE is set (CI images, containers):
# seconds per `shopstream` or `dbt` start.
export UV_COMPILE_BYTECODE := 1

SCALE ?= 1
# The test suite on every core; modules stay whole on one worker (their module-scoped fixtures are built once).
PYTEST_PARALLEL ?= -n auto --dist loadscope
SEED ?= 42
STACK ?= dev

.PHONY: help run test lint bench airflow dashboard docs clean reset install-core install-all

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(UV):
	@$(PYTHON) -m venv $(TOOLS)
	@$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# The repo's own packages are installed editable, outside site-packages: compileall does them.
install-core: $(UV) ## install the core pipeline and dbt into .venv
	@$(UV) sync --frozen --inexact --quiet
	@$(BIN)/python -m compileall -q pipeline

install-all: $(UV) ## install every part (cloud, infra, airflow, dashboard, dev) into .venv
	@$(UV) sync --frozen --all-extras --all-groups --quiet
	@$(BIN)/python -m compileall -q pipeline infra dashboard dags bench

run: install-core ## run the whole local road: up → generate → extract → load → dbt build → summary
	@$(BIN)/shopstream run --local --stack $(STACK) --scale $(SCALE) --seed $(SEED)

test: lint ## the static checks, then the whole test suite (real PostgreSQL, DuckDB, dbt, Airflow, moto, Chromium)
	@$(BIN)/pytest $(PYTEST_PARALLEL)

# The SQL linter compiles the models with dbt's own templater against the local target. Compiling runs no SQL, so an
# in-memory DuckDB and a throw-away privacy salt (the salting macro refuses to compile without one) are enough.
LINT_SQL_ENV := SHOPSTREAM_DUCKDB_PATH=:memory: SHOPSTREAM_DBT_TARGET=local SHOPSTREAM_PRIVACY_SALT=sql-lint-compiles-only

lint: install-all ## static checks: ruff (style), mypy (types), sqlfluff (dbt SQL), actionlint (CI workflow)
	@echo "ruff"; $(BIN)/ruff check --quiet . && $(BIN)/ruff format --check --quiet .
	@echo "mypy"; $(BIN)/mypy
	@echo "sqlfluff"; out=$$($(LINT_SQL_ENV) $(BIN)/sqlfluff lint --quiet dbt/models 2>&1); status=$$?; \
	  if [ -n "$$out" ]; then echo "$$out"; fi; \
	  if grep -q 'Skipped file' <<< "$$out"; then echo "sqlfluff: a model did not compile (above)"; exit 1; fi; \
	  exit $$status
	@echo "actionlint"; $(BIN)/actionlint

bench: install-all ## benchmarks at SF 1, 10, 100 against the course's baseline, and the test suite → docs/BENCHMARKS.md
	@$(BIN)/python -m bench --test-suite

airflow: install-all ## start Airflow on 127.0.0.1 with this repo's dags/
	@$(BIN)/shopstream airflow --local --stack $(STACK)

dashboard: install-all ## serve the BI dashboard on 127.0.0.1
	@$(BIN)/shopstream dashboard --local --stack $(STACK)

docs: install-core ## generate the dbt docs site
	@$(BIN)/shopstream docs --local --stack $(STACK)

reset: ## stop the local stack and delete its data (.shopstream/$(STACK))
	@if [ -x $(BIN)/shopstream ]; then $(BIN)/shopstream down --local --stack $(STACK) --purge; else rm -rf .shopstream/$(STACK); fi

clean: ## remove the virtual environments and caches (keeps data)
	rm -rf $(VENV) $(TOOLS) .pytest_cache .ruff_cache dbt/target dbt/logs
