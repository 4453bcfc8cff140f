"""Delivery timing settings: the send lease, the Brevo timeout and retry limits."""

from __future__ import annotations

import pytest

from backend.core.config import ConfigError, load_settings


def test_delivery_timings_have_defaults() -> None:
    settings = load_settings(environ={}, env_file=None)

    assert settings.send_lease_seconds == 120
    assert settings.reconcile_interval_seconds == 60
    assert settings.stalled_after_seconds == 120
    assert settings.send_pause_after_failures == 10
    assert settings.provider_timeout_seconds == 30


def test_short_lease_shortens_brevo_timeout() -> None:
    settings = load_settings(environ={"SEND_LEASE_SECONDS": "8"}, env_file=None)

    assert settings.send_lease_seconds == 8
    assert settings.provider_timeout_seconds == 2


def test_lease_must_outlast_brevo_timeout() -> None:
    environ = {"SEND_LEASE_SECONDS": "20", "BREVO_TIMEOUT_SECONDS": "30"}

    with pytest.raises(ConfigError, match="SEND_LEASE_SECONDS \\(20\\) must be longer"):
        load_settings(environ=environ, env_file=None)


@pytest.mark.parametrize(
    "name", ["SEND_LEASE_SECONDS", "SEND_MAX_ATTEMPTS", "STALLED_AFTER_SECONDS"]
)
def test_delivery_timings_reject_zero(name: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load_settings(environ={name: "0"}, env_file=None)
