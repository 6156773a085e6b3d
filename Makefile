# Vigie — the two commands of the set-up contract are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
PYTEST_ARGS ?=
# pytest-xdist workers of `make test` and `make proof` ("auto": one a core; 0: one process)
PYTEST_WORKERS ?= auto
XDIST := -n $(PYTEST_WORKERS) --dist loadgroup

.PHONY: run test install install-dev system-test-deps pdf-deps assets translations messages lint typecheck contracts pytest clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip==25.3

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed assets translations
install-dev: $(VENV)/.installed-dev assets translations

## make assets: Bootstrap from the npm registry (package-lock.json) into cert/static/vendor (no CDN)
VENDOR := cert/static/vendor
VENDOR_FILES := css/bootstrap.min.css css/bootstrap.rtl.min.css js/bootstrap.bundle.min.js

assets: $(VENDOR)/.stamp

$(VENDOR)/.stamp: package.json package-lock.json
	npm ci --no-audit --no-fund
	mkdir -p $(VENDOR)
	cp $(addprefix node_modules/bootstrap/dist/,$(VENDOR_FILES)) $(VENDOR)/
	touch $@

## make translations: compile the Babel catalogues (*.po → *.mo; the .mo files are not committed)
CATALOGUES := $(wildcard core/translations/*/LC_MESSAGES/messages.po)

translations: $(CATALOGUES:.po=.mo)

core/translations/%/LC_MESSAGES/messages.mo: core/translations/%/LC_MESSAGES/messages.po | $(VENV)/.installed
	$(BIN)/pybabel -q compile -l $* -i $< -o $@

## make messages: re-extract the UI strings and merge them into every catalogue (then translate)
BABEL_KEYWORDS := -k _l -k lazy_gettext
messages: | $(VENV)/.installed
	$(BIN)/pybabel -q extract -F babel.cfg $(BABEL_KEYWORDS) --no-location --no-wrap --sort-output \
		--project Vigie -o core/translations/messages.pot cert core incidents feeds bulletins playbooks
	$(BIN)/pybabel -q update -N --no-wrap -i core/translations/messages.pot -d core/translations

## make run: install into .venv, create the SQLite database and demo data if absent, serve UI + scheduler
run: install
	$(BIN)/cert db upgrade
	$(BIN)/cert demo
	$(BIN)/cert run --host $(HOST) --port $(PORT)

## make test: dev dependencies and the system packages of the suite, then lint, types, import
## contracts and the whole suite
test: install-dev system-test-deps
	$(MAKE) lint typecheck contracts pytest

## make system-test-deps: the Debian packages the suite needs, installed only when one is missing
## (as root, no sudo: CI runs as root). Chromium for the browser tests (Playwright drives
## /usr/bin/chromium; it never downloads a browser of its own), pdftoppm to look at PDF reports,
## fonts with Arabic glyphs, and the libraries WeasyPrint loads. `make run` needs none of them.
## Try it without installing anything: make system-test-deps APT_GET="echo apt-get"
TEST_DEB_PACKAGES ?= chromium poppler-utils fonts-dejavu-core fonts-noto-core \
	libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0
TEST_COMMANDS ?= chromium pdftoppm
APT_GET ?= apt-get

system-test-deps:
	@if ! command -v dpkg-query >/dev/null; then \
		echo "system-test-deps: not a Debian system; install these yourself: $(TEST_DEB_PACKAGES)"; \
		exit 0; \
	fi; \
	missing=""; \
	for pkg in $(TEST_DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}' "$$pkg" 2>/dev/null | grep -q "ok installed" \
			|| missing="$$missing $$pkg"; \
	done; \
	if [ -z "$$missing" ]; then \
		for cmd in $(TEST_COMMANDS); do \
			command -v "$$cmd" >/dev/null || missing=" $(TEST_DEB_PACKAGES)"; \
		done; \
	fi; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	echo "system-test-deps: installing$$missing"; \
	if [ "$$(id -u)" != 0 ]; then \
		echo "system-test-deps: run as root (or install them first): apt-get install$$missing" >&2; \
		exit 1; \
	fi; \
	export DEBIAN_FRONTEND=noninteractive; \
	$(APT_GET) install -y -q --no-install-recommends $$missing \
		|| { $(APT_GET) update -q && $(APT_GET) install -y -q --no-install-recommends $$missing; }

## make pdf-deps: on a server, the fonts with Arabic glyphs and the libraries WeasyPrint needs for
## the PDFs (bulletins, reports), installed as root when one is missing (as system-test-deps does)
PDF_DEB_PACKAGES ?= fonts-dejavu-core fonts-noto-core libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0

pdf-deps:
	@$(MAKE) --no-print-directory system-test-deps TEST_DEB_PACKAGES="$(PDF_DEB_PACKAGES)" TEST_COMMANDS=

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck:
	$(BIN)/mypy

contracts:
	$(BIN)/lint-imports

# pytest exits 5 when it collects no test: that is not a failure of the suite.
# `make test` leaves out the tests marked `proof` (the exhaustive sweeps); `make proof` runs them.
pytest:
	$(BIN)/pytest -m "not proof" $(XDIST) $(PYTEST_ARGS); rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest: no tests collected"; exit 0; fi; exit $$rc

## make proof: the proof suites' exhaustive sweeps (tests marked `proof`: the API fuzz with every
## role and its full examples, the authorisation matrices' every row, the browser's every language
## × width × backend, every hostile value); `make test` keeps a subset of each
.PHONY: proof
proof: install-dev system-test-deps
	$(BIN)/pytest -m proof $(XDIST) $(PYTEST_ARGS); rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest: no tests collected"; exit 0; fi; exit $$rc

## make bench: every bench/ script on SQLite and PostgreSQL (temporary schemas of BENCH_DATABASE_URL;
## the 1M queue in the kept schema bench_1m, built once), one table → bench/results.md.
## make bench BENCH_ARGS="--quick": a smoke run with smaller counts; BENCH_ARGS="--strict" exits 1
## when a target is missed. See bench/README.md.
.PHONY: bench
BENCH_ARGS ?=
BENCH_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
bench: install-dev
	$(BIN)/python bench/run_all.py --database-url $(BENCH_DATABASE_URL) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache node_modules $(VENDOR)
