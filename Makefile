# The targets CI calls (.ci/run runs `make test`). Every target is safe to repeat.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FRONTEND_SOURCES := $(shell find frontend/src -type f 2>/dev/null) frontend/index.html frontend/vite.config.ts frontend/package.json

export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: setup run worker migrate test test-embedded test-production test-frontend test-e2e test-faults lint format lock fake-brevo

setup: $(VENV)/.installed frontend/node_modules/.installed frontend/dist/index.html migrate

$(VENV)/.installed: requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (found " + sys.version.split()[0] + ")")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

frontend/node_modules/.installed: frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund
	touch $@

frontend/dist/index.html: frontend/node_modules/.installed $(FRONTEND_SOURCES)
	cd frontend && npm run build

migrate: $(VENV)/.installed
	$(BIN)/python -m backend migrate

run: setup
	$(BIN)/python -m backend serve

worker: $(VENV)/.installed
	$(BIN)/taskiq worker workers.broker:broker

fake-brevo: $(VENV)/.installed
	$(BIN)/python -m tests.fakes.brevo --port 8025

test: setup test-embedded test-production test-frontend test-e2e test-faults

test-embedded: $(VENV)/.installed
	TEST_MODE=embedded $(BIN)/pytest -m "not e2e and not faults"

test-production: $(VENV)/.installed
	TEST_MODE=production $(BIN)/pytest -m "not e2e and not faults" tests/api

test-frontend: frontend/node_modules/.installed
	cd frontend && npm test

test-e2e: setup
	$(BIN)/pytest -m e2e tests/e2e

# Kills the worker and restarts private Redis and Postgres servers during batches. Needs the
# shared Postgres on 5432, redis-server, and initdb/pg_ctl under /usr/lib/postgresql.
test-faults: $(VENV)/.installed
	TEST_MODE=production $(BIN)/pytest -m faults tests/faults

lint: $(VENV)/.installed frontend/node_modules/.installed
	$(BIN)/ruff check backend workers tests bench
	$(BIN)/ruff format --check backend workers tests bench
	$(BIN)/mypy
	cd frontend && npm run typecheck

format: $(VENV)/.installed
	$(BIN)/ruff check --fix backend workers tests bench
	$(BIN)/ruff format backend workers tests bench

# Regenerate requirements.lock after changing dependencies in pyproject.toml.
lock: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --python $(BIN)/python -o requirements.lock
