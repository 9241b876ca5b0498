"""Configuration from environment variables (pydantic-settings).

``PlatformSettings`` (prefix ``NAERVAER_``) holds what every service shares; each service has a
``ServiceSettings`` subclass with its own prefix (``NAERVAER_CASE_`` …) for what is its own.
Settings are built in ``create_app()`` / the CLI, never at import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class PlatformSettings(BaseSettings):
    """Settings shared by all services (env prefix ``NAERVAER_``)."""

    model_config = SettingsConfigDict(env_prefix="NAERVAER_", extra="ignore")

    data_dir: Path = Field(
        default=Path(".naervaer"),
        description="Folder for the embedded default: SQLite files, dev signing key, clock.",
    )
    database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL (postgresql+asyncpg://…) shared by the services, each in its "
        "own schema. Unset: SQLite files in the data folder (the embedded default).",
    )
    kafka_bootstrap: str | None = Field(
        default=None,
        description="Kafka bootstrap servers (host:port,…). Unset: the embedded transport.",
    )
    topic_prefix: str = Field(default="naervaer.", description="Prefix of every Kafka topic name.")
    host: str = Field(default="127.0.0.1", description="Interface the HTTP servers bind to.")
    environment: Literal["development", "production"] = Field(
        default="development",
        description="production disables every dev-only feature (clock control, dev tokens).",
    )
    log_level: str = Field(default="INFO", description="Root log level.")
    log_format: Literal["json", "console"] = Field(
        default="json", description="json for machines (default), console for humans."
    )
    outbox_poll_interval_s: float = Field(
        default=1.0,
        gt=0,
        description="Outbox relay polling fallback when no NOTIFY arrives; also how soon a "
        "replica takes over from a leader that went away.",
    )
    outbox_batch_size: int = Field(
        default=500,
        ge=1,
        description="Events the outbox relay publishes per batch (an append's events always "
        "go in one batch, so a batch may hold the rest of the append that crosses it).",
    )
    outbox_linger_ms: int = Field(
        default=5,
        ge=0,
        le=1000,
        description="How long the outbox relay, woken by an append's NOTIFY, waits before it "
        "reads the outbox, so that appends committed meanwhile go in the same batch: drains "
        "that appends wake come at least this far apart (counted from the end of the drain in "
        "progress, not from the NOTIFY as Kafka's linger.ms is); 0 reads at once. 5 by "
        "default, as Apache Kafka's producer lingers since 4.0 (KIP-1030): fewer, larger "
        "rounds in the relay, the broker and the consumers downstream, for about this much "
        "latency an event at low rates, and a little more. On the benchmark, 5 against 0: at "
        "200 events/s the machine's CPU an event 9-15 % lower for 5-7 ms more median latency, "
        "at 1 000/s no difference outside the runs' spread, W6 at 5 000 cases 6-10 % sooner "
        "(BENCHMARKS.md, thirty-seventh round); 10 on a box two to three times slower cost "
        "26-43 ms of median latency at 200/s (thirty-fourth round). At "
        "most 1000 (a linger past the poll interval would make a woken relay slower than "
        "polling).",
    )
    outbox_row_per_append: bool = Field(
        default=False,
        description="Write one outbox row per append, naming its events, instead of one per "
        "event (W2: +1 to +22 % at 500 events an append). Off by default: a relay of a build "
        "before outbox ranges (migration case0004) reads a range's first event alone, so turn "
        "it on only once no replica of such a build runs (a new installation: from the start). "
        "Every relay of this build reads both kinds of row.",
    )
    consumer_poll_interval_s: float = Field(
        default=0.2, gt=0, description="Embedded transport: how often consumers poll the log."
    )
    consumer_batch_size: int = Field(
        default=100,
        ge=1,
        description="Messages a consumer fetches and settles in one transaction (one offset "
        "commit). Larger batches spread the fixed cost of a transaction over more events when "
        "a backlog builds; each batch holds its service's event loop a little longer.",
    )
    consumer_max_attempts: int = Field(
        default=5,
        ge=1,
        description="Attempts at a message before it goes to the dead-letter topic.",
    )
    consumer_retry_base_s: float = Field(
        default=0.2, gt=0, description="First retry delay; doubles per attempt (with jitter)."
    )
    db_pool_size: int = Field(
        default=10,
        ge=1,
        description="Database connections each service process keeps open (PostgreSQL). Size "
        "it to the requests a process serves at once: past it, connections are opened and "
        "closed per use (NAERVAER_DB_MAX_OVERFLOW).",
    )
    db_max_overflow: int = Field(
        default=10,
        ge=0,
        description="Connections a process may open beyond NAERVAER_DB_POOL_SIZE at busy "
        "moments (closed again after use). Keep pool size + overflow of every process under "
        "the server's max_connections.",
    )
    kafka_session_timeout_ms: int = Field(default=10_000, ge=1000, description="Consumer session.")
    kafka_fetch_max_wait_ms: int = Field(
        default=500,
        ge=0,
        description="Longest a consumer's fetch waits on the broker for new data (the Kafka "
        "client's default). Kafka answers as soon as data arrives, so this costs no latency "
        "there. Tansu answers only when the wait ends: a short wait (e.g. 20) cuts its latency "
        "but polls the broker that much more often, which a broker keeping its log in storage "
        "(S3, PostgreSQL) may not keep up with; use it with an in-memory Tansu only.",
    )
    kafka_commit_interval_ms: int = Field(
        default=100,
        ge=0,
        description="Longest a consumer's acknowledged offset waits before it is committed, "
        "with those acknowledged after it in one request; 0 commits after every batch. Only "
        "offsets of committed transactions are sent, so nothing is lost: a crash or rebalance "
        "redelivers at most this much more, which the inbox skips as duplicates. At 200 "
        "events/s on the benchmark's Tansu, 100 took 5-9 ms off the pipeline's median latency "
        "(no commit round trip between a batch and the next fetch; BENCHMARKS.md, "
        "twenty-fourth round).",
    )
    kafka_fetch_min_bytes: int = Field(
        default=1,
        ge=1,
        description="Data a consumer's fetch waits for on the broker (up to "
        "NAERVAER_KAFKA_FETCH_MAX_WAIT_MS) before it is answered; 1, the Kafka client's "
        "default, answers as soon as anything arrives. More (e.g. 16384) settles fewer, larger "
        "batches at moderate rates, for up to the fetch wait of latency: at 200 events/s, on "
        "the benchmark's in-memory Tansu with a 20 ms fetch wait, 16384 cut the pipeline's CPU "
        "an event by 13-24 % (BENCHMARKS.md, twentieth round).",
    )
    kafka_partitions: int = Field(
        default=6, ge=1, description="Partitions for topics the services create themselves."
    )
    kafka_replication_factor: int = Field(
        default=1,
        ge=1,
        description="Replicas of each topic the services create themselves: 1 suits a "
        "single-broker development cluster; set 3 on a production cluster, so a broker lost "
        "loses no event.",
    )
    rate_limit_writes_per_minute: int = Field(
        default=600,
        ge=0,
        description="Writes (POST, PUT, PATCH, DELETE) one client (token tenant and subject, "
        "else IP address) may make per minute, in bursts up to the same number; over it: 429 "
        "with Retry-After. 0 turns it off. Counted in memory per process: with several "
        "replicas the effective limit multiplies (a gateway can enforce a global one).",
    )
    keyvault_url: str | None = Field(
        default=None,
        description="Database of the key vault (one data key per employee, for "
        "crypto-shredding). Unset: schema keyvault of NAERVAER_DATABASE_URL, or keyvault.db in "
        "the data folder.",
    )
    master_key_file: Path | None = Field(
        default=None,
        description="File holding the 32-byte master key (raw or base64) that wraps the "
        "employees' data keys. Required in production; in development a key is made in the "
        "data folder (master.key) on first start.",
    )
    dev_crash_before_ack: str | None = Field(
        default=None,
        description="Development only, for fault-injection tests: the consumer of this name "
        "(e.g. document-service.case-events) kills its own process (SIGKILL) right after the "
        "transaction of the first message it handles has committed, before acknowledging it. "
        "Restart the service without it. Refused in production.",
    )

    @property
    def embedded(self) -> bool:
        return self.kafka_bootstrap is None

    @model_validator(mode="after")
    def _no_dev_switches_in_production(self) -> Self:
        if self.environment == "production" and self.dev_crash_before_ack is not None:
            raise ValueError(
                "NAERVAER_DEV_CRASH_BEFORE_ACK is a development switch; refused in production"
            )
        return self


class ServiceSettings(BaseSettings):
    """Per-service settings; subclasses set ``env_prefix`` (e.g. ``NAERVAER_CASE_``)."""

    model_config = SettingsConfigDict(extra="ignore")

    port: int = Field(default=0, ge=0, le=65535, description="HTTP port of the service.")
    database_url: str | None = Field(
        default=None, description="This service's own database; overrides NAERVAER_DATABASE_URL."
    )
