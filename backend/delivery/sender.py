"""The send loop: claim a chunk, re-check suppression, render, send, record, publish.

It keeps listmonk's shape (fetch a chunk after a checkpoint, send, record, one place that
finalizes) and adds a durable per-recipient state. A recipient is claimed
(`queued -> processing`) before the provider call, and every request carries an
idempotency key derived from the recipients it contains.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from uuid import UUID

import aiohttp
from sqlalchemy import Table, bindparam, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts.service import AccountSettingsService, DeliveryLimits
from backend.activity.service import record_activity
from backend.batches.models import Batch, Recipient
from backend.batches.service import ACTIVE_RECIPIENT_STATUSES, progress_event, recipient_counts
from backend.contacts.models import SUBSCRIBED, Contact
from backend.contacts.unsubscribe import make_unsubscribe_token, unsubscribe_url
from backend.core.config import Settings
from backend.core.database import Database
from backend.core.events import Event, EventPublisher
from backend.delivery.brevo import BrevoTransport
from backend.delivery.limits import SendLimiter
from backend.delivery.outbox import OutboxTransport
from backend.delivery.transport import (
    AccountTransportError,
    OutgoingMessage,
    RequestRejectedError,
    Sender,
    SendResult,
    TransientTransportError,
    Transport,
    idempotency_key_for,
)
from backend.templates.models import TemplateVersion
from backend.templates.service import CompiledVersion, fields_from_json, merge_values

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 5
MAX_BACKOFF_SECONDS = 60.0
PROGRESS_INTERVAL_SECONDS = 0.5
# A throttled task re-checks every this many seconds whether its batch was paused.
QUOTA_POLL_SECONDS = 15.0


@dataclass
class ClaimedRecipient:
    id: UUID
    contact_id: UUID
    email: str
    fields: dict[str, Any]
    attempts: int


class BatchSender:
    def __init__(
        self,
        settings: Settings,
        database: Database,
        publisher: EventPublisher,
        http: aiohttp.ClientSession,
        limiter: SendLimiter,
    ) -> None:
        self.settings = settings
        self.database = database
        self.publisher = publisher
        self.http = http
        self.limiter = limiter
        self._compiled: dict[UUID, tuple[CompiledVersion, list[Any]]] = {}
        self._progress_sent_at = 0.0
        self._transport_cache: tuple[float, Transport, Sender] | None = None
        self._limits_cache: tuple[float, DeliveryLimits] | None = None

    async def run(self, batch_id: UUID) -> None:
        """Send chunks until the batch has no queued recipient left or stops running."""
        started = time.monotonic()
        sent_chunks = 0
        async with self.database.session() as session:
            batch = await session.get(Batch, batch_id)
        while batch is not None:
            limits = await self._limits(batch)
            reservation = await self.limiter.reserve(
                batch.account_id,
                self.settings.send_chunk_size,
                limits.hourly_limit,
                limits.daily_limit,
            )
            if reservation.allowed == 0 and reservation.reopens_at is not None:
                if not await self._wait_for_quota(batch, reservation.reopens_at):
                    break
                continue
            # The claim itself checks that the batch is still running, so a pause or a
            # cancel stops this loop at the next chunk without another query.
            async with self.database.session() as session:
                claimed = await self._claim(session, batch_id, reservation.allowed)
                await session.commit()
            unused = reservation.allowed - len(claimed)
            if unused:
                await self.limiter.release(
                    batch.account_id, unused, limits.hourly_limit, limits.daily_limit
                )
            if not claimed:
                break
            await self._publish_claimed(batch, claimed)
            try:
                stop = await self._deliver(batch, claimed)
            except Exception as error:
                # A bug or an outage (database, disk) mid-chunk: hand the chunk back so it is
                # not left in processing, and give up on it after MAX_ATTEMPTS.
                logger.exception("chunk failed unexpectedly", extra={"batch_id": str(batch_id)})
                await self._release(
                    batch, claimed, f"Internal error while sending: {type(error).__name__}"
                )
                await asyncio.sleep(
                    min(MAX_BACKOFF_SECONDS, 2.0 ** max(r.attempts for r in claimed))
                )
                continue
            sent_chunks += 1
            if stop:
                break
        await self.finalize(batch_id)
        logger.info(
            "send task finished",
            extra={
                "batch_id": str(batch_id),
                "chunks": sent_chunks,
                "duration_ms": round((time.monotonic() - started) * 1000),
            },
        )

    async def _claim(
        self, session: AsyncSession, batch_id: UUID, limit: int
    ) -> list[ClaimedRecipient]:
        now = datetime.now(UTC)
        # The claim has no ORDER BY, because sorting every queued recipient for each claim
        # made a 100k batch slower per chunk as it went. The (batch_id, status) index gives
        # rows cheaply. A materialized CTE runs the LIMIT ... FOR UPDATE SKIP LOCKED query
        # once. Written as
        # "WHERE id IN (SELECT ... LIMIT n)", Postgres may evaluate the subquery more than
        # once and claim more than n rows.
        candidates = (
            select(Recipient.id)
            .where(
                Recipient.batch_id == batch_id,
                Recipient.status == "queued",
                select(Batch.id).where(Batch.id == batch_id, Batch.status == "running").exists(),
            )
            .limit(limit)
            .with_for_update(skip_locked=True)
            .cte("candidates")
            .prefix_with("MATERIALIZED")
        )
        rows = await session.execute(
            update(Recipient)
            .where(Recipient.id.in_(select(candidates.c.id)), Recipient.status == "queued")
            .values(
                status="processing",
                lease_until=now + LEASE,
                attempts=Recipient.attempts + 1,
                updated_at=now,
            )
            .returning(
                Recipient.id,
                Recipient.contact_id,
                Recipient.email,
                Recipient.fields,
                Recipient.attempts,
            )
        )
        claimed = [ClaimedRecipient(*row) for row in rows.tuples()]
        claimed.sort(key=lambda recipient: recipient.id)
        return claimed

    async def _deliver(self, batch: Batch, claimed: list[ClaimedRecipient]) -> bool:
        """Send one claimed chunk and record the outcome; return True to stop the loop."""
        async with self.database.session() as session:
            suppressed = await self._suppressed_contacts(session, claimed)
            compiled, fields = await self._compiled_version(session, batch.template_version_id)

        sendable = [recipient for recipient in claimed if recipient.contact_id not in suppressed]
        outcomes: dict[UUID, tuple[str, str, str]] = {
            recipient.id: ("unsubscribed", "Skipped: the contact unsubscribed before sending.", "")
            for recipient in claimed
            if recipient.contact_id in suppressed
        }
        stop = False
        if sendable:
            messages = [self._message(batch, compiled, fields, recipient) for recipient in sendable]
            try:
                transport, sender = await self._transport(batch)
                await self._wait_for_request_slot(batch)
                results = await transport.send(
                    sender, messages, idempotency_key_for(m.recipient_id for m in messages)
                )
                outcomes.update(_result_outcomes(results))
            except TransientTransportError as error:
                if error.status == 429:
                    # Brevo's limit applies to the key, so every worker of the account waits
                    # for x-sib-ratelimit-reset, not just this one.
                    await self.limiter.block(batch.account_id, error.retry_after or 1.0)
                stop = await self._retry_later(batch, sendable, error, outcomes)
            except AccountTransportError as error:
                self._transport_cache = None
                await self._pause(batch, error.message, sendable, outcomes)
                stop = True
            except RequestRejectedError as error:
                for recipient in sendable:
                    outcomes[recipient.id] = ("failed", error.message, "")
        await self._record(batch, claimed, outcomes)
        return stop

    async def _retry_later(
        self,
        batch: Batch,
        sendable: list[ClaimedRecipient],
        error: TransientTransportError,
        outcomes: dict[UUID, tuple[str, str, str]],
    ) -> bool:
        attempt = max(recipient.attempts for recipient in sendable)
        for recipient in sendable:
            if recipient.attempts >= MAX_ATTEMPTS:
                outcomes[recipient.id] = (
                    "failed",
                    f"Gave up after {recipient.attempts} attempts: {error.message}",
                    "",
                )
            else:
                outcomes[recipient.id] = ("queued", error.message, "")
        delay = error.retry_after or min(MAX_BACKOFF_SECONDS, 2.0**attempt)
        delay += random.uniform(0, delay / 4)  # noqa: S311 - jitter, not security
        logger.warning(
            "transient send error; retrying",
            extra={
                "batch_id": str(batch.id),
                "attempt": attempt,
                "delay_s": round(delay, 1),
                "error": error.message,
            },
        )
        await asyncio.sleep(delay)
        return False

    async def _pause(
        self,
        batch: Batch,
        reason: str,
        sendable: list[ClaimedRecipient],
        outcomes: dict[UUID, tuple[str, str, str]],
    ) -> None:
        for recipient in sendable:
            outcomes[recipient.id] = ("queued", "", "")
        async with self.database.session() as session:
            await session.execute(
                update(Batch)
                .where(Batch.id == batch.id, Batch.status == "running")
                .values(status="paused", pause_reason=reason, updated_at=datetime.now(UTC))
            )
            record_activity(
                session,
                batch.account_id,
                "batch_paused",
                f"Batch '{batch.name}' paused: {reason}",
                subject_type="batch",
                subject_id=batch.id,
            )
            await session.commit()
        logger.warning(
            "batch paused by provider error", extra={"batch_id": str(batch.id), "reason": reason}
        )

    async def _record(
        self,
        batch: Batch,
        claimed: list[ClaimedRecipient],
        outcomes: dict[UUID, tuple[str, str, str]],
    ) -> None:
        now = datetime.now(UTC)
        async with self.database.session() as session:
            if self.database.is_postgres:
                await _record_postgres(session, claimed, outcomes, now)
            else:
                await _record_portable(session, claimed, outcomes, now)
            await session.commit()
            events: list[Event] = [
                {
                    "type": "recipient.updated",
                    "batch_id": str(batch.id),
                    "recipient_id": str(recipient.id),
                    "email": recipient.email,
                    "status": outcomes[recipient.id][0],
                    "error": outcomes[recipient.id][1] or None,
                    "at": now.isoformat(),
                }
                for recipient in claimed
            ]
            # Counting a large batch's recipients costs a scan, so each task sends progress
            # at most every PROGRESS_INTERVAL; finalize() always sends the last one.
            if time.monotonic() - self._progress_sent_at >= PROGRESS_INTERVAL_SECONDS:
                self._progress_sent_at = time.monotonic()
                counts = await recipient_counts(session, batch.id)
                fresh = await session.get(Batch, batch.id)
                events.append(progress_event(fresh or batch, counts))
        await self.publisher.publish(batch.account_id, events)

    async def _limits(self, batch: Batch) -> DeliveryLimits:
        if self._limits_cache is None or time.monotonic() - self._limits_cache[0] > 30:
            async with self.database.session() as session:
                service = AccountSettingsService(session, self.settings, batch.account_id)
                self._limits_cache = (time.monotonic(), await service.delivery_limits())
        return self._limits_cache[1]

    async def _wait_for_request_slot(self, batch: Batch) -> None:
        """Sleep while a 429 blocks the account, then until the request rate allows one more."""
        limits = await self._limits(batch)
        while True:
            blocked = await self.limiter.blocked_for(batch.account_id)
            if blocked > 0:
                await asyncio.sleep(blocked)
                continue
            delay = await self.limiter.request_delay(
                batch.account_id, limits.provider_rate_per_second
            )
            if delay <= 0:
                return
            await asyncio.sleep(delay)

    async def _wait_for_quota(self, batch: Batch, reopens_at: datetime) -> bool:
        """Show the batch as throttled until the quota window reopens, and wait for it.

        Returns False when the batch stopped running meanwhile (paused or cancelled).
        """
        await self._set_throttled(batch, reopens_at)
        logger.info(
            "batch throttled by send limit",
            extra={"batch_id": str(batch.id), "until": reopens_at.isoformat()},
        )
        while (remaining := (reopens_at - datetime.now(UTC)).total_seconds()) > 0:
            await asyncio.sleep(min(remaining, QUOTA_POLL_SECONDS))
            async with self.database.session() as session:
                status = await session.scalar(select(Batch.status).where(Batch.id == batch.id))
            if status != "running":
                return False
        await self._set_throttled(batch, None)
        return True

    async def _set_throttled(self, batch: Batch, until: datetime | None) -> None:
        async with self.database.session() as session:
            await session.execute(
                update(Batch).where(Batch.id == batch.id).values(throttled_until=until)
            )
            await session.commit()
            counts = await recipient_counts(session, batch.id)
            fresh = await session.get(Batch, batch.id)
        await self.publisher.publish(batch.account_id, [progress_event(fresh or batch, counts)])

    async def _release(self, batch: Batch, claimed: list[ClaimedRecipient], reason: str) -> None:
        outcomes = {
            recipient.id: ("failed" if recipient.attempts >= MAX_ATTEMPTS else "queued", reason, "")
            for recipient in claimed
        }
        await self._record(batch, claimed, outcomes)

    async def finalize(self, batch_id: UUID) -> None:
        """Complete the batch once no recipient is staged, queued or processing."""
        async with self.database.session() as session:
            batch = await session.get(Batch, batch_id)
            if batch is None:
                return
            if batch.status == "cancelled":
                # A chunk that was in flight when the batch was cancelled may have handed
                # recipients back to the queue; nothing will send them now.
                await session.execute(
                    update(Recipient)
                    .where(
                        Recipient.batch_id == batch_id, Recipient.status.in_(("staged", "queued"))
                    )
                    .values(status="cancelled", error="The batch was cancelled.")
                )
                await session.commit()
            counts = await recipient_counts(session, batch_id)
            active = sum(counts[status] for status in ACTIVE_RECIPIENT_STATUSES)
            if active == 0 and batch.status == "running":
                now = datetime.now(UTC)
                result = await session.execute(
                    update(Batch)
                    .where(Batch.id == batch_id, Batch.status == "running")
                    .values(status="completed", completed_at=now, updated_at=now)
                )
                if result.rowcount == 1:  # type: ignore[attr-defined]
                    record_activity(
                        session,
                        batch.account_id,
                        "batch_completed",
                        f"Batch '{batch.name}' completed: {counts['sent']} sent, "
                        f"{counts['failed']} failed, "
                        f"{counts['unsubscribed']} skipped as unsubscribed.",
                        subject_type="batch",
                        subject_id=batch.id,
                        data=counts,
                    )
                    logger.info("batch completed", extra={"batch_id": str(batch_id), **counts})
                await session.commit()
                await session.refresh(batch)
            await self.publisher.publish(batch.account_id, [progress_event(batch, counts)])

    async def _publish_claimed(self, batch: Batch, claimed: Sequence[ClaimedRecipient]) -> None:
        now = datetime.now(UTC).isoformat()
        await self.publisher.publish(
            batch.account_id,
            [
                {
                    "type": "recipient.updated",
                    "batch_id": str(batch.id),
                    "recipient_id": str(recipient.id),
                    "email": recipient.email,
                    "status": "processing",
                    "error": None,
                    "at": now,
                }
                for recipient in claimed
            ],
        )

    def _message(
        self,
        batch: Batch,
        compiled: CompiledVersion,
        fields: list[Any],
        recipient: ClaimedRecipient,
    ) -> OutgoingMessage:
        token = make_unsubscribe_token(self.settings.secret_key, recipient.contact_id, recipient.id)
        link = unsubscribe_url(self.settings.public_base_url, token)
        values = merge_values(fields, {str(k): str(v) for k, v in recipient.fields.items()})
        values["unsubscribe_url"] = link
        rendered = compiled.render(values)
        return OutgoingMessage(
            recipient_id=recipient.id,
            to_email=recipient.email,
            to_name=None,
            subject=rendered.subject,
            html=rendered.html,
            text=rendered.text or None,
            headers={
                "List-Unsubscribe": f"<{link}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                "X-Mailin-custom": f"cca:{batch.id}:{recipient.id}",
            },
        )

    async def _suppressed_contacts(
        self, session: AsyncSession, claimed: list[ClaimedRecipient]
    ) -> set[UUID]:
        rows = await session.scalars(
            select(Contact.id).where(
                Contact.id.in_([recipient.contact_id for recipient in claimed]),
                Contact.status != SUBSCRIBED,
            )
        )
        return set(rows)

    async def _transport(self, batch: Batch) -> tuple[Transport, Sender]:
        """Return the batch's transport and sender, looked up at most every 30 seconds."""
        if self._transport_cache is None or time.monotonic() - self._transport_cache[0] > 30:
            self._transport_cache = (time.monotonic(), *await self._load_transport(batch))
        return self._transport_cache[1], self._transport_cache[2]

    async def _load_transport(self, batch: Batch) -> tuple[Transport, Sender]:
        sender = Sender(batch.sender_email, batch.sender_name or None)
        if batch.transport != "brevo":
            return OutboxTransport(self.settings.outbox_dir), sender
        async with self.database.session() as session:
            config = await AccountSettingsService(
                session, self.settings, batch.account_id
            ).delivery_config()
        if not config.api_key:
            raise AccountTransportError(
                "No Brevo API key is configured any more; add one in Settings and resume.",
                code="unauthorized",
            )
        transport = BrevoTransport(
            self.http, api_key=config.api_key, base_url=self.settings.brevo_api_base_url
        )
        return transport, sender

    async def _compiled_version(
        self, session: AsyncSession, version_id: UUID
    ) -> tuple[CompiledVersion, list[Any]]:
        cached = self._compiled.get(version_id)
        if cached is None:
            version = await session.get_one(TemplateVersion, version_id)
            cached = (
                CompiledVersion(version.subject, version.html, version.text),
                fields_from_json(version.fields),
            )
            self._compiled[version_id] = cached
        return cached


async def _record_postgres(
    session: AsyncSession,
    claimed: list[ClaimedRecipient],
    outcomes: dict[UUID, tuple[str, str, str]],
    now: datetime,
) -> None:
    """Write a chunk's outcomes with one statement per table (unnest over arrays)."""
    await session.execute(
        text(
            "UPDATE recipients AS r SET status = v.status, error = v.error, "
            "provider_message_id = v.message_id, lease_until = NULL, updated_at = :now, "
            "sent_at = CASE WHEN v.status = 'sent' THEN :now ELSE r.sent_at END "
            "FROM unnest(CAST(:ids AS uuid[]), CAST(:statuses AS text[]), "
            "CAST(:errors AS text[]), CAST(:message_ids AS text[])) "
            "AS v(id, status, error, message_id) WHERE r.id = v.id"
        ),
        {
            "now": now,
            "ids": [recipient.id for recipient in claimed],
            "statuses": [outcomes[recipient.id][0] for recipient in claimed],
            "errors": [outcomes[recipient.id][1] for recipient in claimed],
            "message_ids": [outcomes[recipient.id][2] for recipient in claimed],
        },
    )
    delivered = [r for r in claimed if outcomes[r.id][0] in ("sent", "failed")]
    if delivered:
        await session.execute(
            text(
                "UPDATE contacts AS c SET last_sent_at = :now, last_status = v.state, "
                "send_count = c.send_count + 1, updated_at = :now "
                "FROM unnest(CAST(:ids AS uuid[]), CAST(:states AS text[])) AS v(id, state) "
                "WHERE c.id = v.id"
            ),
            {
                "now": now,
                "ids": [recipient.contact_id for recipient in delivered],
                "states": [outcomes[recipient.id][0] for recipient in delivered],
            },
        )


async def _record_portable(
    session: AsyncSession,
    claimed: list[ClaimedRecipient],
    outcomes: dict[UUID, tuple[str, str, str]],
    now: datetime,
) -> None:
    """Write a chunk's outcomes with executemany, for SQLite's single writer."""
    rows = [
        {
            "id": recipient.id,
            "status": outcomes[recipient.id][0],
            "error": outcomes[recipient.id][1],
            "provider_message_id": outcomes[recipient.id][2],
            "sent_at": now if outcomes[recipient.id][0] == "sent" else None,
            "lease_until": None,
            "updated_at": now,
        }
        for recipient in claimed
    ]
    await session.execute(update(Recipient), rows)
    delivered = [
        {"contact": recipient.contact_id, "at": now, "state": outcomes[recipient.id][0]}
        for recipient in claimed
        if outcomes[recipient.id][0] in ("sent", "failed")
    ]
    if delivered:
        contacts = cast("Table", Contact.__table__)
        await session.execute(
            update(contacts)
            .where(contacts.c.id == bindparam("contact"))
            .values(
                last_sent_at=bindparam("at"),
                last_status=bindparam("state"),
                send_count=contacts.c.send_count + 1,
            ),
            delivered,
        )


def _result_outcomes(results: list[SendResult]) -> dict[UUID, tuple[str, str, str]]:
    outcomes: dict[UUID, tuple[str, str, str]] = {}
    for result in results:
        if result.message_id:
            outcomes[result.recipient_id] = ("sent", "", result.message_id)
        else:
            outcomes[result.recipient_id] = (
                "failed",
                result.error or "The provider rejected the message.",
                "",
            )
    return outcomes
