"""Send limits: quotas, request rate and 429 blocks, in memory and in Redis."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import pytest
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from backend.delivery import sender
from backend.delivery.limits import MemorySendLimiter, RedisSendLimiter, SendLimiter
from tests.api.test_campaign_flow import stage_google_contacts
from tests.conftest import REDIS_URL, require_service, signup


@pytest.fixture(params=["memory", "redis"])
async def limiter(request: pytest.FixtureRequest) -> AsyncIterator[SendLimiter]:
    if request.param == "memory":
        yield MemorySendLimiter()
        return
    require_service(REDIS_URL, 6379, "Redis")
    redis = Redis.from_url(REDIS_URL)
    yield RedisSendLimiter(redis, prefix=f"test:{uuid4()}:")
    await redis.aclose()


async def test_reserve_grants_up_to_daily_limit(limiter: SendLimiter) -> None:
    account = uuid4()

    first = await limiter.reserve(account, 60, 0, 100)
    second = await limiter.reserve(account, 60, 0, 100)
    third = await limiter.reserve(account, 60, 0, 100)

    assert first.allowed == 60
    assert first.reopens_at is None
    assert second.allowed == 40
    assert second.reopens_at is not None
    assert third.allowed == 0


async def test_reserve_applies_stricter_of_hour_and_day(limiter: SendLimiter) -> None:
    account = uuid4()

    granted = await limiter.reserve(account, 500, 30, 100)
    after = await limiter.reserve(account, 500, 0, 100)

    assert granted.allowed == 30
    assert after.allowed == 70


async def test_release_returns_unused_reservation(limiter: SendLimiter) -> None:
    account = uuid4()

    await limiter.reserve(account, 100, 0, 100)
    await limiter.release(account, 40, 0, 100)
    again = await limiter.reserve(account, 100, 0, 100)

    assert again.allowed == 40


async def test_no_limit_grants_everything(limiter: SendLimiter) -> None:
    reservation = await limiter.reserve(uuid4(), 1000, 0, 0)

    assert reservation.allowed == 1000
    assert reservation.reopens_at is None


async def test_request_rate_delays_extra_requests(limiter: SendLimiter) -> None:
    # Retry when the four calls straddle a second boundary, which resets the window.
    for _ in range(5):
        account = uuid4()
        second = int(time.time())
        delays = [await limiter.request_delay(account, 3) for _ in range(4)]
        if int(time.time()) == second:
            break

    assert delays[:3] == [0.0, 0.0, 0.0]
    assert 0.0 < delays[3] <= 1.0


async def test_block_stops_every_worker_of_the_account(limiter: SendLimiter) -> None:
    account, other = uuid4(), uuid4()

    await limiter.block(account, 2.0)

    assert 1.0 < await limiter.blocked_for(account) <= 2.0
    assert await limiter.blocked_for(other) == 0.0


async def test_daily_limit_throttles_batch(
    client: AsyncTestClient[Any], monkeypatch: pytest.MonkeyPatch, worker: object
) -> None:
    # Only the in-process worker of the embedded mode uses this value. A worker process
    # keeps its 15-second poll and notices the cancel below a little later.
    monkeypatch.setattr(sender, "QUOTA_POLL_SECONDS", 0.1)
    await signup(client)
    limited = await client.put("/api/v1/settings", json={"daily_limit": 100})
    assert limited.status_code == 200, limited.text
    batch = await stage_google_contacts(client, "Quota")

    await client.post(f"/api/v1/batches/{batch['id']}/launch")
    current: dict[str, Any] = {}
    for _ in range(100):
        current = (await client.get(f"/api/v1/batches/{batch['id']}")).json()
        # The throttle is recorded just after the last allowed chunk, so wait for both.
        settled = current["counts"]["sent"] == 100 and current["counts"]["processing"] == 0
        if settled and current["throttled_until"] is not None:
            break
        await asyncio.sleep(0.1)

    assert current["status"] == "running"
    assert current["throttled_until"] is not None
    assert current["counts"]["sent"] == 100
    assert current["counts"]["queued"] == 293
    cancelled = await client.post(f"/api/v1/batches/{batch['id']}/cancel")
    assert cancelled.status_code == 200
