"""The stored result of the last Brevo key check (GET /v3/account) on the settings row."""

from __future__ import annotations

import hmac
from datetime import UTC, datetime, timedelta
from typing import Any

from backend.accounts.models import AccountSettings
from backend.delivery.brevo import BrevoAccount
from backend.delivery.transport import AccountTransportError, TransportError

# Brevo allows 100 GET /v3/account requests per hour. A key check within this time of the
# last one returns the stored result instead of sending a request.
KEY_CHECK_CACHE = timedelta(minutes=10)


def key_fingerprint(secret_key: str, api_key: str) -> str:
    # A keyed hash, so the stored value reveals nothing about the key without SECRET_KEY.
    return hmac.new(
        secret_key.encode(), b"brevo-key-check:" + api_key.encode(), "sha256"
    ).hexdigest()


def is_fresh(row: AccountSettings, fingerprint: str) -> bool:
    checked_at = row.brevo_account_checked_at
    return (
        checked_at is not None
        and row.brevo_account_key_fingerprint == fingerprint
        and datetime.now(UTC) - checked_at < KEY_CHECK_CACHE
    )


def store_key_check(
    row: AccountSettings, fingerprint: str, account: BrevoAccount | None, error: str
) -> None:
    credits: list[dict[str, Any]] = []
    if account is not None:
        credits = [
            {"type": plan.type, "credits": plan.credits, "credits_type": plan.credits_type}
            for plan in account.plan
        ]
    row.brevo_account_key_fingerprint = fingerprint
    row.brevo_account_email = account.email if account is not None else ""
    row.brevo_account_credits = credits
    row.brevo_account_error = error
    row.brevo_account_checked_at = datetime.now(UTC)


def clear_key_check(row: AccountSettings) -> None:
    row.brevo_account_key_fingerprint = ""
    row.brevo_account_email = ""
    row.brevo_account_credits = []
    row.brevo_account_error = ""
    row.brevo_account_checked_at = None


def key_check_error(error: TransportError) -> str:
    """Return the message shown for a failed key check."""
    if isinstance(error, AccountTransportError) and error.status == 401:
        # The transport's message advises resuming a batch, which does not apply to a key check.
        return (
            f"Brevo rejected this API key (HTTP 401, {error.code}). Check in Brevo (SMTP & "
            "API, API Keys) that the key is still active, and that Brevo's authorised IP "
            "addresses include this server's."
        )
    return error.message
