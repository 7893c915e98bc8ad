# obshub — the two commands a newcomer needs: `make demo` and `make test`.
# Each target does its own set-up on a fresh machine (.venv, the project,
# the Kafka jars, the Debian tools the tests use).

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
BENCH_STAMP := $(VENV)/.bench-stamp

.PHONY: demo test down lint unit integration tools jars bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[hub,dev]'
	touch $(STAMP)

# kcat (an independent Kafka client) and Prometheus/promtool for the tests.
tools:
	@missing=""; \
	command -v kcat >/dev/null || missing="$$missing kcat"; \
	command -v promtool >/dev/null || missing="$$missing prometheus"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "note: install$$missing (Debian packages) to run every test"; \
	  fi; \
	fi

jars: $(STAMP)
	$(BIN)/python -c "from hub.settings import HubSettings; from hub.stack import Stack; Stack(HubSettings()).ensure_jars()"

# The demo territory is built from its official-format sources, then the demo runs on it.
demo: $(STAMP) jars
	$(BIN)/obshub territory build deploy/demo/territory/sources/territory.yaml --out deploy/demo/territory
	$(BIN)/obshub demo

down: $(STAMP)
	$(BIN)/obshub down

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest tests/unit -q

integration: $(STAMP) jars tools
	$(BIN)/pytest tests/integration -q

# pytest exits 5 when it collected no test: make treats that as the failure it is.
test: $(STAMP) jars tools lint
	$(BIN)/pytest -q

# The benchmark with its peers (bench/README.md): a private stack on free
# ports, about two minutes; `make bench BENCH_ARGS='--rows 200000'` for less.
$(BENCH_STAMP): $(STAMP) pyproject.toml
	$(BIN)/pip install -q -e '.[hub,dev]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP) jars
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .obshub .pytest_cache .mypy_cache .ruff_cache
