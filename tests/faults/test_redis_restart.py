"""Restart Redis, without persistence, while the worker sends a batch."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.faults.conftest import (
    RigFactory,
    assert_batch_consistent,
    launch,
    stage_batch,
    summary,
    wait_for_accepted,
    wait_for_completed,
)

pytestmark = pytest.mark.faults

RECIPIENTS = 6_000


async def test_redis_restart_sends_each_once(make_rig: RigFactory) -> None:
    rig = await make_rig(send_chunk_size="100")
    rig.fake.faults.latency = 0.05
    batch = await stage_batch(rig, RECIPIENTS)

    started = time.monotonic()
    await launch(rig, batch["id"])
    await wait_for_accepted(rig, RECIPIENTS // 4, seconds=120)
    # The restarted server is empty: the task stream, its consumer group and the shared
    # limits are gone, as after a Redis restart without persistence.
    await rig.redis.stop()
    accepted_at_stop = len(rig.fake.messages)
    await asyncio.sleep(3)
    await rig.redis.start()
    done = await wait_for_completed(rig, batch["id"], seconds=150)

    assert rig.redis.starts == 2
    # The worker process rode out the restart instead of exiting and being started again.
    assert rig.worker.logs().count("worker started") == 1, rig.worker.log_tail()
    assert accepted_at_stop < RECIPIENTS, "the batch was sent before Redis stopped"
    states = await assert_batch_consistent(rig, done)
    assert states["sent"] == RECIPIENTS
    print(f"Redis restart at {accepted_at_stop} accepted:", summary(rig, states, started))
