# One-word entry points. `make test` installs what the tests need (pip, npm, apt) and runs them.
PYTHON ?= python3
PIP ?= $(PYTHON) -m pip
NODE_DIR := tests/node
VENDOR_DIR := tools/dashboard-vendor

.PHONY: install install-compiled install-test test test-fast lint format bench fuzz

install:
	$(PIP) install -e .

# The compiled build (setup.py): the decode path's modules compiled with Cython, 7-8% fewer
# instructions, faster on some machines but not all (docs/performance.md). Needs a C
# compiler; a regular install, not an editable one (`make install` goes back to the
# editable, pure-Python one).
install-compiled:
	IOPROTO_COMPILE=1 $(PIP) install .

# Debian packages some tests need: Node (the real Socket.IO peers and reference parsers),
# tcpdump (live capture), Chromium (a real browser: HAR, the cdp source, the dashboard) and
# Prometheus (the metrics sink's real server). Installed when missing; where that is
# impossible (not root, not Debian) the tests that need them are skipped, saying why.
TOOLS_NEEDED = node:nodejs npm:npm tcpdump:tcpdump chromium:chromium prometheus:prometheus

install-test:
	@missing=""; \
	for pair in $(TOOLS_NEEDED); do \
	  command -v "$${pair%%:*}" >/dev/null 2>&1 || missing="$$missing $${pair#*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages the tests need:$$missing"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing) \
	  || echo "could not install$$missing: the tests that need them will be skipped"; \
	fi
	$(PIP) install -q -e ".[test,lint,all]"
	@if command -v npm >/dev/null 2>&1; then \
	  (cd $(NODE_DIR) && npm ci --no-audit --no-fund --loglevel=error) && \
	  (cd $(VENDOR_DIR) && npm ci --no-audit --no-fund --loglevel=error); \
	else echo "npm missing: the tests that need Node will be skipped"; fi

test: install-test
	$(PYTHON) -m pytest -q
	cd taps/node && node --test test/

test-fast:
	$(PYTHON) -m pytest -q -x -m "not node and not slow and not browser"

lint:
	$(PYTHON) -m ruff check ioproto plugins tests benchmarks setup.py
	$(PYTHON) -m ruff format --check ioproto plugins tests benchmarks setup.py
	$(PYTHON) -m mypy

format:
	$(PYTHON) -m ruff check --fix ioproto plugins tests benchmarks setup.py
	$(PYTHON) -m ruff format ioproto plugins tests benchmarks setup.py

bench:
	$(PYTHON) benchmarks/run_all.py

# Mutated captures, HAR files, lines and proxy streams for FUZZ_SECONDS per source
# (tests/fuzz/campaign.py; figures in docs/robustness.md).
FUZZ_SECONDS ?= 300
fuzz:
	$(PYTHON) tests/fuzz/campaign.py --seconds $(FUZZ_SECONDS)
