# 安徽省基层思想政治工作示范点管理平台 — the two commands are `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help run test install install-backend install-frontend build migrate seed serve openapi client \
        system-pdf system-test system-browser \
        test-backend test-frontend test-e2e lint fmt worker bench bench-deadline clean

help:
	@echo "make run    — install, build the SPA, migrate, seed demo data, serve on http://$(HOST):$(PORT)"
	@echo "make test   — install and run every test (backend on SQLite [+ PostgreSQL with TEST_DATABASE_URL], frontend, browser)"
	@echo "make openapi — regenerate openapi/openapi.json and the SPA's typed client"
	@echo "make lint   — ruff, mypy, vue-tsc, eslint"
	@echo "make worker — the webhook delivery worker (make run starts one beside the API)"
	@echo "make bench  — benchmarks (figures in benchmarks/README.md)"
	@echo "make bench-deadline — the deadline-day benchmark alone (BENCH_SECONDS, BENCH_CLIENTS: benchmarks/README.md)"

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install-backend: $(VENV)/.installed

frontend/node_modules/.installed: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	touch $@

install-frontend: frontend/node_modules/.installed

install: install-backend install-frontend

# Debian packages, installed (as root, or with a password-less sudo) before the step that needs
# them; otherwise the script stops and prints the apt-get command to run (scripts/ensure-system.sh).
system-pdf:
	scripts/ensure-system.sh pdf

system-test:
	scripts/ensure-system.sh test

system-browser:
	scripts/ensure-system.sh browser

build: install-frontend
	cd frontend && npm run build

migrate: install-backend
	$(VENV)/bin/alembic upgrade heads

seed: migrate
	$(PY) -m demosites.cli seed --demo

serve:
	HOST=$(HOST) PORT=$(PORT) scripts/serve.sh

worker: install-backend
	$(PY) -m demosites.integration.worker

run: install system-pdf build seed
	DEMO_MODE=1 $(MAKE) --no-print-directory serve

openapi: install-backend
	$(PY) -m demosites.cli openapi
	@if [ -d frontend/node_modules ]; then cd frontend && npm run gen:api; fi

client: install-frontend
	cd frontend && npm run gen:api

test: test-backend test-frontend test-e2e

test-backend: install-backend system-test
	$(VENV)/bin/pytest -p no:randomly $(PYTEST_ARGS)

test-frontend: install-frontend
	cd frontend && npm run typecheck && npm run lint && npm run test:unit

test-e2e: install build system-browser
	cd frontend && npm run size
	scripts/e2e.sh

lint: install
	$(VENV)/bin/ruff check backend tests
	$(VENV)/bin/mypy backend/demosites
	cd frontend && npm run typecheck && npm run lint

bench: install-backend
	@command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk"; exit 1; }
	$(PY) benchmarks/http/bench_http.py
	$(PY) benchmarks/ledger/bench_ledger.py
	$(PY) benchmarks/documents/bench_import.py
	$(PY) benchmarks/deadline/bench_deadline.py

# Deadline day: PostgreSQL at BENCH_ADMIN_URL and the virtualenv, nothing else (the script says what is missing).
bench-deadline: install-backend
	$(PY) benchmarks/deadline/bench_deadline.py

fmt: install-backend
	$(VENV)/bin/ruff format backend tests
	$(VENV)/bin/ruff check --fix backend tests

clean:
	rm -rf $(VENV) frontend/node_modules frontend/dist var/test-*
