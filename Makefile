# Vigencia — `make run` to try it, `make test` to check it. Both install what they need first.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PORT ?= 8000
HOST ?= 127.0.0.1
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
VENV := .venv/bin
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help setup run test lint typecheck pytest browser messages clean

help:
	@echo "make run   - install, migrate, load the demo catalog, start web + worker"
	@echo "make test  - install, lint, type-check and run the whole test suite"

setup: ## install everything from the lock file (idempotent)
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	@$(UV) sync --frozen --quiet
	@command -v msgfmt >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq gettext >/dev/null; }
	@$(VENV)/vigencia compilemessages --ignore=.venv --verbosity 0

browser: ## Debian's Chromium for the Playwright browser tests
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; }

run: setup
	@$(VENV)/python -c 'import socket; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("$(HOST)", $(PORT)))' 2>/dev/null \
	  || { echo "Port $(PORT) on $(HOST) is taken (is Vigencia already running?). Stop it, or choose another: PORT=9000 make run" >&2; exit 1; }
	@$(VENV)/vigencia migrate --noinput --verbosity 0
	@$(VENV)/vigencia seed_demo
	@$(VENV)/vigencia collectstatic --noinput --verbosity 0
	@echo ""
	@echo "  Vigencia is starting at http://$(HOST):$(PORT)/  (API docs: http://$(HOST):$(PORT)/api/v1/docs)"
	@echo "  Demo logins (password for all: vigencia-demo):"
	@echo "    subscriber  ana@demo.vigencia.pe    (zh-Hans: li.wei@demo.vigencia.pe)"
	@echo "    operator    operator@demo.vigencia.pe   back office: http://$(HOST):$(PORT)/admin/"
	@echo "    support     support@demo.vigencia.pe"
	@echo "    store agent agent@demo.vigencia.pe"
	@echo "    reseller    reseller@demo.vigencia.pe"
	@echo ""
# honcho gives each process its own PORT (worker +100, scheduler +200): the links in the emails the worker
# and the scheduler send must name the web server's.
	@VIGENCIA_SECURE_COOKIES=0 VIGENCIA_HSTS_SECONDS=0 VIGENCIA_SITE_URL=$${VIGENCIA_SITE_URL:-http://$(HOST):$(PORT)} HOST=$(HOST) PORT=$(PORT) $(VENV)/honcho start -f Procfile

lint: setup
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .

typecheck: setup
	$(VENV)/mypy vigencia

pytest: setup browser
	$(VENV)/pytest -q $(PYTEST_ARGS)

test: lint typecheck pytest

messages: setup ## refresh the translation catalogs after changing strings
	$(VENV)/vigencia makemessages --all --ignore=.venv --ignore=tests --no-obsolete
	$(VENV)/vigencia compilemessages --ignore=.venv

clean:
	rm -rf .venv var .pytest_cache .mypy_cache .ruff_cache
