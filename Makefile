# One-word entry points. `make test` installs what the tests need (pip, npm, apt) and runs them.
PYTHON ?= python3
PIP ?= $(PYTHON) -m pip
NODE_DIR := tests/node
VENDOR_DIR := tools/dashboard-vendor

.PHONY: install install-test test test-fast lint format bench fuzz

install:
	$(PIP) install -e .

install-test:
	$(PIP) install -q -e ".[test,lint,all]"
	cd $(NODE_DIR) && npm ci --no-audit --no-fund --loglevel=error
	cd $(VENDOR_DIR) && npm ci --no-audit --no-fund --loglevel=error
	@command -v tcpdump >/dev/null 2>&1 || { \
	  echo "installing tcpdump (Debian package) for the live-capture tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tcpdump) \
	  || echo "tcpdump could not be installed: live-capture tests will be skipped"; }
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing chromium (Debian package) for the dashboard's and the browser source's tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
	  || echo "chromium could not be installed: browser tests will be skipped"; }
	@command -v prometheus >/dev/null 2>&1 || { \
	  echo "installing prometheus (Debian package) for the metrics sink's test"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus) \
	  || echo "prometheus could not be installed: the real-server metrics test will be skipped"; }

test: install-test
	$(PYTHON) -m pytest -q
	cd taps/node && node --test test/

test-fast:
	$(PYTHON) -m pytest -q -x -m "not node and not slow and not browser"

lint:
	$(PYTHON) -m ruff check ioproto plugins tests benchmarks
	$(PYTHON) -m ruff format --check ioproto plugins tests benchmarks
	$(PYTHON) -m mypy

format:
	$(PYTHON) -m ruff check --fix ioproto plugins tests benchmarks
	$(PYTHON) -m ruff format ioproto plugins tests benchmarks

bench:
	$(PYTHON) benchmarks/run_all.py

# Mutated captures, HAR files, lines and proxy streams for FUZZ_SECONDS per source
# (tests/fuzz/campaign.py; figures in docs/robustness.md).
FUZZ_SECONDS ?= 300
fuzz:
	$(PYTHON) tests/fuzz/campaign.py --seconds $(FUZZ_SECONDS)
