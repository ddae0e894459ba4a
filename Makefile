# The README's commands. Each creates .venv in the repo root when it is missing and installs
# the project into it: with uv (byte-compiling, about 2.5x faster than pip) when uv is on
# PATH or can be installed from PyPI into the venv, with plain pip otherwise.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EXTRAS ?= all,dev
PYTEST_ARGS ?=

.PHONY: help demo test lint pytest lab benchmark clean

help:
	@echo "make demo       run the notebooks on data/sample and write HTML reports to reports/"
	@echo "make test       lint, type-check and run the whole test suite"
	@echo "make lab        JupyterLab on a working copy of the notebooks (DATA=your exports)"
	@echo "make benchmark  print the ingest benchmark's figures"
	@echo "make clean      remove .venv and build outputs"

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required; set PYTHON=python3.11 (or newer)")'
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	@if command -v uv >/dev/null 2>&1; then \
		echo "installing with uv"; \
		uv pip install --python $(BIN)/python --compile-bytecode -e ".[$(EXTRAS)]"; \
	elif $(BIN)/python -m pip install --quiet --disable-pip-version-check uv 2>/dev/null; then \
		echo "installing with uv (bootstrapped into $(VENV))"; \
		$(BIN)/python -m uv pip install --python $(BIN)/python --compile-bytecode -e ".[$(EXTRAS)]"; \
	else \
		echo "installing with pip"; \
		$(BIN)/python -m pip install --disable-pip-version-check -e ".[$(EXTRAS)]"; \
	fi
	@touch $(STAMP)

# The sample's nvidia-smi log carries no time zone and its engines' prefill chunk is not in
# the scrapes: the two things a user of these exports would say (-p); all else is found.
demo: $(STAMP)
	$(BIN)/genai-sre report --data data/sample --out reports -p tz=UTC -p max_batched_tokens=2048

lint: $(STAMP)
	$(BIN)/ruff check toolkit tests benchmarks notebooks
	$(BIN)/ruff format --check toolkit tests benchmarks notebooks
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint pytest

# JupyterLab on a working copy of the notebooks (~/genai-sre-notebooks); DATA=DIR: your
# exports as the notebooks' data_dir; NOTEBOOKS=notebooks: the curated ones in place.
DATA ?=
NOTEBOOKS ?=
lab: $(STAMP)
	$(BIN)/genai-sre lab $(if $(DATA),--data "$(DATA)") $(if $(NOTEBOOKS),--notebooks "$(NOTEBOOKS)")

benchmark: $(STAMP)
	$(BIN)/python benchmarks/ingest_otlp.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
