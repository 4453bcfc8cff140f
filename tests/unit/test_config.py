from __future__ import annotations

import re
from pathlib import Path

import msgspec
import pytest

from backend.core.config import ConfigError, Settings, load_settings, resolve_secret_key

ROOT = Path(__file__).resolve().parents[2]
POSTGRES = "postgresql://app@127.0.0.1:5432/app"


def test_defaults_are_embedded_mode(tmp_path: Path) -> None:
    settings = load_settings(environ={"DATA_DIR": str(tmp_path)}, env_file=None)

    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
    assert not settings.is_production
    assert settings.inline_queue
    assert settings.web_origin == "http://127.0.0.1:8000"
    assert settings.public_base_url == settings.web_origin


def test_postgres_url_uses_asyncpg() -> None:
    settings = load_settings(environ={"DATABASE_URL": POSTGRES}, env_file=None)

    assert settings.database_url == "postgresql+asyncpg://app@127.0.0.1:5432/app"
    assert settings.is_production


def test_redis_url_switches_queue_unless_inline() -> None:
    with_redis = load_settings(environ={"REDIS_URL": "redis://127.0.0.1:6379/0"}, env_file=None)
    forced_inline = load_settings(
        environ={"REDIS_URL": "redis://127.0.0.1:6379/0", "QUEUE_BACKEND": "inline"}, env_file=None
    )

    assert not with_redis.inline_queue
    assert forced_inline.inline_queue


def test_env_file_is_read_and_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text('# comment\nAPP_NAME="From file"\nPORT=9000\nexport SENDER_NAME=Ops\n')

    settings = load_settings(environ={"PORT": "9100"}, env_file=env_file)

    assert settings.app_name == "From file"
    assert settings.port == 9100
    assert settings.sender_name == "Ops"


def test_invalid_number_names_the_setting() -> None:
    with pytest.raises(ConfigError, match="port"):
        load_settings(environ={"PORT": "eighty"}, env_file=None)


@pytest.mark.parametrize("secret", ["", "change-me", "short"])
def test_production_rejects_missing_or_placeholder_secret(secret: str) -> None:
    settings = load_settings(
        environ={"DATABASE_URL": POSTGRES, "SECRET_KEY": secret}, env_file=None
    )

    with pytest.raises(ConfigError, match="SECRET_KEY"):
        resolve_secret_key(settings)


def test_embedded_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    settings = load_settings(environ={"DATA_DIR": str(tmp_path)}, env_file=None)

    first = resolve_secret_key(settings)
    second = resolve_secret_key(settings)

    assert len(first.secret_key) >= 32
    assert first.secret_key == second.secret_key
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_env_example_documents_every_setting() -> None:
    documented = set(
        re.findall(r"^([A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE)
    )
    fields = {field.name.upper() for field in msgspec.structs.fields(Settings)}

    assert documented == fields
