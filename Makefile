# The two commands a new user needs:  make serve   and   make test
# Both create .venv and install the project (with the official SDKs the tests drive) on first use.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3.12 2>/dev/null || command -v python3.13 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8080
ARGS   ?=
# make test runs the suite in this many pytest-xdist workers (2 on the 2-core CI machine; TEST_WORKERS=0 runs it in one process)
TEST_WORKERS ?= 2

.PHONY: install serve test test-fast lint services contract specs-check bench dist clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -c 'import sys; assert (3, 11) <= sys.version_info[:2] <= (3, 13), "Python 3.11, 3.12 or 3.13 is required, found " + sys.version'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# the distribution was called "mockserver" before it became "batchfake": drop an old install (two pytest plugins)
	$(BIN)/python -m pip uninstall --quiet --yes mockserver 2>/dev/null || true
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

## serve: install, then serve every provider on http://$(HOST):$(PORT) (Ctrl-C stops)
serve: install
	$(BIN)/mockserver serve --host $(HOST) --port $(PORT) $(ARGS)

## test: install (the project, and the services some tests need), then run the whole suite
test: install services
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(ARGS)

## services: chromium and postgresql from the distribution's packages, where missing (needs root; else skipped)
services:
	@scripts/install-services

## lint: ruff and mypy, configured in pyproject.toml
lint: install
	$(BIN)/python -m ruff check mockserver tests contract_tests benchmarks
	$(BIN)/python -m mypy

## test-fast: the suite without the property-based contract tests
test-fast: install
	$(BIN)/python -m pytest -n $(TEST_WORKERS) tests $(ARGS)

bench: install
	$(BIN)/python benchmarks/bench.py $(ARGS)

## dist: the sdist and the wheel (distribution "batchfake", specs and fixtures inside) in dist/
dist: install
	$(BIN)/python -m build --outdir dist .

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis reports *.egg-info build dist
