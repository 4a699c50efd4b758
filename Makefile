# Set-up and everyday commands. Both targets create .venv from a clean clone when missing.
#   make run   - the main job (for now: ingest a bundled excerpt and print its summary)
#   make test  - install the test extra and run the test suite

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
EXCERPT ?= data/excerpts/100
PYTEST_ARGS ?=

.PHONY: run test clean-venv help

help:
	@echo "make run   - set up .venv and run the main job (ecg ingest on $(EXCERPT))"
	@echo "make test  - set up .venv with the test extra and run pytest"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e '.[cpu]'
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e '.[test]'
	touch $@

run: $(RUN_STAMP)
	$(BIN)/ecg ingest $(EXCERPT)

test: $(TEST_STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

clean-venv:
	rm -rf $(VENV)
