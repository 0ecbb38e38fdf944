# Two entry points for a fresh Debian/Ubuntu machine: `make demo` and `make test`.
# Both run `make setup` first (idempotent: a second run takes seconds).

VENV    := .venv
PY      := $(VENV)/bin/python
TOOLKIT := $(VENV)/bin/toolkit
DEMO    := demo-output
JOBS    ?= 2

.PHONY: setup demo test test-fast clean

setup:
	@bash scripts/setup.sh

demo: setup
	$(TOOLKIT) demo -o $(DEMO)

test: setup
	$(PY) -m pytest -q -n $(JOBS) tests

test-fast: setup
	$(PY) -m pytest -q -m "not slow" tests

clean:
	rm -rf $(DEMO) .pytest_cache build *.egg-info
