# make build: set up .venv and build seeds/ into site/.  make test: set up and run the whole suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

JS := tests/js/node_modules/.installed

.PHONY: build test test-min serve check lint format docs screenshot bench bench-cluster bench-fetch browser java clean

build: $(VENV)/.installed
	$(BIN)/newsstand build

serve: $(VENV)/.installed
	$(BIN)/newsstand serve

check: $(VENV)/.installed
	$(BIN)/newsstand check

# The gates, then the suite with coverage: the whole package held to 90%, each stage module to its own floor.
test: $(VENV)/.installed-test browser java $(JS)
	$(BIN)/ruff check src tests bench docs
	$(BIN)/ruff format --check src tests bench docs
	$(BIN)/mypy
	$(BIN)/python -m pytest --cov --cov-report=term --cov-fail-under=90
	$(BIN)/python tests/coverage_gate.py

# The suite on the oldest versions pyproject.toml allows: its lower bounds, pinned by tests/lower_bounds.py,
# in a venv of its own. Not part of `make test` (it downloads every dependency again: it needs the network).
VENV_MIN := .venv-min

test-min: $(VENV_MIN)/.installed browser java $(JS)
	$(VENV_MIN)/bin/python tests/lower_bounds.py --check
	NEWSSTAND_REQUIRE_BROWSER=1 NEWSSTAND_REQUIRE_VALIDATOR=1 $(VENV_MIN)/bin/python -m pytest

$(VENV_MIN)/.installed: pyproject.toml tests/lower_bounds.py
	rm -rf $(VENV_MIN)
	$(PYTHON) -m venv $(VENV_MIN)
	$(VENV_MIN)/bin/python -m pip install --quiet --upgrade pip
	$(VENV_MIN)/bin/python tests/lower_bounds.py > $(VENV_MIN)/constraints.txt
	$(VENV_MIN)/bin/python -m pip install --quiet -c $(VENV_MIN)/constraints.txt -e '.[test]'
	touch $@

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests bench docs
	$(BIN)/ruff format --check src tests bench docs
	$(BIN)/mypy

format: $(VENV)/.installed-test
	$(BIN)/ruff format src tests bench docs

# The CLI reference comes from the argument parser (tests/test_docs.py fails when it is stale).
docs: $(VENV)/.installed
	$(BIN)/python -m newsstand.clidoc docs/cli.md

screenshot: $(VENV)/.installed-test browser
	$(BIN)/python docs/screenshot.py

bench-cluster: $(VENV)/.installed-test
	$(BIN)/python bench/bench_cluster.py

bench-fetch: $(VENV)/.installed-test
	$(BIN)/python bench/bench_fetch.py

bench: $(VENV)/.installed-test
	$(BIN)/python bench/bench_build.py

$(VENV)/.created:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	touch $@

$(VENV)/.installed: $(VENV)/.created pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# Browser tests drive Debian's chromium (Playwright's own browser download cannot work here).
browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "!!! could not install chromium: browser tests will be SKIPPED"; \
	else echo "!!! /usr/bin/chromium missing and cannot apt-get install it: browser tests will be SKIPPED"; fi

# The HTML validity test runs the W3C Nu checker (vnu.jar, from npm: see tests/js below) on Java.
java:
	@if command -v java >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless >/dev/null) \
	  || echo "!!! could not install java: the HTML validity test will be SKIPPED"; \
	else echo "!!! java missing and cannot apt-get install it: the HTML validity test will be SKIPPED"; fi

# What the browser and HTML tests run beside the site, from the npm registry, pinned by tests/js/package-lock.json:
# axe-core (injected into pages by the browser tests) and the current W3C Nu HTML checker (vnu.jar).
$(JS): tests/js/package.json tests/js/package-lock.json
	@if command -v npm >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null) \
	  || echo "!!! could not install npm: the accessibility and HTML validity tests will be SKIPPED"; \
	else echo "!!! npm missing and cannot apt-get install it: the accessibility and HTML validity tests will be SKIPPED"; fi
	@if command -v npm >/dev/null; then cd tests/js && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; fi

clean:
	rm -rf site .site.new .site.old .site.lock .newsstand-cache .pytest_cache .mypy_cache .coverage
