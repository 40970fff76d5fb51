"""Settings read from the environment and an optional .env file (pydantic-settings)."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parents[3]
VAR_DIR = ROOT / "var"


def _load_or_create_secret() -> str:
    """A secret kept in var/ so that tokens survive a restart without anyone choosing one."""
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = Field(default=f"sqlite:///{VAR_DIR / 'demosites.db'}")
    secret_key: str = Field(default="")
    access_token_minutes: int = Field(default=60, ge=1, le=24 * 60)
    service_token_minutes: int = Field(default=15, ge=1, le=24 * 60)
    upload_dir: Path = Field(default=VAR_DIR / "uploads")
    max_upload_mb: int = Field(default=20, ge=1, le=500)
    max_json_body_bytes: int = Field(default=1024 * 1024)
    # A body that stops arriving (a Content-Length longer than what is sent) is answered 408
    # after this many seconds without a byte, instead of holding a worker for ever.
    body_timeout_seconds: float = Field(default=30, gt=0, le=600)
    demo_mode: bool = False
    demo_password: str | None = None
    environment: str = Field(default="development", pattern="^(development|test|production)$")
    # Only honoured when environment == "test": lets browser tests move the server's clock.
    allow_clock_override: bool = False
    cookie_secure: bool = False
    login_max_failures: int = 10
    login_window_minutes: int = 10
    login_lock_minutes: int = 15
    password_hash_fast: bool = False  # test-only: cheap argon2 parameters
    rate_limit_user_per_minute: int = 600  # 0 turns the limit off (benchmarks)
    rate_limit_service_per_minute: int = 1200
    # Days a finished document job's file is kept; then the sweep deletes it (the job: expired).
    document_job_retention_days: int = Field(default=7, ge=1, le=3650)
    public_base_url: str = "http://127.0.0.1:8000"
    # Tries of a request's unit of work when the database rolls it back as a deadlock or a
    # serialisation failure (core/retry.py); after the last, 503 retry_later.
    database_retry_attempts: int = Field(default=3, ge=1, le=10)
    # PostgreSQL time limits (core/db.make_engine; README "Settings"). Seconds; 0 turns one off.
    # Kept by the server, set once per new connection (DATABASE_SESSION_TIMEOUTS):
    database_statement_timeout_seconds: float = Field(default=30, ge=0, le=24 * 3600)
    database_lock_timeout_seconds: float = Field(default=10, ge=0, le=24 * 3600)
    database_idle_in_transaction_timeout_seconds: float = Field(default=120, ge=0, le=24 * 3600)
    # Off behind a pooler in transaction mode (PgBouncer): set the three on the role instead.
    database_session_timeouts: bool = True
    # Kept by the client (libpq connection parameters): a silent network ends a connection.
    database_connect_timeout_seconds: int = Field(default=3, ge=1, le=300)
    database_tcp_user_timeout_seconds: float = Field(default=10, ge=0, le=3600)
    database_keepalives_idle_seconds: int = Field(default=10, ge=1, le=7200)
    database_keepalives_interval_seconds: int = Field(default=3, ge=1, le=600)
    database_keepalives_count: int = Field(default=3, ge=1, le=100)
    # The longest the app waits for any one answer of the database (a statement, COMMIT, the
    # pool's ping) before it drops the connection as dead: a server or pooler that accepts bytes
    # but never answers. Must exceed the statement timeout; off when that is off.
    database_answer_timeout_seconds: float = Field(default=40, ge=0, le=24 * 3600)
    # The webhook worker: each HTTP phase of a delivery (connect, send, answer) is bounded by
    # the timeout; a worker leases a batch for longer than its worst case (integration/worker.py).
    webhook_timeout_seconds: float = Field(default=10, gt=0, le=300)
    webhook_batch_size: int = Field(default=20, ge=1, le=500)
    # /healthz answers 503 when the database has not answered its check within this.
    health_timeout_seconds: float = Field(default=3, gt=0, le=60)

    @field_validator("database_url", mode="before")
    @classmethod
    def _empty_url_means_default(cls, value: object) -> object:
        # `export DATABASE_URL` in a shell or a Makefile sets it to "": keep the SQLite default.
        return value or f"sqlite:///{VAR_DIR / 'demosites.db'}"

    @field_validator("secret_key")
    @classmethod
    def _secret_long_enough(cls, value: str) -> str:
        if value and len(value.encode()) < 32:
            raise ValueError("SECRET_KEY must be at least 32 bytes / 密钥至少 32 字节")
        return value

    @model_validator(mode="after")
    def _fill_secret(self) -> Settings:
        if not self.secret_key:
            self.secret_key = _load_or_create_secret()
        if self.environment == "production" and (self.demo_mode or self.allow_clock_override):
            raise ValueError("demo mode and clock override are refused in production settings")
        answer, statement = (
            self.database_answer_timeout_seconds,
            self.database_statement_timeout_seconds,
        )
        if answer and statement and answer <= statement:
            raise ValueError(
                "DATABASE_ANSWER_TIMEOUT_SECONDS must exceed DATABASE_STATEMENT_TIMEOUT_SECONDS: "
                "the app would drop connections the server still works on / 客户端等待时间须长于语句超时"
            )
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def database_answer_deadline(self) -> float | None:
        """Seconds the client waits for one answer, or None (no statement timeout: no deadline)."""
        if not self.database_statement_timeout_seconds:
            return None
        return self.database_answer_timeout_seconds or None

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024


@lru_cache
def get_settings() -> Settings:
    return Settings()
