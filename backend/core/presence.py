"""Worker heartbeats in Redis, so the API can tell operators when no worker is running.

Each worker refreshes a Redis key with a short expiry; a worker that stops, or is killed,
lets its key expire. The API counts the keys.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket

from redis.asyncio import Redis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

KEY_PREFIX = "cca:worker:"
HEARTBEAT_SECONDS = 10.0
# Three missed heartbeats: a busy worker is not reported gone, a killed one is within 30 s.
EXPIRES_SECONDS = 30


def worker_key() -> str:
    return f"{KEY_PREFIX}{socket.gethostname()}:{os.getpid()}"


async def heartbeat_forever(redis: Redis, key: str) -> None:
    """Refresh this worker's key until cancelled, then delete it."""
    try:
        while True:
            try:
                await redis.set(key, "1", ex=EXPIRES_SECONDS)
            except RedisError as error:
                # Redis is down: the key expires and the API reports no worker, which is true
                # as far as new tasks go. Try again at the next beat.
                logger.warning("worker heartbeat failed", extra={"error": type(error).__name__})
            await asyncio.sleep(HEARTBEAT_SECONDS)
    finally:
        try:
            await redis.delete(key)
        except RedisError:
            logger.warning("could not remove the worker heartbeat key", extra={"key": key})


async def count_workers(redis: Redis) -> int:
    return len([key async for key in redis.scan_iter(match=f"{KEY_PREFIX}*", count=100)])
