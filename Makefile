# The two commands a newcomer needs:  `make demo`  and  `make test`.
# Both create the virtualenv in .venv on first use (PyPI only; no Docker), from the hashed
# lock file requirements-dev.lock (`make lock` regenerates both lock files from pyproject.toml).

PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The scrubber's compiled recognizers (Rust, built by maturin with cargo): rustup puts cargo in
# ~/.cargo/bin, which a non-login shell (CI) may not have on its PATH.
export PATH := $(HOME)/.cargo/bin:$(PATH)
NATIVE := core/privacy/scrubber/native
NATIVE_SOURCES := $(NATIVE)/Cargo.toml $(NATIVE)/Cargo.lock $(NATIVE)/pyproject.toml \
	$(NATIVE)/ssp_scrubber_native.pyi $(wildcard $(NATIVE)/src/*.rs)

.PHONY: demo test test-kafka lint bench clean lock

# The scrubber's extension is a local package built from source (release profile; cargo's
# build files stay in $(NATIVE)/target): not in the hashed lock, so installed on its own.
$(STAMP): pyproject.toml requirements-dev.lock $(NATIVE_SOURCES)
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/pip install --quiet $(NATIVE)
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

## Regenerate the hashed lock files from pyproject.toml, keeping today's pins unless asked:
##   make lock LOCK_ARGS=--upgrade   or   make lock LOCK_ARGS='--upgrade-package fastapi'
## requirements-dev.lock (dev + embedded extras) is what make installs; requirements.lock
## (production dependencies only, the same versions) is what the Dockerfile installs.
UV_VERSION := 0.13.9
LOCK_TOOLS := .lock-tools
UV := $(LOCK_TOOLS)/bin/uv
LOCK_COMPILE = $(UV) pip compile pyproject.toml --python-version 3.11 --generate-hashes \
	--custom-compile-command "make lock" --quiet
lock:
	test -x $(UV) || ($(PY) -m venv $(LOCK_TOOLS) && \
		$(LOCK_TOOLS)/bin/pip install --quiet uv==$(UV_VERSION))
	$(LOCK_COMPILE) --extra dev -o requirements-dev.lock $(LOCK_ARGS)
	cp requirements-dev.lock requirements.lock  # seeds the production lock with the same pins
	$(LOCK_COMPILE) -o requirements.lock

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
	$(BIN)/pytest -q -n 3

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
	rm -rf $(VENV) $(LOCK_TOOLS) build *.egg-info test-output $(NATIVE)/target
