# The two commands of the README: `make demo` (the main job) and `make test` (the whole suite).
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast lint setup

# pytest-xdist: test files spread over processes (a file's tests stay together, so its
# module fixtures are made once); each process starts its own private servers and cluster
XDIST := -n auto --maxprocesses 4 --dist loadfile

setup: $(STAMP)

# uv installs what pip would, at constraints.txt's versions, in about a sixth of the time
$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q -c constraints.txt uv
	$(VENV)/bin/uv pip install -q --compile-bytecode --python $(PY) -c constraints.txt \
		-e ".[dev,profiling]"
	# the editable package too: where PYTHONDONTWRITEBYTECODE is set (as on our machines)
	# every `workbench` process would otherwise compile its modules again (0.15 s a start)
	$(PY) -m compileall -q workbench
	touch $(STAMP)

lint: $(STAMP)
	$(PY) -m ruff check workbench tests notebooks dashboards benchmarks scripts
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/mypy

demo: $(STAMP)
	$(VENV)/bin/workbench init
	$(VENV)/bin/workbench demo --output-dir artifacts

test: lint
	scripts/ensure-chromium
	$(PY) -m pytest $(XDIST)

# the inner loop: no browser, no slow tests
test-fast: lint
	$(PY) -m pytest $(XDIST) -m "not browser and not slow"
