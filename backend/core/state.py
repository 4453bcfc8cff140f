"""Process-wide services built once by the app factory or the worker, stored on app state."""

from __future__ import annotations

from dataclasses import dataclass, field

from redis.asyncio import Redis

from backend.auth.passwords import Passwords
from backend.core.config import Settings
from backend.core.database import Database
from backend.core.events import EventPublisher
from backend.core.queue import TaskQueue
from backend.core.ratelimit import WindowCounter
from backend.delivery.limits import SendLimiter
from backend.delivery.transport import SharedHttpSession


@dataclass
class AppServices:
    settings: Settings
    database: Database
    passwords: Passwords
    login_failures: WindowCounter
    queue: TaskQueue
    publisher: EventPublisher
    limiter: SendLimiter
    redis: Redis | None = field(default=None)
    # The HTTP session shared by send tasks that run in this process. The app's lifespan
    # opens it when this process runs tasks itself (the embedded default), and closes it.
    http: SharedHttpSession = field(default_factory=SharedHttpSession)
