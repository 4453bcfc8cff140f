"""The health route that container healthchecks and load balancers call."""

from __future__ import annotations

import dataclasses
from typing import Any

import msgspec
from litestar import Litestar
from litestar.testing import AsyncTestClient

from backend.core.config import Settings
from backend.core.database import Database, create_engine
from backend.core.state import AppServices
from tests.conftest import TEST_MODE


async def test_health_reports_each_dependency(client: AsyncTestClient[Any]) -> None:
    response = await client.get("/api/v1/health")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["redis"] == ("ok" if TEST_MODE == "production" else "not used")


async def test_health_counts_running_workers(client: AsyncTestClient[Any], worker: object) -> None:
    response = await client.get("/api/v1/health")

    workers = response.json()["workers"]
    if TEST_MODE == "production":
        # The worker fixture's process refreshes its key when it starts.
        assert workers >= 1
    else:
        # The embedded default runs tasks in the API process: there is no worker to count.
        assert workers is None


async def test_health_answers_503_naming_an_unreachable_database(
    app: Litestar, client: AsyncTestClient[Any], settings: Settings
) -> None:
    # Nothing listens on the discard port, so the connection is refused.
    unreachable = msgspec.structs.replace(
        settings, database_url="postgresql+asyncpg://nobody@127.0.0.1:9/none"
    )
    services: AppServices = app.state.services
    broken = Database(create_engine(unreachable, pool_pre_ping=False))
    app.state.services = dataclasses.replace(services, database=broken)
    try:
        response = await client.get("/api/v1/health")
    finally:
        app.state.services = services
        await broken.dispose()

    assert response.status_code == 503, response.text
    assert response.json()["database"] == "unreachable"
    assert response.json()["status"] == "unavailable"
