"""Send limits shared by every worker of an account: hourly and daily message quotas, the
provider request rate, and the wait that a 429 from Brevo imposes.

Production keeps the counters in Redis, so every worker process reads the same numbers.
The embedded default keeps them in memory, because its single process is the only sender.
Quotas use fixed windows (the clock hour and the UTC day), which is what operators read in
a "300 per day" plan limit.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol
from uuid import UUID

from redis.asyncio import Redis


class Reservation:
    """How many messages a chunk may send now, and when the exhausted window reopens."""

    def __init__(self, allowed: int, reopens_at: datetime | None) -> None:
        self.allowed = allowed
        self.reopens_at = reopens_at


def _windows(now: datetime) -> list[tuple[str, datetime]]:
    hour_start = now.replace(minute=0, second=0, microsecond=0)
    day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return [
        (f"h{hour_start:%Y%m%d%H}", hour_start + timedelta(hours=1)),
        (f"d{day_start:%Y%m%d}", day_start + timedelta(days=1)),
    ]


class SendLimiter(Protocol):
    async def reserve(
        self, account_id: UUID, count: int, hourly_limit: int, daily_limit: int
    ) -> Reservation: ...

    async def release(
        self, account_id: UUID, count: int, hourly_limit: int, daily_limit: int
    ) -> None:
        """Give back part of a reservation that was not used."""
        ...

    async def request_delay(self, account_id: UUID, rate_per_second: int) -> float:
        """Take a request slot; return the seconds to wait first (0 when a slot is free)."""
        ...

    async def block(self, account_id: UUID, seconds: float) -> None:
        """Stop every worker of the account from sending for `seconds` (a 429's reset)."""
        ...

    async def blocked_for(self, account_id: UUID) -> float: ...


class MemorySendLimiter:
    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        self._blocked_until: dict[UUID, float] = {}

    async def reserve(
        self, account_id: UUID, count: int, hourly_limit: int, daily_limit: int
    ) -> Reservation:
        now = datetime.now(UTC)
        allowed = count
        reopens_at = None
        for (window, ends_at), limit in zip(
            _windows(now), (hourly_limit, daily_limit), strict=True
        ):
            if limit <= 0:
                continue
            used = self._counts.get(f"{account_id}:{window}", 0)
            room = max(0, limit - used)
            if room < allowed:
                allowed = room
                reopens_at = ends_at if reopens_at is None else max(reopens_at, ends_at)
        for (window, _), limit in zip(_windows(now), (hourly_limit, daily_limit), strict=True):
            if limit > 0:
                key = f"{account_id}:{window}"
                self._counts[key] = self._counts.get(key, 0) + allowed
        return Reservation(allowed, reopens_at if allowed < count else None)

    async def release(
        self, account_id: UUID, count: int, hourly_limit: int, daily_limit: int
    ) -> None:
        for (window, _), limit in zip(
            _windows(datetime.now(UTC)), (hourly_limit, daily_limit), strict=True
        ):
            key = f"{account_id}:{window}"
            if limit > 0 and key in self._counts:
                self._counts[key] = max(0, self._counts[key] - count)

    async def request_delay(self, account_id: UUID, rate_per_second: int) -> float:
        second = int(time.time())
        key = f"{account_id}:r{second}"
        used = self._counts.get(key, 0)
        if used >= rate_per_second:
            return (second + 1) - time.time()
        self._counts[key] = used + 1
        return 0.0

    async def block(self, account_id: UUID, seconds: float) -> None:
        until = time.monotonic() + seconds
        self._blocked_until[account_id] = max(until, self._blocked_until.get(account_id, 0.0))

    async def blocked_for(self, account_id: UUID) -> float:
        return max(0.0, self._blocked_until.get(account_id, 0.0) - time.monotonic())


class RedisSendLimiter:
    def __init__(self, redis: Redis, prefix: str = "cca:limits:") -> None:
        self.redis = redis
        self.prefix = prefix

    async def reserve(
        self, account_id: UUID, count: int, hourly_limit: int, daily_limit: int
    ) -> Reservation:
        now = datetime.now(UTC)
        allowed = count
        reopens_at = None
        taken: list[tuple[str, int]] = []
        for (window, ends_at), limit in zip(
            _windows(now), (hourly_limit, daily_limit), strict=True
        ):
            if limit <= 0:
                continue
            key = f"{self.prefix}{account_id}:{window}"
            # INCRBY first, then give back what went over the limit: concurrent workers may
            # briefly see a higher count and send less, but together never more than it.
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.incrby(key, allowed)
                pipe.expireat(key, ends_at + timedelta(minutes=5))
                total, _ = await pipe.execute()
            over = max(0, int(total) - limit)
            granted = max(0, allowed - over)
            if granted < allowed:
                await self.redis.decrby(key, allowed - granted)
                reopens_at = ends_at if reopens_at is None else max(reopens_at, ends_at)
                for earlier_key, earlier in taken:
                    await self.redis.decrby(earlier_key, earlier - granted)
                allowed = granted
            taken.append((key, allowed))
        return Reservation(allowed, reopens_at if allowed < count else None)

    async def release(
        self, account_id: UUID, count: int, hourly_limit: int, daily_limit: int
    ) -> None:
        for (window, _), limit in zip(
            _windows(datetime.now(UTC)), (hourly_limit, daily_limit), strict=True
        ):
            if limit > 0 and count > 0:
                await self.redis.decrby(f"{self.prefix}{account_id}:{window}", count)

    async def request_delay(self, account_id: UUID, rate_per_second: int) -> float:
        second = int(time.time())
        key = f"{self.prefix}{account_id}:r{second}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, 2)
            used, _ = await pipe.execute()
        if int(used) > rate_per_second:
            return (second + 1) - time.time()
        return 0.0

    async def block(self, account_id: UUID, seconds: float) -> None:
        milliseconds = max(1, round(seconds * 1000))
        await self.redis.set(f"{self.prefix}{account_id}:blocked", "1", px=milliseconds)

    async def blocked_for(self, account_id: UUID) -> float:
        remaining = await self.redis.pttl(f"{self.prefix}{account_id}:blocked")
        return max(0.0, int(remaining) / 1000)
