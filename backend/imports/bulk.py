"""Bulk writes of a staging chunk: contacts upserted by normalised email, recipients inserted.

Each function takes one chunk and runs inside the caller's transaction. Postgres gets one
`INSERT ... SELECT FROM unnest(...) ON CONFLICT` for contacts and COPY for recipients. SQLite
gets multi-row `INSERT ... ON CONFLICT` for contacts and a multi-row insert for recipients.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from sqlalchemy import Table, case, func, insert
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils.compat import uuid7

from backend.batches.models import Recipient
from backend.contacts.models import SUBSCRIBED, Contact
from backend.imports.validation import ValidRow

CONTACTS: Table = Contact.__table__  # type: ignore[assignment]
RECIPIENTS: Table = Recipient.__table__  # type: ignore[assignment]


class StagedContact(msgspec.Struct):
    id: UUID
    status: str


def contact_name(row: ValidRow) -> str:
    parts = [row.fields.get("first_name"), row.fields.get("last_name")]
    return " ".join(part for part in parts if part)[:200]


async def upsert_contacts(
    session: AsyncSession,
    account_id: UUID,
    rows: Sequence[tuple[ValidRow, dict[str, str]]],
    now: datetime,
) -> dict[str, StagedContact]:
    """Insert missing contacts and merge `attributes` into existing ones, keyed by email_key.

    An existing contact's status is never changed, so an import cannot resubscribe anyone.
    Non-empty new attribute values replace old ones, and a non-empty name replaces the old
    name. Rows go in email_key order, so two imports of one account lock shared contacts in
    the same order, which avoids deadlocks between them on Postgres.
    """
    values = [
        {
            "id": uuid7(),
            "account_id": account_id,
            "email": row.email,
            "email_key": row.email_key,
            "name": contact_name(row),
            "attributes": attributes,
            "status": SUBSCRIBED,
            "last_status": "",
            "send_count": 0,
            "created_at": now,
            "updated_at": now,
        }
        for row, attributes in sorted(rows, key=lambda pair: pair[0].email_key)
    ]
    if not values:
        return {}

    if _is_postgres(session):
        return await _upsert_contacts_postgres(session, account_id, values, now)

    statement = sqlite.insert(CONTACTS)
    excluded = statement.excluded
    upsert = statement.on_conflict_do_update(
        index_elements=[CONTACTS.c.account_id, CONTACTS.c.email_key],
        set_={
            # RFC 7396 merge: keys of the new object replace the stored ones. Values are
            # never JSON null here, so no stored key is deleted.
            "attributes": func.json_patch(CONTACTS.c.attributes, excluded.attributes),
            "name": case((excluded.name != "", excluded.name), else_=CONTACTS.c.name),
            "updated_at": excluded.updated_at,
        },
    ).returning(CONTACTS.c.id, CONTACTS.c.email_key, CONTACTS.c.status)
    # A list of parameters makes SQLAlchemy send multi-row VALUES pages ("insertmanyvalues"),
    # sized to stay under SQLite's limit of bound parameters per statement.
    result = await session.execute(upsert, values)
    return {key: StagedContact(contact_id, status) for contact_id, key, status in result}


# One statement per chunk with one array per column: asyncpg sends each array in binary, so
# no SQL text or bound parameter is built per row.
_UPSERT_CONTACTS_SQL = """
INSERT INTO contacts (id, account_id, email, email_key, name, attributes, status,
                      last_status, send_count, created_at, updated_at)
SELECT row.id, $1, row.email, row.email_key, row.name, row.attributes::jsonb, 'subscribed',
       '', 0, $2, $2
FROM unnest($3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[])
     AS row(id, email, email_key, name, attributes)
ORDER BY row.email_key
ON CONFLICT (account_id, email_key) DO UPDATE SET
    attributes = contacts.attributes || excluded.attributes,
    name = CASE WHEN excluded.name <> '' THEN excluded.name ELSE contacts.name END,
    updated_at = excluded.updated_at
RETURNING id, email_key, status
"""


async def _upsert_contacts_postgres(
    session: AsyncSession, account_id: UUID, values: list[dict[str, Any]], now: datetime
) -> dict[str, StagedContact]:
    driver = await _driver_connection(session)
    rows = await driver.fetch(
        _UPSERT_CONTACTS_SQL,
        account_id,
        now,
        [value["id"] for value in values],
        [value["email"] for value in values],
        [value["email_key"] for value in values],
        [value["name"] for value in values],
        [msgspec.json.encode(value["attributes"]).decode() for value in values],
    )
    return {row["email_key"]: StagedContact(row["id"], row["status"]) for row in rows}


async def insert_recipients(session: AsyncSession, values: list[dict[str, Any]]) -> None:
    """Insert recipient rows; every dict has the same keys, which are column names."""
    if not values:
        return
    if not _is_postgres(session):
        await session.execute(insert(RECIPIENTS), values)
        return

    columns = list(values[0])
    # The JSON codec that SQLAlchemy installs on asyncpg connections takes JSON text.
    records = [
        tuple(
            msgspec.json.encode(row[column]).decode() if column == "fields" else row[column]
            for column in columns
        )
        for row in values
    ]
    driver = await _driver_connection(session)
    await driver.copy_records_to_table(RECIPIENTS.name, records=records, columns=columns)


async def _driver_connection(session: AsyncSession) -> Any:
    """Return the asyncpg connection under the session, inside the session's transaction."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    return raw.driver_connection


def _is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"
