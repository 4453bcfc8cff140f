"""Settings read from the environment and an optional `.env` file.

Nothing happens at import time: `load_settings()` reads the environment when the app factory
or the worker asks for it. Every field is documented in `.env.example`.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Literal

import msgspec

PLACEHOLDER_SECRETS = frozenset({"", "change-me", "changeme", "secret", "please-change-me"})
MIN_SECRET_LENGTH = 32


class ConfigError(Exception):
    """A setting is missing or invalid; the message says which one and how to fix it."""


class Settings(msgspec.Struct, kw_only=True, frozen=True):
    app_name: str = "CCA Campaign Manager"
    secret_key: str = ""
    access_token_expire_minutes: int = 15
    refresh_token_expire_days: int = 30
    database_url: str = ""
    redis_url: str = ""
    queue_backend: Literal["auto", "inline", "redis"] = "auto"
    web_origin: str = ""
    public_base_url: str = ""
    secure_cookies: bool = False
    brevo_smtp_api_key: str = ""
    sender_email: str = ""
    sender_name: str = ""
    brevo_api_base_url: str = "https://api.brevo.com"
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: str = "data"
    upload_max_mb: int = 50
    send_chunk_size: int = 100
    send_lease_seconds: int = 120
    brevo_timeout_seconds: float = 0.0
    send_max_attempts: int = 5
    send_retry_base_seconds: float = 2.0
    send_retry_max_seconds: float = 60.0
    send_pause_after_failures: int = 10
    reconcile_interval_seconds: float = 60.0
    stalled_after_seconds: float = 120.0
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    login_max_failures: int = 5
    login_failure_window_seconds: int = 900
    allow_signup: bool = True
    log_level: str = "INFO"

    @property
    def is_production(self) -> bool:
        """Production mode is a Postgres database; everything else is the embedded default."""
        return self.database_url.startswith("postgresql")

    @property
    def uses_redis(self) -> bool:
        return bool(self.redis_url)

    @property
    def inline_queue(self) -> bool:
        """Whether Taskiq runs tasks inside the API process instead of a worker."""
        if self.queue_backend == "inline":
            return True
        if self.queue_backend == "redis":
            return False
        return not self.uses_redis

    @property
    def provider_timeout_seconds(self) -> float:
        """Seconds one Brevo request may take: BREVO_TIMEOUT_SECONDS, or a quarter of the lease.

        A claim must outlive the request made under it, or another worker could re-claim the
        recipients while the first request is still open.
        """
        if self.brevo_timeout_seconds > 0:
            return self.brevo_timeout_seconds
        return min(30.0, self.send_lease_seconds / 4)

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir)

    @property
    def uploads_dir(self) -> Path:
        return self.data_path / "uploads"

    @property
    def outbox_dir(self) -> Path:
        return self.data_path / "outbox"


def read_env_file(path: Path) -> dict[str, str]:
    """Parse `KEY=VALUE` lines; `#` starts a comment line and quotes around a value are removed."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for number, raw_line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw_line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line.removeprefix("export ").lstrip()
        key, separator, value = line.partition("=")
        if not separator:
            raise ConfigError(f"{path}, line {number}: expected KEY=VALUE, found {raw_line!r}.")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def load_settings(
    environ: dict[str, str] | None = None, env_file: Path | None = Path(".env")
) -> Settings:
    """Build the settings from `.env` overlaid by the process environment."""
    merged: dict[str, str] = read_env_file(env_file) if env_file is not None else {}
    merged.update(os.environ if environ is None else environ)

    raw: dict[str, object] = {}
    for field in msgspec.structs.fields(Settings):
        value = merged.get(field.name.upper())
        if value is not None and value != "":
            raw[field.name] = value
    try:
        settings = msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as error:
        raise ConfigError(f"Invalid setting: {error}. Check .env or the environment.") from error
    check_delivery_timings(settings)
    return _with_defaults(settings)


def check_delivery_timings(settings: Settings) -> None:
    """Raise ConfigError for delivery timings that would break the send lease or retries."""
    if settings.send_lease_seconds <= 0:
        raise ConfigError(
            f"SEND_LEASE_SECONDS must be a positive number of seconds, got "
            f"{settings.send_lease_seconds}."
        )
    if settings.provider_timeout_seconds >= settings.send_lease_seconds:
        raise ConfigError(
            f"SEND_LEASE_SECONDS ({settings.send_lease_seconds}) must be longer than "
            f"BREVO_TIMEOUT_SECONDS ({settings.provider_timeout_seconds:g}): a claim that "
            "expires during its request lets another worker send the same recipients. Raise "
            "SEND_LEASE_SECONDS or lower BREVO_TIMEOUT_SECONDS."
        )
    positive = {
        "SEND_MAX_ATTEMPTS": settings.send_max_attempts,
        "SEND_PAUSE_AFTER_FAILURES": settings.send_pause_after_failures,
        "RECONCILE_INTERVAL_SECONDS": settings.reconcile_interval_seconds,
        "STALLED_AFTER_SECONDS": settings.stalled_after_seconds,
        "SEND_RETRY_BASE_SECONDS": settings.send_retry_base_seconds,
        "SEND_RETRY_MAX_SECONDS": settings.send_retry_max_seconds,
    }
    for name, value in positive.items():
        if value <= 0:
            raise ConfigError(f"{name} must be greater than 0, got {value}.")


def _with_defaults(settings: Settings) -> Settings:
    data_dir = settings.data_path
    database_url = settings.database_url or f"sqlite+aiosqlite:///{data_dir / 'app.db'}"
    for prefix in ("postgresql://", "postgres://"):
        if database_url.startswith(prefix):
            database_url = "postgresql+asyncpg://" + database_url.removeprefix(prefix)
    web_origin = (settings.web_origin or f"http://{settings.host}:{settings.port}").rstrip("/")
    public_base_url = (settings.public_base_url or web_origin).rstrip("/")
    return msgspec.structs.replace(
        settings,
        database_url=database_url,
        web_origin=web_origin,
        public_base_url=public_base_url,
    )


def resolve_secret_key(settings: Settings) -> Settings:
    """Return settings with a usable SECRET_KEY, or raise ConfigError in production.

    The embedded default generates a key on first run and keeps it in DATA_DIR, so a restart
    keeps sessions and unsubscribe links valid. Production must set its own, because several
    API and worker processes have to share it.
    """
    key = settings.secret_key.strip()
    if key.lower() not in PLACEHOLDER_SECRETS and len(key) >= MIN_SECRET_LENGTH:
        return settings
    if settings.is_production:
        raise ConfigError(
            "SECRET_KEY is missing, a placeholder, or shorter than "
            f"{MIN_SECRET_LENGTH} characters. Production mode (a Postgres DATABASE_URL) needs "
            "a random key shared by every API and worker process; generate one with "
            "`python -c 'import secrets; print(secrets.token_urlsafe(48))'` and set it in .env."
        )
    key_file = settings.data_path / "secret_key"
    if key_file.is_file():
        key = key_file.read_text(encoding="utf-8").strip()
    if len(key) < MIN_SECRET_LENGTH:
        key = secrets.token_urlsafe(48)
        settings.data_path.mkdir(parents=True, exist_ok=True)
        key_file.write_text(key + "\n", encoding="utf-8")
        key_file.chmod(0o600)
    return msgspec.structs.replace(settings, secret_key=key)
