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
    # Rendered application-list pages kept per API process while unchanged (0: none).
    list_cache_entries: int = Field(default=256, ge=0, le=100_000)
    # Days a finished document job's file is kept; then the sweep deletes it (the job: expired).
    document_job_retention_days: int = Field(default=7, ge=1, le=3650)
    public_base_url: str = "http://127.0.0.1:8000"

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
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024


@lru_cache
def get_settings() -> Settings:
    return Settings()
