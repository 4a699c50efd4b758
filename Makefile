# Set-up and everyday commands. Both targets create .venv from a clean clone when missing.
#   make run   - the main job: the clinician dashboard on localhost (bundled samples and model)
#   make test  - install the test extra and run the test suite

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
PORT ?= 8501
PYTEST_ARGS ?=

.PHONY: run test clean-venv help

help:
	@echo "make run   - set up .venv and start the dashboard at http://localhost:$(PORT) (PORT=N to change)"
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
	$(BIN)/ecg dashboard --port $(PORT)

test: $(TEST_STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

clean-venv:
	rm -rf $(VENV)
