# The two commands of the README's quick start, and what they stand on.
# Everything installs into .venv from requirements.lock (the whole pinned tree).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/tender_desk

.PHONY: install demo test lint

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	touch $(STAMP)

install: $(STAMP)

# The embedded demo: an SQLite file, the local Redis as broker, web + worker + beat.
demo: install
	$(BIN)/python manage.py migrate --verbosity 0
	$(BIN)/python manage.py seed_offer --live --skip-if-loaded
	$(BIN)/python manage.py rundemo

# The browser tests drive Debian's Chromium (Playwright's own browser download does not
# work here); install it once if the machine lacks it.
/usr/bin/chromium:
	command -v apt-get >/dev/null || { echo "Install Chromium at /usr/bin/chromium"; exit 1; }
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null

# axe-core, which the browser tests inject into each page (package.json pins it; the
# lock file fixes the exact tarball). npm comes from Debian where the machine lacks it.
AXE := node_modules/axe-core/axe.min.js
$(AXE): package.json package-lock.json
	command -v npm >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; }
	npm ci --no-audit --no-fund --ignore-scripts
	touch $(AXE)

# The rooms' import contracts (pyproject.toml), then the whole suite on PostgreSQL (the
# slow, real-parts tests included).
test: install /usr/bin/chromium $(AXE)
	$(BIN)/lint-imports --no-cache
	DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/python -m pytest -p no:cacheprovider

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
