"""Fleet configuration, read from ``IS21_*`` environment variables.

One settings object serves the producer, the workers and the operator commands so that
a value (a lease TTL, a frame cap) can never disagree between the side that writes a key
and the side that reads it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from is21.schemas.results import PROTOCOL_VERSION

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
MIN_TOKEN_CHARS = 16
REDIS_SCHEMES = ("redis://", "rediss://", "unix://", "redis+sentinel://", "rediss+sentinel://")


class Settings(BaseSettings):
    # inf and nan are no durations: IS21_RETAIN_RESULTS=inf must be refused at start, not
    # crash retention at its first trim.
    # model_dir is IS21_MODEL_DIR: pydantic before 2.10 warns about model_* fields unless
    # its protected names are narrowed.
    model_config = SettingsConfigDict(
        env_prefix="IS21_", extra="ignore", allow_inf_nan=False, protected_namespaces=("settings_",)
    )

    redis_url: str | None = Field(
        default=None,
        description="redis://, rediss:// or unix:// URL, may carry user:password. "
        "Unset means 127.0.0.1:6379 for workers and producers; `is21 demo` starts its own.",
    )
    model_dir: Path = Path("models")
    state_dir: Path | None = Field(
        default=None,
        description="a folder the workers may write (systemd: /var/lib/is21): the event "
        "schema in force is kept there too, and put back into a Redis that restarted empty",
    )
    manifest: Path | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    host: str = "127.0.0.1"
    port: int = Field(default=9000, ge=1, le=65535)
    admin_token: str | None = Field(
        default=None,
        description="bearer token PUT /v1/schema requires (needed off loopback); at least "
        f"{MIN_TOKEN_CHARS} characters",
    )

    redis_timeout: float = Field(
        default=2.0, gt=0, description="seconds; bounds every producer call to Redis"
    )
    redis_max_connections: int = Field(
        default=128,
        ge=1,
        description="connections one producer keeps to Redis; a blocked wait() holds one for "
        "up to half of IS21_REDIS_TIMEOUT, so size it for the cameras waiting at once",
    )
    fleet_cache: float = Field(default=1.0, ge=0, description="seconds a liveness answer lives")
    reader_give_up: float = Field(
        default=30.0,
        ge=0,
        description="seconds results() and events() ride out Redis going away (a failover, "
        "a restart) before raising FleetUnreachable",
    )
    redis_memory_high: float = Field(
        default=0.9,
        gt=0,
        le=1,
        description="share of Redis maxmemory above which new frames are refused (fallback)",
    )

    queue: str = "is21"
    frame_maxlen: int = Field(default=30, ge=1, description="frames kept per camera stream")
    max_frame_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    max_pixels: int = Field(default=40_000_000, ge=1, description="decompression-bomb guard")
    max_frame_age: float = Field(default=10.0, gt=0, description="seconds; older frames expire")
    events_maxlen: int = Field(default=2000, ge=1)
    results_maxlen: int = Field(
        default=1000,
        ge=1,
        description="results kept per camera stream (about; the camera server reads them "
        "as they come, and retention by age alone would let Redis grow with the frame rate)",
    )
    incidents_maxlen: int = Field(
        default=10000, ge=1, description="incident messages kept in is21:incidents (about)"
    )
    snapshot_ttl: float = Field(
        default=86400.0,
        gt=0,
        description="seconds an incident's best frame (a JPEG) stays in Redis; the camera "
        "server copies it when the incident ends",
    )
    snapshots_max: int = Field(
        default=500,
        ge=1,
        description="best frames kept at most (retention drops the oldest): ~100 KB each",
    )
    retain_frames: float = Field(default=120.0, gt=0, description="seconds of frames kept")
    retain_results: float = Field(default=14 * 86400.0, gt=0, description="seconds of results")
    retain_events: float = Field(default=30 * 86400.0, gt=0, description="seconds of events")
    retain_incidents: float = Field(
        default=30 * 86400.0, gt=0, description="seconds of incident messages"
    )

    infer_timeout: float = Field(
        default=30.0,
        gt=0,
        description="seconds one frame may spend in detection before the worker reports "
        "itself stuck (heartbeat, /healthz) and stops pinging systemd's watchdog",
    )
    lease_ttl: float = Field(default=5.0, gt=0, description="seconds a camera claim lives")
    job_budget: float = Field(default=30.0, gt=0, description="seconds one RQ job serves")
    job_queued_ttl: float = Field(
        default=3.0,
        gt=0,
        description="seconds a queued dispatch job keeps its lease; a job lost by a worker "
        "stopping as it dequeued it is replaced after this",
    )
    heartbeat_ttl: float = Field(default=10.0, gt=0)
    heartbeat_interval: float = Field(default=2.0, gt=0)
    # How long a worker that vanished without a goodbye stays expected (a missing worker
    # in /healthz and an alert) before the fleet forgets it; `is21 workers forget` sooner.
    forget_workers_after: float = Field(default=86400.0, gt=0)

    backend: str = Field(default="onnx", description="onnx (any host) or rknn (RK3588 NPU)")
    # One worker per core is the fleet's parallelism; onnxruntime's own default (a thread
    # per core in every worker) made two workers on two cores 38 % slower than one thread
    # each (CHANGELOG.md, Measured).
    intra_op_threads: int = Field(
        default=1, ge=0, description="onnxruntime threads per worker; 0 = one per core"
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("admin_token")
    @classmethod
    def _long_enough(cls, value: str | None) -> str | None:
        # An empty line in an env file (IS21_ADMIN_TOKEN=) is '', not unset: it would
        # accept "Authorization: Bearer " from anyone.
        if value is not None and len(value) < MIN_TOKEN_CHARS:
            raise ValueError(
                f"IS21_ADMIN_TOKEN must be at least {MIN_TOKEN_CHARS} characters "
                f"(it has {len(value)}); make one with `openssl rand -hex 24`, or unset it"
            )
        return value

    @model_validator(mode="after")
    def _heartbeat_fits_its_ttl(self) -> Settings:
        # A beat must come well inside the TTL, or a live worker reads as dead between
        # beats and clients fall back to no_event most of the time.
        if self.heartbeat_interval * 3 > self.heartbeat_ttl:
            raise ValueError(
                f"IS21_HEARTBEAT_INTERVAL ({self.heartbeat_interval} s) must be at most a "
                f"third of IS21_HEARTBEAT_TTL ({self.heartbeat_ttl} s)"
            )
        return self

    @field_validator("redis_url")
    @classmethod
    def _known_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(REDIS_SCHEMES):
            raise ValueError(f"IS21_REDIS_URL must start with one of {', '.join(REDIS_SCHEMES)}")
        return value

    @property
    def effective_redis_url(self) -> str:
        return self.redis_url or DEFAULT_REDIS_URL

    def protocol_fields(self) -> dict[str, int]:
        """What the workers publish in is21:protocol for clients in any language."""
        return {
            "version": PROTOCOL_VERSION,
            "frame_maxlen": self.frame_maxlen,
            "max_frame_bytes": self.max_frame_bytes,
            "max_frame_age_ms": int(self.max_frame_age * 1000),
        }


def describe(exc: ValidationError) -> str:
    """One line per refused setting, named as an operator sets it (IS21_...), without
    pydantic's links and input echo."""
    parts = []
    for err in exc.errors(include_url=False):
        field = str(err["loc"][0]) if err["loc"] else ""
        name = f"IS21_{field.upper()}" if field else "settings"
        msg = err["msg"].removeprefix("Value error, ")
        parts.append(msg if msg.startswith("IS21_") else f"{name}: {msg}")
    return "; ".join(parts)
