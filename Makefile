# KetaCare developer commands. The logic lives in scripts/ (bash).
#   make run     set up, migrate, seed the demo and serve http://127.0.0.1:$(PORT)/
#   make test    migrations check, lint, import contracts, types, then the whole suite on
#                SQLite and on PostgreSQL
#   make bench   the load benchmark on PostgreSQL (scripts/bench; not part of make test)
# Variables: PYTHON=/path/to/python3.12 (interpreter for .venv), PORT=8000,
#            PYTEST_ARGS="-k smoke" (extra pytest arguments), DATABASE_URL (PostgreSQL run).

SHELL := /bin/bash
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PORT ?= 8000
PYTEST_ARGS ?=
BENCH_ARGS ?=
export PYTHON PORT

VENV_BIN := .venv/bin

.PHONY: help run test bench sync lint imports types format migrations-check chromium axe

help:
	@echo "make run               serve the demo at http://127.0.0.1:$(PORT)/ (PORT=..., PYTHON=...)"
	@echo "make test              migrations, lint, imports, types, then all tests on SQLite and PostgreSQL"
	@echo "make bench             seed the scale data set once, serve with gunicorn, drive wrk (BENCH_ARGS=--quick)"
	@echo "make lint              ruff check + ruff format --check"
	@echo "make imports           import-linter: the one-way imports between apps and layers"
	@echo "make types             mypy with django-stubs (strict on the pure clinical modules)"
	@echo "make format            ruff format + ruff check --fix"
	@echo "make migrations-check  fail if a model change has no migration"

run:
	@bash scripts/run

sync:
	@bash scripts/sync

# The load benchmark (issue 14): docs/performance.md. BENCH_ARGS="--quick" for a short check.
bench:
	@bash scripts/bench $(BENCH_ARGS)

lint: sync
	@echo "==> ruff check"
	@$(VENV_BIN)/ruff check .
	@echo "==> ruff format --check"
	@$(VENV_BIN)/ruff format --check .

format: sync
	@$(VENV_BIN)/ruff format .
	@$(VENV_BIN)/ruff check --fix .

imports: sync
	@echo "==> lint-imports (contracts in pyproject.toml [tool.importlinter])"
	@$(VENV_BIN)/lint-imports

types: sync
	@echo "==> mypy (settings in pyproject.toml [tool.mypy])"
	@$(VENV_BIN)/mypy

migrations-check: sync
	@echo "==> manage.py makemigrations --check --dry-run"
	@env -u DATABASE_URL DEBUG=1 $(VENV_BIN)/python manage.py makemigrations --check --dry-run

chromium:
	@bash scripts/ensure-chromium

axe:
	@bash scripts/ensure-axe

test: sync migrations-check lint imports types chromium axe
	@bash scripts/test $(PYTEST_ARGS)
