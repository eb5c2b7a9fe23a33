# make build: set up .venv and build seeds/ into site/.  make test: set up and run the whole suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

JS := tests/js/node_modules/.installed

.PHONY: build test serve check lint bench bench-cluster browser java clean

build: $(VENV)/.installed
	$(BIN)/newsstand build

serve: $(VENV)/.installed
	$(BIN)/newsstand serve

check: $(VENV)/.installed
	$(BIN)/newsstand check

test: $(VENV)/.installed-test browser java $(JS)
	$(BIN)/ruff check src tests bench
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests bench

bench-cluster: $(VENV)/.installed-test
	$(BIN)/python bench/bench_cluster.py

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
	rm -rf site .site.new .site.old .site.lock .newsstand-cache .pytest_cache
