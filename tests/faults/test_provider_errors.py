"""Send a batch while Brevo returns 5xx errors, times out and opens 429 windows."""

from __future__ import annotations

import time

import pytest

from tests.faults.conftest import (
    RigFactory,
    assert_batch_consistent,
    launch,
    stage_batch,
    summary,
    wait_for_completed,
)

pytestmark = pytest.mark.faults

RECIPIENTS = 6_000


async def test_provider_errors_send_each_once(make_rig: RigFactory) -> None:
    # The client gives up after 2 s and the fake responds to a timed-out request after 5 s,
    # having accepted its messages first: the retry must not send them again.
    rig = await make_rig(
        send_chunk_size="40",
        send_lease_seconds="20",
        brevo_timeout_seconds="2",
        send_max_attempts="8",
        send_retry_base_seconds="0.5",
        send_retry_max_seconds="4",
    )
    rig.fake.faults.server_error_share = 0.10
    rig.fake.faults.timeout_share = 0.05
    rig.fake.faults.timeout_seconds = 5.0
    rig.fake.faults.timeout_accepts = True
    rig.fake.faults.drop_share = 0.02
    # Every 30th request opens a one-second window in which every request gets 429 with
    # x-sib-ratelimit-reset.
    rig.fake.faults.rate_limit_every = 30
    rig.fake.faults.rate_limit_window = 1.0
    batch = await stage_batch(rig, RECIPIENTS)

    started = time.monotonic()
    await launch(rig, batch["id"])
    done = await wait_for_completed(rig, batch["id"], seconds=240)

    assert rig.fake.injected["server_error"] > 0
    assert rig.fake.injected["timeout"] > 0
    assert rig.fake.injected["rate_limited"] > 0
    states = await assert_batch_consistent(rig, done)
    # A recipient fails only when all eight attempts meet a fault, which is rare but random.
    assert states["sent"] + states["failed"] == RECIPIENTS
    assert states["sent"] > 0
    print("Provider errors:", summary(rig, states, started))
