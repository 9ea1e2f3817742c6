# The two commands: `make run` (the local stack) and `make test` (lint + the whole suite).
# Both create .venv from the requirements files first when it is missing or out of date.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test check lint format fuzz bench clean

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11 or newer is needed (set PYTHON=...)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@touch $(STAMP)

run: $(STAMP)
	exec $(BIN)/python -m devstack

# Test files run in parallel processes (each its own in-process AWS, and its own local stack for
# the integration files it gets); a file's tests stay together on one process.
test: lint
	$(BIN)/python -m pytest -n auto --maxprocesses 4 --dist loadfile

check: test

# DynamoDB work per request on small and large tables, measured in one run.
bench: $(STAMP)
	$(BIN)/python -m bench.costs

# schemathesis against the running local stack, as each kind of caller (a few minutes).
fuzz: $(STAMP)
	$(BIN)/python -m devstack.fuzz

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) build .pytest_cache .ruff_cache
