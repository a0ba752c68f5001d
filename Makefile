# The two commands a new machine needs (see README.md):
#   make demo   - sets up .venv and runs the end-to-end demo on the embedded AWS stack
#   make test   - sets up .venv and runs the whole test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/mlrelay demo

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/statelint statemachines/*.asl.json

bench: $(STAMP)
	$(BIN)/python benchmarks/import_time.py

clean:
	rm -rf $(VENV) .pytest_cache .mlrelay
