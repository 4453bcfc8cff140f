"""The app factory: the composition root that wires settings, database, queue and routes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from litestar import Litestar, Request, Response, Router
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.channels.backends.redis import RedisChannelsPubSubBackend
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.logging.config import LoggingConfig
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.response import File
from litestar.static_files import create_static_files_router
from redis.asyncio import Redis
from taskiq import InMemoryBroker

from backend.accounts.controller import SettingsController
from backend.activity.controller import ActivityController
from backend.auth.controller import AuthController
from backend.auth.guards import provide_account, require_account
from backend.auth.passwords import Passwords
from backend.batches.controller import BatchController
from backend.contacts.controller import ContactController, UnsubscribeController
from backend.core.config import Settings, load_settings, resolve_secret_key
from backend.core.database import Database, create_engine
from backend.core.dependencies import provide_db_session, provide_services
from backend.core.events import ChannelsEventPublisher
from backend.core.exceptions import EXCEPTION_HANDLERS, http_exception_handler
from backend.core.health import health
from backend.core.logging import configure_logging
from backend.core.queue import TaskQueue, build_broker
from backend.core.ratelimit import MemoryWindowCounter, RedisWindowCounter, WindowCounter
from backend.core.security_headers import security_headers
from backend.core.state import AppServices
from backend.dashboard.controller import SummaryController
from backend.delivery.limits import MemorySendLimiter, RedisSendLimiter
from backend.delivery.recovery import reconcile_forever, recover_interrupted_sends
from backend.imports.controller import ImportController
from backend.imports.presets import MappingPresetController
from backend.live.controller import live_socket
from backend.templates.controller import TemplateController
from backend.webhooks.controller import BrevoWebhookController

logger = logging.getLogger(__name__)

FRONTEND_DIST = Path(__file__).resolve().parent.parent / "frontend" / "dist"


def create_app(settings: Settings | None = None, *, frontend_dist: Path | None = None) -> Litestar:
    settings = resolve_secret_key(settings or load_settings())
    configure_logging(settings.log_level)
    dist = frontend_dist or FRONTEND_DIST

    redis = Redis.from_url(settings.redis_url) if settings.uses_redis else None
    channels_backend = (
        RedisChannelsPubSubBackend(redis=redis) if redis is not None else MemoryChannelsBackend()
    )
    channels = ChannelsPlugin(backend=channels_backend, arbitrary_channels_allowed=True)
    failures: WindowCounter = (
        RedisWindowCounter(redis) if redis is not None else MemoryWindowCounter()
    )
    broker = build_broker(settings)
    services = AppServices(
        settings=settings,
        database=Database(create_engine(settings)),
        passwords=Passwords(
            time_cost=settings.argon2_time_cost, memory_kib=settings.argon2_memory_kib
        ),
        login_failures=failures,
        queue=TaskQueue(broker),
        publisher=ChannelsEventPublisher(channels),
        limiter=RedisSendLimiter(redis) if redis is not None else MemorySendLimiter(),
        redis=redis,
    )
    if settings.inline_queue:
        # The embedded default runs the send tasks inside this process.
        from workers.tasks import register_tasks

        register_tasks(broker)
        broker.state.services = services

    @asynccontextmanager
    async def lifespan(_app: Litestar) -> AsyncGenerator[None, None]:
        settings.uploads_dir.mkdir(parents=True, exist_ok=True)
        if settings.inline_queue:
            services.http.open()
        if not broker.is_worker_process:
            await broker.startup()
        if settings.inline_queue:
            # With SQLite this process is the only sender, so every claim left from a
            # previous run is dead, whatever time its lease runs to.
            await recover_interrupted_sends(
                services.database,
                services.queue,
                release_all=not services.database.is_postgres,
            )
        reconciler = (
            asyncio.create_task(
                reconcile_forever(
                    services.database,
                    services.queue,
                    interval=settings.reconcile_interval_seconds,
                    stalled_after=settings.stalled_after_seconds,
                )
            )
            if settings.inline_queue
            else None
        )
        if settings.is_production and not settings.public_base_url.startswith("https://"):
            logger.warning(
                "PUBLIC_BASE_URL is not HTTPS; mailbox providers expect HTTPS unsubscribe links",
                extra={"public_base_url": settings.public_base_url},
            )
        logger.info(
            "api started",
            extra={
                "mode": "production" if settings.is_production else "embedded",
                "queue": "inline" if settings.inline_queue else "redis",
            },
        )
        try:
            yield
        finally:
            if reconciler is not None:
                reconciler.cancel()
                await asyncio.gather(reconciler, return_exceptions=True)
            if isinstance(broker, InMemoryBroker):
                await stop_inline_tasks(broker)
            if not broker.is_worker_process:
                await broker.shutdown()
            await services.http.close()
            await services.database.dispose()
            if redis is not None:
                await redis.aclose()

    account_routes = Router(
        path="/",
        route_handlers=[
            TemplateController,
            ImportController,
            MappingPresetController,
            ContactController,
            BatchController,
            SettingsController,
            ActivityController,
            SummaryController,
        ],
        guards=[require_account],
        dependencies={"account": Provide(provide_account, sync_to_thread=False)},
    )
    route_handlers: list[Any] = [
        AuthController,
        account_routes,
        UnsubscribeController,
        BrevoWebhookController,
        health,
        live_socket,
    ]
    if (dist / "index.html").is_file():
        route_handlers.append(
            create_static_files_router(
                path="/", directories=[dist], html_mode=True, name="dashboard"
            )
        )

    def not_found_handler(request: Request[Any, Any, Any], error: HTTPException) -> Response[Any]:
        return spa_fallback(request, error, dist)

    handlers = dict(EXCEPTION_HANDLERS)
    handlers[404] = not_found_handler
    handlers[405] = not_found_handler

    app = Litestar(
        route_handlers=route_handlers,
        dependencies={
            "db_session": Provide(provide_db_session),
            "services": Provide(provide_services, sync_to_thread=False),
        },
        plugins=[channels],
        exception_handlers=handlers,
        lifespan=[lifespan],
        openapi_config=OpenAPIConfig(
            title=settings.app_name,
            version="1",
            path="/schema",
            render_plugins=[JsonRenderPlugin()],
        ),
        request_max_body_size=2 * 1024 * 1024,
        after_request=security_headers(settings.web_origin),
        # Litestar's default config replaces the root handler, which drops the key=value fields
        # that configure_logging() adds to every line.
        logging_config=LoggingConfig(configure_root_logger=False),
        debug=False,
    )
    app.state.services = services
    app.state.channels = channels
    return app


async def stop_inline_tasks(broker: InMemoryBroker) -> None:
    """Cancel send tasks still running in this process, before the database closes.

    A throttled batch's task can sleep for up to an hour; waiting for it would hang the
    shutdown. Its claimed recipients are handed back at the next start.
    """
    # NOTE: taskiq's InMemoryBroker has no public way to cancel its tasks; this reads its
    # private set of running tasks (taskiq 0.13).
    running = list(getattr(broker, "_running_tasks", ()))
    for task in running:
        task.cancel()
    await asyncio.gather(*running, return_exceptions=True)


def spa_fallback(
    request: Request[Any, Any, Any], error: HTTPException, dist: Path
) -> Response[Any]:
    """Serve the dashboard's index.html for browser routes such as /batches/<id>."""
    path = request.url.path
    index = dist / "index.html"
    is_page = request.method in ("GET", "HEAD") and not path.startswith(("/api/", "/schema"))
    if is_page and index.is_file():
        return File(index, content_disposition_type="inline", media_type="text/html")
    return http_exception_handler(request, error)
