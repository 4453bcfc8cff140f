"""Counters that expire, shared by every process through Redis or kept in memory."""

from __future__ import annotations

import time
from typing import Protocol

from redis.asyncio import Redis


class WindowCounter(Protocol):
    async def increment(self, key: str, window_seconds: int) -> tuple[int, int]:
        """Add one; return the count in the current window and the seconds until it ends."""
        ...

    async def count(self, key: str) -> tuple[int, int]: ...

    async def reset(self, key: str) -> None: ...


class MemoryWindowCounter:
    # Expired windows are dropped once this many keys exist, so failed logins for many
    # different emails cannot grow memory without bound.
    PRUNE_AT = 10_000

    def __init__(self) -> None:
        self._entries: dict[str, tuple[int, float]] = {}

    def _prune(self) -> None:
        now = time.monotonic()
        self._entries = {key: entry for key, entry in self._entries.items() if entry[1] > now}

    def _current(self, key: str) -> tuple[int, float]:
        count, expires = self._entries.get(key, (0, 0.0))
        if expires <= time.monotonic():
            return 0, 0.0
        return count, expires

    async def increment(self, key: str, window_seconds: int) -> tuple[int, int]:
        if len(self._entries) >= self.PRUNE_AT:
            self._prune()
        count, expires = self._current(key)
        if not count:
            expires = time.monotonic() + window_seconds
        self._entries[key] = (count + 1, expires)
        return count + 1, max(1, round(expires - time.monotonic()))

    async def count(self, key: str) -> tuple[int, int]:
        count, expires = self._current(key)
        return count, max(0, round(expires - time.monotonic()))

    async def reset(self, key: str) -> None:
        self._entries.pop(key, None)


class RedisWindowCounter:
    def __init__(self, redis: Redis, prefix: str = "cca:counter:") -> None:
        self.redis = redis
        self.prefix = prefix

    async def increment(self, key: str, window_seconds: int) -> tuple[int, int]:
        name = self.prefix + key
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, window_seconds, nx=True)
            pipe.ttl(name)
            count, _, ttl = await pipe.execute()
        return int(count), max(1, int(ttl))

    async def count(self, key: str) -> tuple[int, int]:
        name = self.prefix + key
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.get(name)
            pipe.ttl(name)
            value, ttl = await pipe.execute()
        return int(value or 0), max(0, int(ttl))

    async def reset(self, key: str) -> None:
        await self.redis.delete(self.prefix + key)
