"""The database side of sending: claim a group of recipients, and record its outcome.

A claim moves recipients `queued -> processing` with a lease and stores the request's
Idempotency-Key on each of them, in one transaction, before any provider call. A group that
goes back to the queue (lease expired, transient error, paused batch) keeps its key, and is
claimed again only whole. Brevo drops a request whose key it received in the last 15
minutes, so a subset resent under the key would lose the rest. Mixing in other recipients
would change the key and deliver the group twice.

NOTE: Brevo remembers a key for 15 minutes (its docs also say 30). A group that was accepted
but not recorded, and is resent more than 15 minutes later (its batch paused meanwhile), can
be delivered twice.

Recording is fenced by the lease: only rows still `processing` under this claim's lease are
written, so a worker whose lease expired cannot overwrite what a later claim recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from sqlalchemy import Table, bindparam, case, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from backend.batches.models import PENDING_REQUEST_SQL, Batch, Recipient
from backend.contacts.models import Contact
from backend.delivery.transport import idempotency_key_for

# (status, error, provider message id) for one recipient.
Outcome = tuple[str, str, str]


@dataclass
class ClaimedRecipient:
    id: UUID
    contact_id: UUID
    email: str
    fields: dict[str, Any]
    attempts: int


@dataclass
class Claim:
    """Recipients claimed together: one provider request under one Idempotency-Key."""

    recipients: list[ClaimedRecipient]
    request_key: UUID
    lease_until: datetime


@dataclass
class QueueState:
    """Work left in a running batch: recipients ready to claim now, and the next retry time."""

    ready: int
    next_retry_at: datetime | None


def _batch_is_running(batch_id: UUID) -> Any:
    return select(Batch.id).where(Batch.id == batch_id, Batch.status == "running").exists()


def _claim_values(now: datetime, lease_until: datetime) -> dict[str, Any]:
    return {
        "status": "processing",
        "lease_until": lease_until,
        "attempts": Recipient.attempts + 1,
        "updated_at": now,
    }


_RETURNED = (
    Recipient.id,
    Recipient.contact_id,
    Recipient.email,
    Recipient.fields,
    Recipient.attempts,
    Recipient.request_key,
)


async def claim(
    session: AsyncSession,
    batch_id: UUID,
    *,
    limit: int,
    keyed_limit: int | None,
    now: datetime,
    lease_until: datetime,
    is_postgres: bool,
) -> Claim | None:
    """Claim a group that needs resending, or else up to `limit` fresh recipients.

    `keyed_limit`, when set, skips keyed groups larger than it (a partly used send quota).
    The caller commits; on Postgres the keyed claim holds a transaction-level advisory lock
    on the batch until then.
    """
    rows = await _claim_keyed(session, batch_id, keyed_limit, now, lease_until, is_postgres)
    if rows:
        return Claim(_recipients(rows), rows[0][5], lease_until)

    if is_postgres:
        return await _claim_fresh_postgres(session, batch_id, limit, now, lease_until)

    rows = await _claim_fresh(session, batch_id, limit, now, lease_until)
    if not rows:
        return None
    recipients = _recipients(rows)
    key = idempotency_key_for(recipient.id for recipient in recipients)
    await session.execute(
        update(Recipient)
        .where(Recipient.id.in_([recipient.id for recipient in recipients]))
        .values(request_key=key)
        .execution_options(synchronize_session=False)
    )
    return Claim(recipients, key, lease_until)


def _recipients(rows: list[Any]) -> list[ClaimedRecipient]:
    recipients = [ClaimedRecipient(*row[:5]) for row in rows]
    recipients.sort(key=lambda recipient: recipient.id)
    return recipients


async def _claim_keyed(
    session: AsyncSession,
    batch_id: UUID,
    limit: int | None,
    now: datetime,
    lease_until: datetime,
    is_postgres: bool,
) -> list[Any]:
    ready = or_(Recipient.not_before.is_(None), Recipient.not_before <= now)
    if is_postgres:
        # Most claims find no keyed group; only those that do take the lock.
        waiting = await session.scalar(
            select(Recipient.id)
            .where(
                Recipient.batch_id == batch_id,
                text(PENDING_REQUEST_SQL),
                Recipient.status == "queued",
                ready,
            )
            .limit(1)
        )
        if waiting is None:
            return []
        # Two workers that pick the same group must not each claim part of it: SKIP LOCKED
        # would hand each one the rows the other has not locked yet. The lock serializes
        # keyed claims of one batch. The UPDATE below starts after the lock is granted, so
        # its snapshot includes the earlier claim. SQLite has a single writer, which is enough.
        await session.execute(select(func.pg_advisory_xact_lock(_lock_id(batch_id))))

    pending = aliased(Recipient, name="pending")
    # A group is ready when none of its rows is claimed or waiting for its retry time.
    blocked = func.sum(
        case(
            (pending.status == "processing", 1),
            (pending.not_before > now, 1),
            else_=0,
        )
    )
    group = (
        select(pending.request_key)
        .where(pending.batch_id == batch_id, text(PENDING_REQUEST_SQL))
        .group_by(pending.request_key)
        .having(blocked == 0)
        .limit(1)
    )
    if limit is not None:
        group = group.having(func.count() <= limit)
    result = await session.execute(
        update(Recipient)
        .where(
            Recipient.batch_id == batch_id,
            text(PENDING_REQUEST_SQL),
            Recipient.status == "queued",
            Recipient.request_key == group.correlate(None).scalar_subquery(),
            _batch_is_running(batch_id),
        )
        .values(**_claim_values(now, lease_until))
        .returning(*_RETURNED)
        .execution_options(synchronize_session=False)
    )
    return list(result.tuples())


def _lock_id(batch_id: UUID) -> int:
    # pg_advisory_xact_lock takes a signed 64-bit key; the UUID's first 8 bytes are its
    # UUIDv7 timestamp and random bits, distinct enough between batches.
    return int.from_bytes(batch_id.bytes[:8], "big", signed=True)


async def _claim_fresh(
    session: AsyncSession, batch_id: UUID, limit: int, now: datetime, lease_until: datetime
) -> list[Any]:
    # The claim has no ORDER BY, because sorting every queued recipient for each claim
    # made a 100k batch slower per chunk as it went. The (batch_id, status) index gives
    # rows cheaply. A materialized CTE runs the LIMIT ... FOR UPDATE SKIP LOCKED query
    # once. Written as "WHERE id IN (SELECT ... LIMIT n)", Postgres may evaluate the
    # subquery more than once and claim more than n rows.
    candidates = (
        select(Recipient.id)
        .where(
            Recipient.batch_id == batch_id,
            Recipient.status == "queued",
            Recipient.request_key.is_(None),
            or_(Recipient.not_before.is_(None), Recipient.not_before <= now),
            _batch_is_running(batch_id),
        )
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("candidates")
        .prefix_with("MATERIALIZED")
    )
    result = await session.execute(
        update(Recipient)
        .where(
            Recipient.id.in_(select(candidates.c.id)),
            Recipient.status == "queued",
            Recipient.request_key.is_(None),
        )
        .values(**_claim_values(now, lease_until))
        .returning(*_RETURNED)
        .execution_options(synchronize_session=False)
    )
    return list(result.tuples())


# The fresh claim on Postgres, in plain SQL because it is the send loop's hot path (a text()
# statement skips the ORM's bulk-update handling). The SELECT locks the candidates, so the
# UPDATE can store the request key derived from them together with the claim: each claimed
# row is written once instead of twice.
_LOCK_FRESH_POSTGRES = text(
    "SELECT id FROM recipients "
    "WHERE batch_id = :batch_id AND status = 'queued' AND request_key IS NULL "
    "AND (not_before IS NULL OR not_before <= :now) "
    "AND EXISTS (SELECT 1 FROM batches WHERE batches.id = :batch_id "
    "AND batches.status = 'running') "
    "LIMIT :limit FOR UPDATE SKIP LOCKED"
).columns(Recipient.id)

_CLAIM_LOCKED_POSTGRES = text(
    "UPDATE recipients SET status = 'processing', lease_until = :lease_until, "
    "attempts = attempts + 1, updated_at = :now, request_key = :key "
    "WHERE id = ANY(CAST(:ids AS uuid[])) AND status = 'queued' AND request_key IS NULL "
    "RETURNING id, contact_id, email, fields, attempts, request_key"
).columns(
    Recipient.id,
    Recipient.contact_id,
    Recipient.email,
    Recipient.fields,
    Recipient.attempts,
    Recipient.request_key,
)


async def _claim_fresh_postgres(
    session: AsyncSession, batch_id: UUID, limit: int, now: datetime, lease_until: datetime
) -> Claim | None:
    ids = list(
        await session.scalars(
            _LOCK_FRESH_POSTGRES, {"batch_id": batch_id, "limit": limit, "now": now}
        )
    )
    if not ids:
        return None
    # The rows stay locked until the caller commits, so the UPDATE finds every one of them
    # still queued and unkeyed, and the key covers exactly the claimed group.
    key = idempotency_key_for(ids)
    result = await session.execute(
        _CLAIM_LOCKED_POSTGRES,
        {"ids": ids, "key": key, "now": now, "lease_until": lease_until},
    )
    rows = list(result.tuples())
    if len(rows) != len(ids):
        raise RuntimeError(
            f"Claimed {len(rows)} of {len(ids)} locked recipients of batch {batch_id}; "
            "the claim is rolled back."
        )
    return Claim(_recipients(rows), key, lease_until)


async def queue_state(session: AsyncSession, batch_id: UUID, now: datetime) -> QueueState | None:
    """Count the batch's recipients ready to claim and find its next retry; None if not running."""
    status = await session.scalar(select(Batch.status).where(Batch.id == batch_id))
    if status != "running":
        return None
    row = (
        await session.execute(
            select(
                func.coalesce(
                    func.sum(
                        case(
                            (or_(Recipient.not_before.is_(None), Recipient.not_before <= now), 1),
                            else_=0,
                        )
                    ),
                    0,
                ),
                func.min(case((Recipient.not_before > now, Recipient.not_before))),
            ).where(Recipient.batch_id == batch_id, Recipient.status == "queued")
        )
    ).one()
    return QueueState(ready=int(row[0]), next_retry_at=row[1])


async def record_postgres(
    session: AsyncSession,
    claim: Claim,
    outcomes: dict[UUID, Outcome],
    now: datetime,
    *,
    not_before: datetime | None,
    refund_attempt: bool,
) -> set[UUID]:
    """Write a claim's outcomes with one statement per table; return the ids written."""
    recipients = claim.recipients
    result = await session.execute(
        text(
            "UPDATE recipients AS r SET status = v.status, error = v.error, "
            "provider_message_id = v.message_id, lease_until = NULL, updated_at = :now, "
            "sent_at = CASE WHEN v.status = 'sent' THEN :now ELSE r.sent_at END, "
            "not_before = CASE WHEN v.status = 'queued' "
            "THEN CAST(:not_before AS timestamptz) ELSE NULL END, "
            "attempts = CASE WHEN v.status = 'queued' AND CAST(:refund AS boolean) "
            "THEN GREATEST(r.attempts - 1, 0) ELSE r.attempts END "
            "FROM unnest(CAST(:ids AS uuid[]), CAST(:statuses AS text[]), "
            "CAST(:errors AS text[]), CAST(:message_ids AS text[])) "
            "AS v(id, status, error, message_id) "
            "WHERE r.id = v.id AND r.status = 'processing' AND r.lease_until = :lease "
            "RETURNING r.id"
        ),
        {
            "now": now,
            "not_before": not_before,
            "refund": refund_attempt,
            "lease": claim.lease_until,
            "ids": [recipient.id for recipient in recipients],
            "statuses": [outcomes[recipient.id][0] for recipient in recipients],
            "errors": [outcomes[recipient.id][1] for recipient in recipients],
            "message_ids": [outcomes[recipient.id][2] for recipient in recipients],
        },
    )
    written = set(result.scalars())
    delivered = [
        recipient
        for recipient in recipients
        if recipient.id in written and outcomes[recipient.id][0] in ("sent", "failed")
    ]
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
    return written


async def record_portable(
    session: AsyncSession,
    claim: Claim,
    outcomes: dict[UUID, Outcome],
    now: datetime,
    *,
    not_before: datetime | None,
    refund_attempt: bool,
) -> set[UUID]:
    """Write a claim's outcomes with executemany, for SQLite's single writer."""
    recipients = claim.recipients
    table = cast("Table", Recipient.__table__)
    rows = []
    for recipient in recipients:
        status, error, message_id = outcomes[recipient.id]
        queued = status == "queued"
        rows.append(
            {
                "b_id": recipient.id,
                "b_status": status,
                "b_error": error,
                "b_message_id": message_id,
                "b_sent_at": now if status == "sent" else None,
                "b_not_before": not_before if queued else None,
                "b_attempts": max(0, recipient.attempts - 1)
                if queued and refund_attempt
                else recipient.attempts,
            }
        )
    result = await session.execute(
        update(table)
        .where(
            table.c.id == bindparam("b_id"),
            table.c.status == "processing",
            table.c.lease_until == claim.lease_until,
        )
        .values(
            status=bindparam("b_status"),
            error=bindparam("b_error"),
            provider_message_id=bindparam("b_message_id"),
            sent_at=bindparam("b_sent_at"),
            not_before=bindparam("b_not_before"),
            attempts=bindparam("b_attempts"),
            lease_until=None,
            updated_at=now,
        ),
        rows,
    )
    written = {recipient.id for recipient in recipients}
    if result.rowcount != len(recipients):  # type: ignore[attr-defined]
        # Some rows were re-claimed after this claim's lease expired: find the ones this
        # statement wrote (this transaction holds SQLite's write lock, so no one else has
        # written since).
        written = set(
            await session.scalars(
                select(Recipient.id).where(
                    Recipient.id.in_(written),
                    Recipient.updated_at == now,
                    Recipient.lease_until.is_(None),
                )
            )
        )
    delivered = [
        {"contact": recipient.contact_id, "at": now, "state": outcomes[recipient.id][0]}
        for recipient in recipients
        if recipient.id in written and outcomes[recipient.id][0] in ("sent", "failed")
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
    return written
