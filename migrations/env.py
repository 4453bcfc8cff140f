"""Alembic environment: runs migrations with the app's own engine settings.

The URL comes from `config.attributes["database_url"]` when the caller passes one (tests,
`backend.cli migrate`), else from the app settings.
"""

from __future__ import annotations

import asyncio
import logging

import msgspec
from alembic import context
from sqlalchemy.engine import Connection

from backend.core.config import load_settings
from backend.core.database import create_engine
from backend.core.models import metadata

config = context.config
if config.attributes.get("configure_logging", True):
    logging.basicConfig(level=logging.INFO, format="%(levelname)s [%(name)s] %(message)s")


def _settings_url() -> str:
    url = config.attributes.get("database_url")
    if isinstance(url, str) and url:
        return url
    return load_settings().database_url


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        # SQLite reflects GUID columns as NUMERIC, so type comparison only means
        # something on Postgres.
        compare_type=connection.dialect.name != "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    settings = msgspec.structs.replace(load_settings(), database_url=_settings_url())
    engine = create_engine(settings)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_settings_url(), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_online())
