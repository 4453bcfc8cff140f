"""The send loop: claim a chunk, re-check suppression, render, send, record, publish.

It keeps listmonk's shape (fetch a chunk after a checkpoint, send, record, one place that
finalizes) and adds a durable per-recipient state. A recipient is claimed
(`queued -> processing`) with a lease and the request's idempotency key before the provider
call (see `backend.delivery.claims`). Transient errors put the group back in the queue with
a not-before time instead of sleeping while it is claimed.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import aiohttp
from sqlalchemy import select, text, update
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
from backend.delivery import claims
from backend.delivery.brevo import BrevoTransport
from backend.delivery.claims import Claim, ClaimedRecipient, Outcome
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
)
from backend.templates.models import TemplateVersion
from backend.templates.service import CompiledVersion, fields_from_json, merge_values

logger = logging.getLogger(__name__)

PROGRESS_INTERVAL_SECONDS = 0.5
# A task that waits (for a send quota, or for a retry's not-before time) re-checks at least
# this often whether its batch was paused or cancelled.
QUOTA_POLL_SECONDS = 15.0
# A claim that found nothing while recipients are ready lost them to another claim in
# flight; it tries again after this pause.
CLAIM_RETRY_SECONDS = 0.1
# Errors of our own (database or Redis outage, a bug) that one chunk loop survives in a row
# before it gives up and leaves the batch to the periodic reconciler.
MAX_INTERNAL_ERRORS = 5


_SUPPRESSED_POSTGRES = (
    text("SELECT id FROM contacts WHERE id = ANY(CAST(:ids AS uuid[])) AND status != :subscribed")
    .bindparams(subscribed=SUBSCRIBED)
    .columns(Contact.id)
)


class BatchSender:
    """Sends one batch with up to the account's send_concurrency provider requests in flight."""

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
        # Provider requests of this task that failed in a row (5xx, timeout, connection).
        # NOTE: counted per send task, not per batch: a second task of the same batch (after
        # a worker restart) keeps its own count.
        self._failed_requests = 0
        self._chunks = 0

    async def run(self, batch_id: UUID) -> None:
        """Send chunks until the batch has nothing left to claim or stops running.

        Each of the send_concurrency chunk loops claims, sends and records one chunk at a
        time, so that many requests are in flight at most.
        """
        started = time.monotonic()
        async with self.database.session() as session:
            batch = await session.get(Batch, batch_id)
        if batch is None:
            return
        limits = await self._limits(batch)
        loops = max(1, limits.send_concurrency)
        async with asyncio.TaskGroup() as group:
            for _ in range(loops):
                group.create_task(self._send_chunks(batch))
        await self.finalize(batch_id)
        logger.info(
            "send task finished",
            extra={
                "batch_id": str(batch_id),
                "chunks": self._chunks,
                "concurrency": loops,
                "duration_ms": round((time.monotonic() - started) * 1000),
            },
        )

    async def _send_chunks(self, batch: Batch) -> None:
        internal_errors = 0
        while True:
            try:
                if not await self._send_next_chunk(batch):
                    return
                internal_errors = 0
            except Exception:
                # A database or Redis outage, or a bug. Claimed recipients were handed back
                # by _send_next_chunk where possible; a claim that could not be handed back
                # returns to the queue when its lease expires.
                internal_errors += 1
                logger.exception(
                    "chunk loop failed",
                    extra={"batch_id": str(batch.id), "attempt": internal_errors},
                )
                if internal_errors >= MAX_INTERNAL_ERRORS:
                    raise
                await asyncio.sleep(self._backoff(internal_errors))

    async def _send_next_chunk(self, batch: Batch) -> bool:
        """Claim, send and record one chunk; return False when this loop should stop."""
        limits = await self._limits(batch)
        # Wait for the provider rate and any 429 block before claiming, so a lease covers
        # only the request itself.
        await self._wait_for_request_slot(batch)
        reservation = await self.limiter.reserve(
            batch.account_id,
            self.settings.send_chunk_size,
            limits.hourly_limit,
            limits.daily_limit,
        )
        if reservation.allowed == 0 and reservation.reopens_at is not None:
            return await self._wait_for_quota(batch, reservation.reopens_at)

        now = datetime.now(UTC)
        async with self.database.session() as session:
            claim = await claims.claim(
                session,
                batch.id,
                limit=reservation.allowed,
                keyed_limit=None if reservation.reopens_at is None else reservation.allowed,
                now=now,
                lease_until=now + timedelta(seconds=self.settings.send_lease_seconds),
                is_postgres=self.database.is_postgres,
            )
            await session.commit()
        claimed = len(claim.recipients) if claim is not None else 0
        if reservation.allowed > claimed:
            await self.limiter.release(
                batch.account_id,
                reservation.allowed - claimed,
                limits.hourly_limit,
                limits.daily_limit,
            )
        if claim is None:
            return await self._wait_for_work(batch, reservation.reopens_at)

        try:
            await self._publish_claimed(batch, claim.recipients)
            await self._deliver(batch, claim)
        except Exception as error:
            logger.exception("chunk failed unexpectedly", extra={"batch_id": str(batch.id)})
            await self._release(
                batch, claim, f"Internal error while sending: {type(error).__name__}"
            )
        self._chunks += 1
        return True

    async def _wait_for_work(self, batch: Batch, quota_reopens_at: datetime | None) -> bool:
        """Wait when nothing could be claimed; return False when nothing is left to claim.

        Recipients waiting for a retry keep the task alive until their not-before time, so
        the batch neither completes nor loses its task while they wait.
        """
        now = datetime.now(UTC)
        async with self.database.session() as session:
            state = await claims.queue_state(session, batch.id, now)
        if state is None:
            return False
        if state.ready > 0:
            if quota_reopens_at is not None:
                # The send quota has room for fewer recipients than the waiting group.
                return await self._wait_for_quota(batch, quota_reopens_at)
            await asyncio.sleep(CLAIM_RETRY_SECONDS)
            return True
        if state.next_retry_at is None:
            return False
        delay = (state.next_retry_at - now).total_seconds()
        await asyncio.sleep(min(max(delay, 0.0), QUOTA_POLL_SECONDS))
        return True

    async def _deliver(self, batch: Batch, claim: Claim) -> None:
        """Send one claimed chunk under its request key and record the outcome."""
        claimed = claim.recipients
        async with self.database.session() as session:
            suppressed = await self._suppressed_contacts(session, claimed)
            compiled, fields = await self._compiled_version(session, batch.template_version_id)

        sendable = [recipient for recipient in claimed if recipient.contact_id not in suppressed]
        outcomes: dict[UUID, Outcome] = {
            recipient.id: ("unsubscribed", "Skipped: the contact unsubscribed before sending.", "")
            for recipient in claimed
            if recipient.contact_id in suppressed
        }
        if not sendable:
            await self._record(batch, claim, outcomes)
            return

        try:
            transport, sender = await self._transport(batch)
            # A resent group carries the key stored at its first claim, even when a contact
            # unsubscribed meanwhile and the request now has fewer messages. The rendered
            # messages are passed without a name here, so the transport can free them once
            # it has encoded its request.
            results = await transport.send(
                sender,
                [self._message(batch, compiled, fields, recipient) for recipient in sendable],
                claim.request_key,
            )
        except TransientTransportError as error:
            await self._retry_later(batch, claim, sendable, error, outcomes)
            return
        except AccountTransportError as error:
            self._transport_cache = None
            # Pause first, so no other chunk loop claims the group before it is paused.
            await self._pause(batch, error.message)
            for recipient in sendable:
                outcomes[recipient.id] = ("queued", "", "")
            await self._record(batch, claim, outcomes)
            return
        except RequestRejectedError as error:
            for recipient in sendable:
                outcomes[recipient.id] = ("failed", error.message, "")
            await self._record(batch, claim, outcomes)
            return

        self._failed_requests = 0
        outcomes.update(_result_outcomes(results))
        await self._record(batch, claim, outcomes)

    async def _retry_later(
        self,
        batch: Batch,
        claim: Claim,
        sendable: list[ClaimedRecipient],
        error: TransientTransportError,
        outcomes: dict[UUID, Outcome],
    ) -> None:
        """Put the group back in the queue with a not-before time, keeping its request key.

        A 429 is Brevo pacing the account, not a failure: the whole account waits for
        x-sib-ratelimit-reset, and the attempt is given back. Other transient errors count
        towards SEND_MAX_ATTEMPTS and towards the consecutive failures that pause a batch.
        """
        attempt = max(recipient.attempts for recipient in sendable)
        rate_limited = error.status == 429
        if rate_limited:
            delay = error.retry_after or 1.0
            # Brevo's limit applies to the key, so every worker of the account waits.
            await self.limiter.block(batch.account_id, delay)
        else:
            delay = self._backoff(attempt)
            self._failed_requests += 1
        delay += random.uniform(0, delay / 4)  # noqa: S311 - jitter, not security
        for recipient in sendable:
            if not rate_limited and recipient.attempts >= self.settings.send_max_attempts:
                outcomes[recipient.id] = (
                    "failed",
                    f"Gave up after {recipient.attempts} attempts: {error.message}",
                    "",
                )
            else:
                outcomes[recipient.id] = ("queued", error.message, "")
        logger.warning(
            "transient send error; retrying later",
            extra={
                "batch_id": str(batch.id),
                "attempt": attempt,
                "delay_s": round(delay, 1),
                "failed_in_a_row": self._failed_requests,
                "error": error.message,
            },
        )
        if self._failed_requests >= self.settings.send_pause_after_failures:
            failures = self._failed_requests
            self._failed_requests = 0
            await self._pause(
                batch,
                f"Paused after {failures} requests in a row failed; last error: "
                f"{error.message} Check Brevo's status, then resume the batch.",
            )
        await self._record(
            batch,
            claim,
            outcomes,
            not_before=datetime.now(UTC) + timedelta(seconds=delay),
            refund_attempt=rate_limited,
        )

    def _backoff(self, attempt: int) -> float:
        """Return the exponential delay before retry `attempt` (1 for the first), without jitter."""
        base = self.settings.send_retry_base_seconds
        return float(min(self.settings.send_retry_max_seconds, base * 2.0 ** max(0, attempt - 1)))

    async def _pause(self, batch: Batch, reason: str) -> None:
        async with self.database.session() as session:
            result = await session.execute(
                update(Batch)
                .where(Batch.id == batch.id, Batch.status == "running")
                .values(status="paused", pause_reason=reason, updated_at=datetime.now(UTC))
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                # Already paused or cancelled, by the operator or by another chunk loop.
                return
            record_activity(
                session,
                batch.account_id,
                "batch_paused",
                f"Batch '{batch.name}' paused: {reason}",
                subject_type="batch",
                subject_id=batch.id,
            )
            await session.commit()
            counts = await recipient_counts(session, batch.id)
            fresh = await session.get(Batch, batch.id)
        await self.publisher.publish(batch.account_id, [progress_event(fresh or batch, counts)])
        logger.warning("batch paused", extra={"batch_id": str(batch.id), "reason": reason})

    async def _record(
        self,
        batch: Batch,
        claim: Claim,
        outcomes: dict[UUID, Outcome],
        *,
        not_before: datetime | None = None,
        refund_attempt: bool = False,
    ) -> None:
        now = datetime.now(UTC)
        record = claims.record_postgres if self.database.is_postgres else claims.record_portable
        async with self.database.session() as session:
            written = await record(
                session,
                claim,
                outcomes,
                now,
                not_before=not_before,
                refund_attempt=refund_attempt,
            )
            await session.commit()
            if len(written) < len(claim.recipients):
                logger.warning(
                    "claim expired before its outcome was recorded",
                    extra={
                        "batch_id": str(batch.id),
                        "request_key": str(claim.request_key),
                        "not_written": len(claim.recipients) - len(written),
                    },
                )
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
                for recipient in claim.recipients
                if recipient.id in written
            ]
            # Counting a large batch's recipients costs a scan, so each task sends progress
            # at most every PROGRESS_INTERVAL; finalize() always sends the last one.
            if time.monotonic() - self._progress_sent_at >= PROGRESS_INTERVAL_SECONDS:
                self._progress_sent_at = time.monotonic()
                counts = await recipient_counts(session, batch.id)
                fresh = await session.get(Batch, batch.id)
                events.append(progress_event(fresh or batch, counts))
        if events:
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

    async def _release(self, batch: Batch, claim: Claim, reason: str) -> None:
        """Hand a claim back after an error of our own, keeping its key; fail it when spent."""
        attempt = max(recipient.attempts for recipient in claim.recipients)
        outcomes: dict[UUID, Outcome] = {
            recipient.id: (
                "failed" if recipient.attempts >= self.settings.send_max_attempts else "queued",
                reason,
                "",
            )
            for recipient in claim.recipients
        }
        delay = self._backoff(attempt)
        await self._record(
            batch, claim, outcomes, not_before=datetime.now(UTC) + timedelta(seconds=delay)
        )

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
        self, session: AsyncSession, claimed: Sequence[ClaimedRecipient]
    ) -> set[UUID]:
        ids = [recipient.contact_id for recipient in claimed]
        if self.database.is_postgres:
            # One array parameter instead of an IN list of a chunk's expanded parameters.
            return set(await session.scalars(_SUPPRESSED_POSTGRES, {"ids": ids}))
        rows = await session.scalars(
            select(Contact.id).where(Contact.id.in_(ids), Contact.status != SUBSCRIBED)
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
            self.http,
            api_key=config.api_key,
            base_url=self.settings.brevo_api_base_url,
            timeout=self.settings.provider_timeout_seconds,
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


def _result_outcomes(results: list[SendResult]) -> dict[UUID, Outcome]:
    outcomes: dict[UUID, Outcome] = {}
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
