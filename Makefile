# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench stress clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) scripts/demo.py

test: $(STAMP)
	$(PY) -m pytest

# The import contracts of pyproject.toml and mypy --strict alone (they also run in `make test`).
lint: $(STAMP)
	$(VENV)/bin/lint-imports
	$(PY) -m pytest tests/unit/test_import_contracts.py tests/unit/test_layering.py tests/unit/test_typing.py

# The table of issue 8 first (also written to bench/results/), then the detailed figures.
bench: $(STAMP)
	$(PY) bench/bench_table.py
	$(PY) bench/bench_suites.py
	$(PY) bench/bench_issuer.py
	$(PY) bench/bench_verifier.py
	$(PY) bench/bench_jose.py

# Long run, not part of `make test`: 20,000 verifications in one process, bounded memory.
stress: $(STAMP)
	$(PY) bench/stress_memory.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
