"""The one settings object. Nothing else in the code base reads the environment.

Every value can be set with an ``SSP_HUB_`` environment variable (``SSP_HUB_BOOTSTRAP_SERVERS``,
``SSP_HUB_DATABASE_URL``, ...). Secrets never live here: keys are in the key file.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The worker's stages (streams/app.py), in the order data flows through them.
WORKER_STAGES = ("route", "aggregate", "project", "sequence", "retain")
AGENCIES: tuple[str, ...] = ("school", "social", "police")
SECRETS_DIR = "/run/secrets"


class Settings(BaseSettings):
    # Docker/Kubernetes secrets: a file /run/secrets/ssp_hub_database_url sets database_url.
    model_config = SettingsConfigDict(
        env_prefix="SSP_HUB_", extra="forbid",
        secrets_dir=SECRETS_DIR if Path(SECRETS_DIR).is_dir() else None,
    )

    # Production is the default: a missing key file is an error, never a fresh key ring (new
    # keys would orphan every pseudonym, payload and checkpoint). `ssp-hub demo` opts into dev.
    mode: Literal["dev", "production"] = Field(
        "production", description="production (default) refuses to create a missing key file; "
                                  "dev (the demo) creates one"
    )
    data_dir: Path = Path("ssp-hub-data")
    bootstrap_servers: str = "127.0.0.1:9092"
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default sqlite:///<data_dir>/hub.db"
    )
    key_file: Path | None = Field(None, description="default <data_dir>/keys.json")
    signing_key_file: Path | None = Field(
        None, description="the checkpoint signing key, apart from the data keys; default "
                          "signing-key.json beside the key file")
    policy_file: Path | None = Field(None, description="default: the shipped Vordingborg policy")

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    # The file-drop connector's agency token (SSP_HUB_CONNECTOR_TOKEN or a Docker secret), so
    # that it never stands on a command line.
    connector_token: SecretStr | None = None
    # The file-drop watcher's own state (state.json, status.json): one 0700 directory per
    # connector and drop folder under this one, never inside the agency's drop folder.
    watch_state_dir: Path | None = Field(None, description="default <data_dir>/watch")
    # Delivered and rejected files in a drop folder's done/ and rejected/ hold plaintext CPR
    # numbers: deleted this many days after they were moved there (0: at once).
    drop_retention_days: float = Field(7.0, ge=0, description="days done/ files are kept")
    # Refused requests (who, route template, reason code; no values) are kept this long, so a
    # security officer can look back at a scan, then deleted by the retention loop.
    refusal_retention_days: float = Field(180.0, gt=0, description="days refusals are kept")

    topic_partitions: int = 4
    replication_factor: int = 1
    ingest_retention_ms: int = 24 * 3600 * 1000
    case_retention_ms: int = 7 * 24 * 3600 * 1000
    deadletter_retention_ms: int = 14 * 24 * 3600 * 1000
    worker_batch_size: int = 1000
    worker_id: str = "ssp-hub-worker"
    # Which stages this worker process runs (`ssp-hub worker --stages`, SSP_HUB_WORKER_STAGES):
    # each stage is a consumer group that any number of workers share; the sequencer and
    # retention run in one worker at a time whatever the layout (their own elections).
    worker_stages: str = Field(",".join(WORKER_STAGES),
                               description="comma-separated: " + ", ".join(WORKER_STAGES))
    worker_session_timeout: float = 10.0
    log_level: str = "info"

    log_origin: str = Field("ssp-hub", description="names this log in signed checkpoints")
    dpo_contact: str | None = Field(
        None, max_length=500,
        description="the municipality's data-protection officer as a citizen should reach "
                    "them (name, e-mail, telephone), printed in every subject-access answer")
    checkpoint_every: int = Field(1000, ge=1, description="sign after this many entries")
    checkpoint_interval: float = Field(10.0, gt=0, description="…or after this many seconds")
    # Benchmarks only (`python -m bench.throughput --log-cost`): the worker then neither writes
    # nor sequences the disclosure log. Refused in production mode.
    unsafe_skip_disclosure_log: bool = False
    retention_interval: float = Field(3600.0, gt=0, description="seconds between retention runs")
    # An agency's own topic for the Kafka-native connector holds its export in plaintext; the
    # connector deletes records once forwarded, and creates the topic with this retention as
    # the second line of defence (SSP_HUB_NATIVE_RETENTION_MS).
    native_retention_ms: int = Field(3600 * 1000, gt=0,
                                     description="retention of agencies' native topics (ms)")

    # The web UI (hub/web): sessions, and OIDC login for production (authlib). Local accounts
    # with passwords (`ssp-hub users add … --password`) work whether or not OIDC is set.
    web_session_hours: float = Field(8.0, gt=0, description="absolute session lifetime")
    web_session_idle_minutes: float = Field(30.0, gt=0, description="idle session expiry")
    web_secure_cookies: bool | None = Field(
        None, description="Secure cookies; default: when the request came over https")
    oidc_issuer: str | None = Field(None, description="e.g. https://login.kommune.dk/realms/ssp")
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_username_claim: str = Field(
        "preferred_username", description="the claim naming the hub principal")
    oidc_scope: str = "openid profile"

    # Bounded requests, refusals and rates (issue 13). Bodies are capped per route and read
    # only after the bearer token was checked; bodies above large_body_bytes (or without a
    # Content-Length) share max_concurrent_large_uploads slots, else 503 with Retry-After.
    max_body_bytes: int = Field(64 * 1024, gt=0, description="cap for other API bodies")
    max_ingest_bytes: int = Field(1024 * 1024, gt=0, description="cap for one canonical event")
    max_connector_bytes: int = Field(20 * 1024 * 1024, gt=0,
                                     description="cap for one native export (connectors)")
    large_body_bytes: int = Field(1024 * 1024, gt=0,
                                  description="bodies above this take an upload slot")
    max_concurrent_large_uploads: int = Field(2, ge=1, description="upload slots per process")
    max_future_skew: dt.timedelta = Field(
        dt.timedelta(minutes=5), description="refuse events whose occurred_at lies further "
        "ahead than this (SSP_HUB_MAX_FUTURE_SKEW, seconds or ISO 8601 duration)")
    reidentify_per_hour: int = Field(
        30, ge=1, description="re-identifications per principal per hour; then 429 + alert")
    # /metrics answers only with this scrape token (or an admin's or security officer's
    # bearer token); without one set, only those principals may scrape.
    metrics_token: SecretStr | None = None

    @field_validator("worker_stages")
    @classmethod
    def _known_stages(cls, value: str) -> str:
        stages = [p.strip() for p in value.split(",") if p.strip()]
        unknown = sorted(set(stages) - set(WORKER_STAGES))
        if not stages or unknown:
            raise ValueError(f"worker_stages must name one or more of {', '.join(WORKER_STAGES)}"
                             + (f"; unknown: {', '.join(unknown)}" if unknown else ""))
        return ",".join(s for s in WORKER_STAGES if s in stages)

    @property
    def stages(self) -> tuple[str, ...]:
        """:attr:`worker_stages` as a tuple, in data-flow order."""
        return tuple(self.worker_stages.split(","))

    @model_validator(mode="after")
    def _no_unsafe_in_production(self) -> Settings:
        if self.mode == "production" and self.unsafe_skip_disclosure_log:
            raise ValueError("unsafe_skip_disclosure_log is refused in production mode")
        return self

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'hub.db').resolve()}"

    @property
    def resolved_key_file(self) -> Path:
        return self.key_file or self.data_dir / "keys.json"

    @property
    def resolved_watch_state_dir(self) -> Path:
        return self.watch_state_dir or self.data_dir / "watch"

    @property
    def resolved_signing_key_file(self) -> Path:
        return self.signing_key_file or self.resolved_key_file.with_name("signing-key.json")

    @property
    def resolved_policy_file(self) -> Path:
        return self.policy_file or Path(__file__).resolve().parent / "policy" / \
            "policies" / "vordingborg.yaml"
