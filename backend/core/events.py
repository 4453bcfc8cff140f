"""Live events: workers publish them per account, the API relays them to WebSockets.

A published message is a JSON array of event objects, so a worker sends one message per
chunk instead of one per recipient. The channel name is plain (`live:<account id>`), so a
worker in another process can PUBLISH with redis-py and the API's Redis pub/sub backend
relays it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol
from uuid import UUID

import msgspec
from redis.asyncio import Redis

Event = dict[str, Any]


def account_channel(account_id: UUID) -> str:
    return f"live:{account_id}"


class EventPublisher(Protocol):
    async def publish(self, account_id: UUID, events: Sequence[Event]) -> None: ...


class RedisEventPublisher:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def publish(self, account_id: UUID, events: Sequence[Event]) -> None:
        if events:
            await self.redis.publish(account_channel(account_id), msgspec.json.encode(events))


class ChannelsEventPublisher:
    """Publishes through Litestar's ChannelsPlugin (in-memory backend in the embedded default)."""

    def __init__(self, channels: Any) -> None:
        self.channels = channels

    async def publish(self, account_id: UUID, events: Sequence[Event]) -> None:
        if events:
            self.channels.publish(msgspec.json.encode(events), [account_channel(account_id)])
