# The two commands of the README: `make run` (the demo) and `make test` (the whole suite but
# the slow fault test, which `.ci/run` runs on PostgreSQL: `pytest -m slow`).
# Both set up what they need: a virtual environment in .venv with the pinned dependencies.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# pytest-xdist workers: one per core pays off once the suite is larger than its start-up.
TEST_WORKERS ?= auto
# The independent credential verifier (Node) the interop tests run; its tests skip without npm.
NODE_VERIFIER := tools/vc-verifier
NODE_STAMP := $(NODE_VERIFIER)/node_modules/.installed
NPM := $(shell command -v npm 2>/dev/null)

.PHONY: run test install lint format translations messages bench bench-pages bench-verify clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

$(NODE_STAMP): $(NODE_VERIFIER)/package.json $(NODE_VERIFIER)/package-lock.json
	cd $(NODE_VERIFIER) && npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

translations: install
	$(BIN)/python manage.py compiletranslations

run: install translations
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py signing_setup
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py credentials_backfill
	CREDSHARE_DEBUG=$${CREDSHARE_DEBUG:-1} $(BIN)/python manage.py runserver $(HOST):$(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: lint translations $(if $(NPM),$(NODE_STAMP))
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest -n $(TEST_WORKERS) -m "not slow"

# Refresh the French catalog from the code (needs GNU gettext's xgettext).
messages: install
	$(BIN)/python manage.py makemessages --locale fr --no-obsolete --ignore '.venv/*' --ignore 'bench/*'

# Over HTTP on PostgreSQL and gunicorn at 100,000 learners; the seeded database is kept for the
# next run (bench/README.md).
bench: install translations
	$(BIN)/python bench/load.py

# The list pages in-process at 10,000 learners, on SQLite and PostgreSQL.
bench-pages: install translations
	$(BIN)/python bench/pages.py

# Verifications a second beside pdfsig and the Node verifier (bench/README.md).
bench-verify: install $(if $(NPM),$(NODE_STAMP))
	$(BIN)/python bench/verify.py

clean:
	rm -rf $(VENV) var $(NODE_VERIFIER)/node_modules
