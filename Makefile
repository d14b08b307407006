# The two commands a newcomer needs:  `make demo`  and  `make test`.
# Both create the virtualenv in .venv on first use (PyPI only; no Docker).

PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-kafka lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## Start the hub with sample data on the embedded broker (Ctrl-C stops it).
demo: $(STAMP)
	scripts/hunspell-da
	$(BIN)/ssp-hub demo $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

## Lint, type-check, unit tests and the integration suite on the embedded broker + SQLite.
test: lint
	scripts/hunspell-da
	scripts/chromium
	$(BIN)/pytest -q -n 2 --dist loadgroup

## The same integration suite on real Apache Kafka (Maven Central jars) + PostgreSQL.
test-kafka: $(STAMP)
	scripts/hunspell-da
	scripts/kafka-local fetch
	scripts/chromium
	$(BIN)/pytest -q tests/integration --broker kafka --database postgres

bench: $(STAMP)
	scripts/hunspell-da
	$(BIN)/python -m bench.throughput

.PHONY: bench-signals
bench-signals: $(STAMP)
	$(BIN)/python -m bench.signals $(ARGS)

clean:
	rm -rf $(VENV) build *.egg-info test-output
