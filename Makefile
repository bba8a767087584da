# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
FUZZ_STAMP := $(VENV)/.installed-fuzz
LOAD_STAMP := $(VENV)/.installed-load
FUZZ_SECONDS ?= 40
FUZZ_FACTOR ?= 4
API_FUZZ_EXAMPLES ?= 200

.PHONY: demo test fuzz lint bench load stress clean postgresql chromium

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) scripts/demo.py

test: $(STAMP) postgresql chromium
	$(PY) -m pytest

# The ledger's tests (and its benchmark) start a throwaway PostgreSQL cluster of their own, from
# Debian's server binaries: installed here when missing (as root, as on CI). No server is left
# running: the tests start theirs on 127.0.0.1 and remove it at the end.
postgresql:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || { \
		echo "installing Debian's postgresql package (the ledger's tests start a throwaway cluster)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }

# The HTML entry report (vc-verify entry --report) is checked in a real headless browser:
# Debian's chromium and its chromedriver, driven by selenium (no browser download works here),
# installed when missing (as root, as on CI).
chromium:
	@test -x /usr/bin/chromium && test -x /usr/bin/chromedriver || { \
		echo "installing Debian's chromium and chromium-driver (the HTML report's browser test)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; }

# Not part of `make test`, a few minutes: the hypothesis tests under the fuzz profile (random,
# FUZZ_FACTOR times their examples), then each parser of tests/fuzz/targets.py under atheris
# for FUZZ_SECONDS (the JSON reader, the compact JWS, the did:web document, the status list),
# then schemathesis against a real tradevc-serve with API_FUZZ_EXAMPLES requests per operation
# and phase, at random (`make test` runs it seeded, with 15).
$(FUZZ_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[test,fuzz]'
	touch $(FUZZ_STAMP)

fuzz: $(FUZZ_STAMP)
	HYPOTHESIS_PROFILE=fuzz HYPOTHESIS_FUZZ_FACTOR=$(FUZZ_FACTOR) $(PY) -m pytest -m hypothesis -p no:cacheprovider
	mkdir -p .fuzz
	for target in json jws did-web status-list; do \
		echo "fuzz: $$target for $(FUZZ_SECONDS) s (log in .fuzz/$$target.log)"; \
		$(PY) tests/fuzz/run.py $$target -max_total_time=$(FUZZ_SECONDS) >.fuzz/$$target.log 2>&1 \
			|| { tail -n 40 .fuzz/$$target.log; exit 1; }; \
		tail -n 1 .fuzz/$$target.log; \
	done
	HYPOTHESIS_PROFILE=fuzz TRADEVC_API_FUZZ_EXAMPLES=$(API_FUZZ_EXAMPLES) $(PY) -m pytest -p no:cacheprovider \
		tests/integration/test_service_schemathesis.py -k test_every_operation_answers_as_its_openapi_document_says

# The import contracts of pyproject.toml and mypy --strict alone (they also run in `make test`).
lint: $(STAMP)
	$(VENV)/bin/lint-imports
	$(PY) -m pytest tests/unit/test_import_contracts.py tests/unit/test_layering.py tests/unit/test_typing.py

# The table of issue 8 first (also written to bench/results/), then the detailed figures. The
# table's last rows (issue 19) start a real tradevc-serve on 127.0.0.1 (SERVICE_WORKERS
# processes, default 2) and compare POST /credentials/verify over keep-alive HTTP with
# verify_many in process; bench/bench_service.py adds their detail (1 to 8 connections, CPU a
# request on each side, TLS).
bench: $(STAMP) postgresql
	$(PY) bench/bench_table.py
	$(PY) bench/bench_service.py
	$(PY) bench/bench_suites.py
	$(PY) bench/bench_issuer.py
	$(PY) bench/bench_verifier.py
	$(PY) bench/bench_jose.py
	$(PY) bench/bench_ledger.py
	$(PY) bench/bench_entry.py
	$(PY) bench/bench_reverify.py

# Not part of `make test`, about 16 minutes: a real tradevc-serve on 127.0.0.1 (its own issuer,
# trust policy and clients in a temporary folder; SERVICE_WORKERS processes, default 2) under
# locust, headless: the verify, issue and mixed mixes at LOAD_USERS users (default 1 4 16 64),
# LOAD_SECONDS each (default 20), a table of requests/s, p50, p99 and errors; then a soak of
# POST /credentials/verify at half the most it answers for SOAK_SECONDS (default 600), which
# must end with zero errors and no growth of the server's memory. Results in bench/results/.
$(LOAD_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[test,load]'
	touch $(LOAD_STAMP)

load: $(LOAD_STAMP)
	$(PY) bench/load_service.py

# Long run, not part of `make test`: 20,000 verifications in one process, bounded memory.
stress: $(STAMP)
	$(PY) bench/stress_memory.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis .fuzz
