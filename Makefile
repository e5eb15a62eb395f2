# The two commands of the README: `make demo` (the main job) and `make test` (the whole suite).
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint setup

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q -U pip
	$(PY) -m pip install -q -c constraints.txt -e ".[dev,profiling]"
	touch $(STAMP)

lint: $(STAMP)
	$(PY) -m ruff check workbench tests notebooks dashboards benchmarks scripts

demo: $(STAMP)
	$(VENV)/bin/workbench init
	$(VENV)/bin/workbench demo --output-dir artifacts

test: lint
	scripts/ensure-chromium
	$(PY) -m pytest
