"""SIGKILL the worker again and again while it sends one large batch."""

from __future__ import annotations

import asyncio
import random
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

RECIPIENTS = 20_000
KILLS = 12


async def test_killed_worker_sends_each_once(make_rig: RigFactory) -> None:
    # Latency keeps requests in flight, so kills land between Brevo's accept and our record.
    rig = await make_rig(send_chunk_size="200")
    rig.fake.faults.latency = 0.05
    batch = await stage_batch(rig, RECIPIENTS)
    chooser = random.Random(20_000)
    # Kill points are counts of accepted messages, so the kills spread over the batch however
    # fast the engine sends.
    # They stop at three quarters, so the last kill still lands before the batch ends: one
    # worker can send a few thousand messages in the short pause before a kill.
    kill_points = sorted(chooser.sample(range(RECIPIENTS // 40, RECIPIENTS * 3 // 4, 400), KILLS))

    started = time.monotonic()
    await launch(rig, batch["id"])
    accepted_at_kills: list[int] = [0]
    for point in kill_points:
        # Each kill also waits for a message accepted after the previous kill, so most kills
        # hit a worker that is sending rather than one that is still starting.
        await wait_for_accepted(rig, max(point, accepted_at_kills[-1] + 1), seconds=120)
        await asyncio.sleep(chooser.uniform(0.0, 0.1))
        await rig.worker.kill()
        accepted_at_kills.append(len(rig.fake.messages))
        await rig.worker.start()
    del accepted_at_kills[0]
    done = await wait_for_completed(rig, batch["id"], seconds=180)

    assert rig.worker.kills == KILLS
    assert max(accepted_at_kills) < RECIPIENTS, (
        f"a kill came after the last send: {accepted_at_kills}"
    )
    states = await assert_batch_consistent(rig, done)
    assert states["sent"] == RECIPIENTS
    print(f"Worker killed at {accepted_at_kills} accepted:", summary(rig, states, started))
