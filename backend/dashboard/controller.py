"""`GET /api/v1/summary`: the account's totals for the dashboard, counted in the database.

Each total is one aggregate query, so it stays exact however many contacts and batches an
account has, without paging through them.
"""

from __future__ import annotations

import msgspec
from litestar import Controller, get
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth.guards import Account
from backend.batches.models import Batch, Recipient
from backend.contacts.models import Contact
from backend.core.dependencies import DbSession

# A batch that is still being written by an import job is not shown anywhere yet.
HIDDEN_BATCH_STATUSES = ("staging",)


class Summary(msgspec.Struct):
    contacts: int
    contacts_by_status: dict[str, int]
    batches: int
    batches_by_status: dict[str, int]
    messages_sent: int


class SummaryController(Controller):
    path = "/api/v1/summary"
    tags = ["dashboard"]

    @get("/")
    async def summary(self, db_session: DbSession, account: Account) -> Summary:
        contacts = await _counts_by_status(
            db_session, select(Contact.status, func.count()).where(Contact.account_id == account.id)
        )
        batches = await _counts_by_status(
            db_session,
            select(Batch.status, func.count()).where(
                Batch.account_id == account.id, Batch.status.not_in(HIDDEN_BATCH_STATUSES)
            ),
        )
        sent = await db_session.scalar(
            select(func.count()).where(
                Recipient.account_id == account.id, Recipient.status == "sent"
            )
        )
        return Summary(
            contacts=sum(contacts.values()),
            contacts_by_status=contacts,
            batches=sum(batches.values()),
            batches_by_status=batches,
            messages_sent=sent or 0,
        )


async def _counts_by_status(
    session: AsyncSession, query: Select[tuple[str, int]]
) -> dict[str, int]:
    rows = await session.execute(query.group_by(query.selected_columns[0]))
    return {status: count for status, count in rows.tuples()}
