# Developer entry points: `make run` starts the service, `make test` runs every test,
# `make test-fast` the units and app tests on SQLite (about a minute).

PYTHON ?= python3
VENV := .venv
PORT ?= 5000
PYTEST_ARGS ?=

.PHONY: venv venv-run run test test-fast lint bench interop translations review-translations fuzz

# Two stamps: running needs the project and its dependencies only (`pip install -e .`);
# tests, lint and benchmarks also need the test extras. Each stamp depends on
# pyproject.toml, so dependencies are reinstalled when it changes, and only then.
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test

venv: $(TEST_STAMP)
venv-run: $(RUN_STAMP)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --upgrade pip

$(RUN_STAMP): pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/python -m pip install -e .
	touch $@

# The test extras include everything running needs, so this stamp also stands for that one.
$(TEST_STAMP): pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/python -m pip install -e '.[test]'
	touch $@ $(RUN_STAMP)

run: venv-run
	PORT=$(PORT) $(VENV)/bin/python -m reporting

# Every test: the units and app tests spread over every core, then the rest one at a time
# (scripts/run_tests.sh says why).
test: venv interop
	sh scripts/run_tests.sh $(VENV)/bin/python $(PYTEST_ARGS)

# tests/unit and tests/app on SQLite, without the tests marked slow: no PostgreSQL, no real
# processes, no browser. The markers come from the folders (tests/conftest.py). One worker
# per core; a test file stays on one worker, so the files that share a Redis database
# number (one each) never run against each other.
FAST := (unit or app) and not postgresql and not slow
test-fast: venv
	$(VENV)/bin/python -m pytest -m "$(FAST)" -n auto --dist loadfile $(PYTEST_ARGS)

# The input fuzzer at full size: FUZZ_EXAMPLES requests on each database (make test runs
# 1,000 on SQLite and 200 on PostgreSQL). Failing examples are replayed first from .hypothesis/.
FUZZ_EXAMPLES ?= 10000
fuzz: venv
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(VENV)/bin/python -m pytest -s $(PYTEST_ARGS) \
		tests/app/test_fuzz_input.py::test_no_request_gets_a_5xx_or_half_stores

# typage, an independent age implementation with post-quantum keys, for interop tests.
# Without npm those tests skip (and fail under CI=true, where .ci/run installs it).
interop: tests/interop/node_modules/.installed

tests/interop/node_modules/.installed: tests/interop/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix tests/interop --no-audit --no-fund && touch $@; \
	else echo "npm not found: the typage interop tests will be skipped"; fi

# Extract messages, merge them into the Chinese catalogs, compile; then translate what
# tests/unit/test_translations.py names as missing and run it again.
translations: venv
	PYBABEL=$(VENV)/bin/pybabel sh scripts/translations.sh

# For a translation reviewer (docs/translating.md): refresh and check the catalogues, then
# render every reporter page at 360 and 1280 px to build/screenshots/<language>/.
# LANGS=ug,bo limits the screenshots to those languages.
LANGS ?=
review-translations: translations
	SCREENSHOT_LANGUAGES=$(LANGS) $(VENV)/bin/python -m pytest $(PYTEST_ARGS) \
		tests/unit/test_translations.py tests/unit/test_fonts.py tests/browser/test_screenshots.py
	@echo "Screenshots: build/screenshots/"

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy crypto protocol reporting worker caseworker_client receiver bench

bench: venv
	@set -e; for script in bench/*.py; do \
		[ -e "$$script" ] || continue; \
		case "$$script" in bench/_*) continue;; esac; \
		echo "== $$script"; \
		$(VENV)/bin/python "$$script"; \
	done
