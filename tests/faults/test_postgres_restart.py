"""Restart Postgres while the worker sends a batch."""

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


async def test_postgres_restart_sends_each_once(make_rig: RigFactory) -> None:
    rig = await make_rig(private_postgres=True, send_chunk_size="100")
    rig.fake.faults.latency = 0.05
    batch = await stage_batch(rig, RECIPIENTS)
    assert rig.postgres is not None

    started = time.monotonic()
    await launch(rig, batch["id"])
    await wait_for_accepted(rig, RECIPIENTS // 4, seconds=120)
    # A fast shutdown ends every open connection, so a chunk in flight cannot record what
    # Brevo accepted until the server is back.
    await rig.postgres.stop()
    accepted_at_stop = len(rig.fake.messages)
    await asyncio.sleep(3)
    await rig.postgres.start()
    done = await wait_for_completed(rig, batch["id"], seconds=150)

    assert accepted_at_stop < RECIPIENTS, "the batch was sent before Postgres stopped"
    states = await assert_batch_consistent(rig, done)
    assert states["sent"] == RECIPIENTS
    print(f"Postgres restart at {accepted_at_stop} accepted:", summary(rig, states, started))
