"""Brevo webhook events: match each to a recipient, store it once, record delivery state.

Delivery state lives beside the recipient's send `status`, which events never change. A
hard bounce, an invalid address, a spam complaint or an unsubscribe also suppresses the
contact. Brevo drops a whole request it gets any status other than 2xx or 429 for, so
events that match nothing are stored too, with no recipient.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, cast
from uuid import UUID

import msgspec
from sqlalchemy import Table, case, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.batches.models import Recipient
from backend.contacts.models import BOUNCED, COMPLAINED, UNSUBSCRIBED, Contact
from backend.contacts.service import ContactService
from backend.core.errors import RateLimitedError
from backend.webhooks.events import BrevoEvent
from backend.webhooks.models import ProviderEvent

logger = logging.getLogger(__name__)

IN_CLAUSE_CHUNK = 500

# Events that set `delivery_status`, ranked so that events arriving out of order end in the
# same state: a message deferred, then delivered, then bounced asynchronously, then
# reported as spam is "spam" whatever order the events come in.
DELIVERY_RANK = {
    "": 0,
    "deferred": 1,
    "soft_bounce": 2,
    "delivered": 3,
    "blocked": 4,
    "invalid_email": 4,
    "hard_bounce": 4,
    "unsubscribed": 5,
    "spam": 6,
}
BOUNCE_STATUSES = ("soft_bounce", "hard_bounce", "blocked", "invalid_email")
# Opens reported by privacy proxies (proxy_open, unique_proxy_open) are stored but do not
# count as opens, because the proxy fetches images whether or not anyone reads the message.
OPEN_EVENTS = frozenset({"opened", "unique_opened"})
SUPPRESSING_EVENTS = {
    "hard_bounce": BOUNCED,
    "invalid_email": BOUNCED,
    "spam": COMPLAINED,
    "unsubscribed": UNSUBSCRIBED,
}
# Postgres: deadlock_detected, serialization_failure.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})


class WebhookResult(msgspec.Struct):
    received: int
    stored: int
    duplicates: int
    unmatched: int
    ignored: int


class DeliveryCounts(msgspec.Struct):
    delivered: int
    bounced: int
    opened: int
    clicked: int
    complained: int


class BrevoWebhookService:
    def __init__(self, session: AsyncSession, account_id: UUID) -> None:
        self.session = session
        self.account_id = account_id

    async def ingest(self, events: list[BrevoEvent], *, ignored: int = 0) -> WebhookResult:
        """Store new events and apply them in one transaction.

        Raises RateLimitedError when the database is locked or a transaction conflicts,
        because Brevo retries a request that gets 429 and drops one that gets a 5xx.
        """
        started = time.monotonic()
        try:
            result = await self._ingest(events, ignored)
        except DBAPIError as error:
            await self.session.rollback()
            if not is_retryable(error):
                raise
            logger.warning(
                "brevo webhook deferred: database busy",
                extra={"account_id": str(self.account_id), "error": str(error.orig)},
            )
            raise RateLimitedError(
                "The database is busy, so the events were not stored; send them again later.",
                retry_after=600,
            ) from error
        logger.info(
            "brevo webhook processed",
            extra={
                "account_id": str(self.account_id),
                "received": result.received,
                "stored": result.stored,
                "duplicates": result.duplicates,
                "unmatched": result.unmatched,
                "duration_ms": round((time.monotonic() - started) * 1000),
            },
        )
        return result

    async def _ingest(self, events: list[BrevoEvent], ignored: int) -> WebhookResult:
        # A batched request may repeat an event; the first copy is kept.
        first_copies: dict[str, BrevoEvent] = {}
        for event in events:
            first_copies.setdefault(event.dedupe_key, event)
        unique = list(first_copies.values())
        recipients = await self._match_recipients(unique)

        new_keys = await self._insert(unique, recipients)
        new_events = [event for event in unique if event.dedupe_key in new_keys]
        new_events.sort(key=lambda event: event.event_at or datetime.max.replace(tzinfo=UTC))
        suppressions: dict[UUID, tuple[str, BrevoEvent, Recipient]] = {}
        for event in new_events:
            recipient = recipients.get(event.dedupe_key)
            if recipient is None:
                continue
            _apply(recipient, event)
            status = SUPPRESSING_EVENTS.get(event.event)
            if status is not None:
                suppressions.setdefault(recipient.contact_id, (status, event, recipient))
        await self._suppress(suppressions)
        await self.session.commit()

        return WebhookResult(
            received=len(events) + ignored,
            stored=len(new_keys),
            duplicates=len(events) - len(new_keys),
            unmatched=sum(1 for event in new_events if event.dedupe_key not in recipients),
            ignored=ignored,
        )

    async def _match_recipients(self, events: list[BrevoEvent]) -> dict[str, Recipient]:
        """Map dedupe keys to recipients of this account, by X-Mailin-custom, else message id."""
        custom_ids = [event.recipient_id for event in events if event.recipient_id]
        by_id = {
            recipient.id: recipient
            for recipient in await self._recipients_where(Recipient.id, custom_ids)
        }
        message_ids = [event.message_id for event in events if event.message_id]
        by_message = {
            recipient.provider_message_id: recipient
            for recipient in await self._recipients_where(
                Recipient.provider_message_id, message_ids
            )
        }

        matched: dict[str, Recipient] = {}
        for event in events:
            found = by_id.get(event.recipient_id) if event.recipient_id else None
            if found is not None and found.batch_id != event.batch_id:
                found = None
            if found is None and event.message_id:
                found = by_message.get(event.message_id)
            if found is not None:
                matched[event.dedupe_key] = found
        return matched

    async def _recipients_where(self, column: Any, values: Iterable[Any]) -> list[Recipient]:
        distinct = list(dict.fromkeys(values))
        found: list[Recipient] = []
        for start in range(0, len(distinct), IN_CLAUSE_CHUNK):
            rows = await self.session.scalars(
                select(Recipient).where(
                    Recipient.account_id == self.account_id,
                    column.in_(distinct[start : start + IN_CLAUSE_CHUNK]),
                )
            )
            found.extend(rows)
        return found

    async def _insert(self, events: list[BrevoEvent], recipients: dict[str, Recipient]) -> set[str]:
        """Insert the events that are not stored yet; return the dedupe keys inserted."""
        if not events:
            return set()
        table = cast("Table", ProviderEvent.__table__)
        dialect = postgresql if self.session.get_bind().dialect.name == "postgresql" else sqlite
        statement = (
            dialect.insert(table)
            .on_conflict_do_nothing(index_elements=["account_id", "dedupe_key"])
            .returning(table.c.dedupe_key)
        )
        rows = [self._row(event, recipients.get(event.dedupe_key)) for event in events]
        result = await self.session.execute(statement, rows)
        return set(result.scalars())

    def _row(self, event: BrevoEvent, recipient: Recipient | None) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "recipient_id": recipient.id if recipient is not None else None,
            "dedupe_key": event.dedupe_key,
            "event": event.event,
            "email": event.email,
            "message_id": event.message_id,
            "reason": event.reason,
            "link": event.link,
            "event_at": event.event_at,
            "raw": event.raw,
        }

    async def _suppress(self, suppressions: dict[UUID, tuple[str, BrevoEvent, Recipient]]) -> None:
        if not suppressions:
            return
        contacts = await self.session.scalars(
            select(Contact).where(
                Contact.account_id == self.account_id, Contact.id.in_(list(suppressions))
            )
        )
        service = ContactService(self.session, self.account_id)
        for contact in contacts:
            status, event, recipient = suppressions[contact.id]
            await service.suppress(
                contact,
                source=f"Brevo {event.event} event",
                status=status,
                data={
                    "event": event.event,
                    "reason": event.reason,
                    "batch_id": str(recipient.batch_id),
                    "recipient_id": str(recipient.id),
                },
            )


def _apply(recipient: Recipient, event: BrevoEvent) -> None:
    at = event.event_at or datetime.now(UTC)
    rank = DELIVERY_RANK.get(event.event)
    if rank is not None and rank > DELIVERY_RANK.get(recipient.delivery_status, 0):
        recipient.delivery_status = event.event
    if event.event == "delivered":
        recipient.delivered_at = _earliest(recipient.delivered_at, at)
    elif event.event in OPEN_EVENTS:
        recipient.opened_at = _earliest(recipient.opened_at, at)
    elif event.event == "click":
        recipient.clicked_at = _earliest(recipient.clicked_at, at)


def _earliest(current: datetime | None, candidate: datetime) -> datetime:
    return candidate if current is None or candidate < current else current


def is_retryable(error: DBAPIError) -> bool:
    # SQLite reports "database is locked" after busy_timeout as OperationalError.
    if isinstance(error, OperationalError):
        return True
    return getattr(error.orig, "sqlstate", None) in RETRYABLE_SQLSTATES


async def delivery_counts(session: AsyncSession, batch_id: UUID) -> DeliveryCounts:
    """Count the batch's recipients by what the provider reported for them."""
    row = (
        await session.execute(
            select(
                func.count(Recipient.delivered_at),
                func.count(case((Recipient.delivery_status.in_(BOUNCE_STATUSES), 1))),
                func.count(Recipient.opened_at),
                func.count(Recipient.clicked_at),
                func.count(case((Recipient.delivery_status == "spam", 1))),
            ).where(Recipient.batch_id == batch_id)
        )
    ).one()
    return DeliveryCounts(*row)
