"""`GET /api/v1/health`: whether this API process can reach its database and Redis.

Container healthchecks and load balancers call it, so it needs no session. It returns 503
when a dependency is unreachable and names that dependency in the body.
"""

from __future__ import annotations

import asyncio
import logging

import msgspec
from litestar import Response, get
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE
from sqlalchemy import text

from backend.core.dependencies import Services
from backend.core.presence import count_workers

logger = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 3.0


class Health(msgspec.Struct):
    status: str
    database: str
    redis: str
    # Worker processes seen in the last 30 s; null when this API process runs tasks itself.
    workers: int | None = None


@get("/api/v1/health", tags=["health"], cache=False)
async def health(services: Services) -> Response[Health]:
    database = "ok"
    try:
        async with services.database.session() as session:
            await asyncio.wait_for(session.execute(text("SELECT 1")), CHECK_TIMEOUT_SECONDS)
    except Exception as error:
        logger.warning(
            "health check failed: database unreachable", extra={"error": type(error).__name__}
        )
        database = "unreachable"

    redis = "not used"
    workers: int | None = None
    if services.redis is not None:
        try:
            await asyncio.wait_for(services.redis.ping(), CHECK_TIMEOUT_SECONDS)
            redis = "ok"
            if not services.settings.inline_queue:
                workers = await asyncio.wait_for(
                    count_workers(services.redis), CHECK_TIMEOUT_SECONDS
                )
        except Exception as error:
            logger.warning(
                "health check failed: Redis unreachable", extra={"error": type(error).__name__}
            )
            redis = "unreachable"

    healthy = "unreachable" not in (database, redis)
    return Response(
        # No worker does not make this process unhealthy: a load balancer must keep serving
        # the dashboard, which shows the operator a warning to start one.
        Health("ok" if healthy else "unavailable", database, redis, workers),
        status_code=HTTP_200_OK if healthy else HTTP_503_SERVICE_UNAVAILABLE,
    )
