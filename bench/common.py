"""Pieces the benchmark scripts share: a free loopback port and a fresh Postgres database."""

from __future__ import annotations

import os
import socket

import asyncpg

ADMIN_URL = os.environ.get(
    "BENCH_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def recreate_database(name: str) -> str:
    """Drop and create the database `name` on the admin server; return its URL."""
    connection = await asyncpg.connect(ADMIN_URL)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    netloc = ADMIN_URL.split("://", 1)[1].split("/", 1)[0]
    return f"postgresql://{netloc}/{name}"
