# Developer entry points: `make run` starts the service, `make test` runs the tests.

PYTHON ?= python3
VENV := .venv
PORT ?= 5000
PYTEST_ARGS ?=

.PHONY: venv run test lint bench

venv: $(VENV)/.installed

# The stamp depends on pyproject.toml, so dependencies are reinstalled only when it changes.
$(VENV)/.installed: pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --upgrade pip
	$(VENV)/bin/python -m pip install -e '.[test]'
	touch $@

run: venv
	PORT=$(PORT) $(VENV)/bin/python -m reporting

test: venv
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy crypto reporting worker

bench: venv
	@set -e; for script in bench/*.py; do \
		[ -e "$$script" ] || continue; \
		echo "== $$script"; \
		$(VENV)/bin/python "$$script"; \
	done
