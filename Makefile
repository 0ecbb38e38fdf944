# Two entry points for a fresh Debian/Ubuntu machine: `make demo` and `make test`.
# Both run `make setup` first (idempotent: a second run takes seconds).

VENV    := .venv
PY      := $(VENV)/bin/python
TOOLKIT := $(VENV)/bin/toolkit
DEMO    := demo-output
JOBS    ?= 2

.PHONY: setup demo test test-fast fuzz bench clean

setup:
	@bash scripts/setup.sh

demo: setup
	$(TOOLKIT) demo -o $(DEMO)

test: setup
	$(PY) -m pytest -q -n $(JOBS) tests

# A long fuzzing campaign over mutated seed models (tests/fuzz): prints cases, cases/s and
# the distinct failures by kind; every failing input is kept in fuzz-corpus/.
FUZZ_CASES ?= 100000
fuzz: setup
	FUZZ_CASES=$(FUZZ_CASES) FUZZ_CNN=1 FUZZ_CORPUS=$(CURDIR)/fuzz-corpus $(PY) -m pytest -q -s -n 0 -p no:cacheprovider tests/fuzz/test_fuzz.py

# The MLPerf-Tiny-style models on cortex-m4/m7/m0plus and rv32imc, against TF Lite Micro
# (reference and CMSIS-NN kernels) in the same run: exact instructions, ratios (benchmarks/).
bench: setup
	$(PY) benchmarks/models_bench.py --json bench.json

test-fast: setup
	$(PY) -m pytest -q -m "not slow" tests

clean:
	rm -rf $(DEMO) .pytest_cache build *.egg-info
