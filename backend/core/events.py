"""Live events: workers publish them per account, the API relays them to WebSockets.

A published message is a JSON array of event objects, so a worker sends one message per
chunk instead of one per recipient. The channel name is plain (`live:<account id>`), so a
worker in another process can PUBLISH with redis-py and the API's Redis pub/sub backend
relays it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any, Protocol
from uuid import UUID

import msgspec
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

Event = dict[str, Any]
# While Redis is unreachable, one warning per this many seconds reports the dropped events.
DROPPED_WARNING_INTERVAL_SECONDS = 10.0


def account_channel(account_id: UUID) -> str:
    return f"live:{account_id}"


class EventPublisher(Protocol):
    async def publish(self, account_id: UUID, events: Sequence[Event]) -> None: ...


class RedisEventPublisher:
    """Publishes with redis-py, and drops events while Redis is unreachable.

    Live events only mirror what the database already stores, so a Redis restart must not
    fail the send step that published them. Dashboards catch up from the next event or on
    reload.
    """

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.dropped = 0
        self._warned_at: float | None = None

    async def publish(self, account_id: UUID, events: Sequence[Event]) -> None:
        if not events:
            return
        try:
            await self.redis.publish(account_channel(account_id), msgspec.json.encode(events))
        except (RedisConnectionError, RedisTimeoutError) as error:
            self.dropped += len(events)
            self._warn_dropped(account_id, error)

    def _warn_dropped(self, account_id: UUID, error: Exception) -> None:
        now = time.monotonic()
        if self._warned_at is not None and now - self._warned_at < DROPPED_WARNING_INTERVAL_SECONDS:
            return
        self._warned_at = now
        logger.warning(
            "live events dropped: Redis is unreachable",
            extra={
                "account_id": str(account_id),
                "dropped_total": self.dropped,
                "error": str(error),
            },
        )


class ChannelsEventPublisher:
    """Publishes through Litestar's ChannelsPlugin (in-memory backend in the embedded default)."""

    def __init__(self, channels: Any) -> None:
        self.channels = channels

    async def publish(self, account_id: UUID, events: Sequence[Event]) -> None:
        if events:
            self.channels.publish(msgspec.json.encode(events), [account_channel(account_id)])
