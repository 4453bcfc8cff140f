"""Contacts: listing, editing, suppression (unsubscribe) and suppression-list uploads."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.activity.service import record_activity
from backend.batches.models import Recipient
from backend.contacts.models import (
    BOUNCED,
    COMPLAINED,
    CONTACT_STATUSES,
    SUBSCRIBED,
    UNSUBSCRIBED,
    Contact,
)
from backend.core.errors import NotFoundError, ValidationError
from backend.imports.mapping import suggest_mapping
from backend.imports.reading import analyze_file, iter_rows
from backend.imports.validation import parse_email

IN_CLAUSE_CHUNK = 500

# For each suppressed status: the activity kind, the activity message and the error that
# skipped recipients get.
SUPPRESSIONS = {
    UNSUBSCRIBED: (
        "contact_unsubscribed",
        "{email} unsubscribed ({source}).",
        "The contact unsubscribed.",
    ),
    BOUNCED: (
        "contact_bounced",
        "{email} was suppressed because the address bounced ({source}).",
        "The contact's address bounced.",
    ),
    COMPLAINED: (
        "contact_complained",
        "{email} was suppressed after a spam complaint ({source}).",
        "The contact marked a message as spam.",
    ),
}


class SuppressionResult(msgspec.Struct):
    total_rows: int
    suppressed: int
    already_suppressed: int
    invalid_rows: int
    created: int
    errors: list[str]


class ContactService:
    def __init__(self, session: AsyncSession, account_id: UUID) -> None:
        self.session = session
        self.account_id = account_id

    async def list_contacts(
        self, *, search: str | None, status: str | None, after: UUID | None, limit: int
    ) -> tuple[list[Contact], UUID | None]:
        query = select(Contact).where(Contact.account_id == self.account_id)
        if status:
            if status not in CONTACT_STATUSES:
                raise ValidationError(
                    f"'{status}' is not a contact status; "
                    f"use one of {', '.join(CONTACT_STATUSES)}.",
                    field="status",
                )
            query = query.where(Contact.status == status)
        if search and search.strip():
            # The backslash is the escape character, so it is escaped first.
            term = search.strip().lower().replace("\\", "\\\\")
            pattern = "%" + term.replace("%", r"\%").replace("_", r"\_") + "%"
            query = query.where(
                or_(
                    Contact.email_key.like(pattern, escape="\\"),
                    Contact.name.ilike(pattern, escape="\\"),
                )
            )
        if after is not None:
            query = query.where(Contact.id < after)
        rows = list(
            (await self.session.scalars(query.order_by(Contact.id.desc()).limit(limit + 1))).all()
        )
        next_cursor = rows[limit - 1].id if len(rows) > limit else None
        return rows[:limit], next_cursor

    async def get(self, contact_id: UUID) -> Contact:
        contact = await self.session.scalar(
            select(Contact).where(Contact.id == contact_id, Contact.account_id == self.account_id)
        )
        if contact is None:
            raise NotFoundError(f"Contact {contact_id} was not found.")
        return contact

    async def patch(
        self, contact_id: UUID, *, name: str | None, attributes: dict[str, Any] | None
    ) -> Contact:
        contact = await self.get(contact_id)
        if name is not None:
            contact.name = name.strip()[:200]
        if attributes is not None:
            contact.attributes = {str(key): value for key, value in attributes.items()}
        await self.session.commit()
        return contact

    async def unsubscribe(self, contact_id: UUID, *, source: str) -> Contact:
        contact = await self.get(contact_id)
        await self.suppress(contact, source=source)
        await self.session.commit()
        return contact

    async def resubscribe(self, contact_id: UUID) -> Contact:
        contact = await self.get(contact_id)
        if contact.status != SUBSCRIBED:
            contact.status = SUBSCRIBED
            contact.unsubscribed_at = None
            record_activity(
                self.session,
                self.account_id,
                "contact_resubscribed",
                f"{contact.email} was resubscribed by an operator.",
                subject_type="contact",
                subject_id=contact.id,
            )
        await self.session.commit()
        return contact

    async def suppress(
        self,
        contact: Contact,
        *,
        source: str,
        status: str = UNSUBSCRIBED,
        data: dict[str, Any] | None = None,
    ) -> bool:
        """Suppress the contact and skip its unsent recipients; False if it already was.

        `status` is unsubscribed, bounced or complained. `unsubscribed_at` records when the
        contact was suppressed, whatever the status. `data` is added to the activity event.
        """
        if status not in SUPPRESSIONS:
            raise ValueError(f"{status!r} is not a suppressed contact status.")
        if contact.status != SUBSCRIBED:
            return False
        kind, message, recipient_error = SUPPRESSIONS[status]
        now = datetime.now(UTC)
        contact.status = status
        contact.unsubscribed_at = now
        # Recipients not yet handed to a worker are skipped from now on. The worker checks
        # the contact again right before sending, which covers the ones already claimed.
        await self.session.execute(
            update(Recipient)
            .where(
                Recipient.contact_id == contact.id,
                Recipient.status.in_(("staged", "queued")),
            )
            .values(status="unsubscribed", error=recipient_error, updated_at=now)
        )
        record_activity(
            self.session,
            self.account_id,
            kind,
            message.format(email=contact.email, source=source),
            subject_type="contact",
            subject_id=contact.id,
            data={"source": source, **(data or {})},
        )
        return True

    async def import_suppressions(self, path: Path, filename: str) -> SuppressionResult:
        """Mark every address in the file unsubscribed, creating contacts that do not exist."""
        analysis = await asyncio.to_thread(analyze_file, path, filename)
        mapping = suggest_mapping(analysis.columns, ["email"])
        email_column = next((column for column, field in mapping.items() if field == "email"), None)
        if email_column is None:
            if len(analysis.columns) != 1:
                raise ValidationError(
                    f"No column of {filename} looks like email addresses (columns: "
                    f"{', '.join(analysis.columns)}); name the column 'email'.",
                    field="file",
                )
            email_column = analysis.columns[0]
        index = analysis.columns.index(email_column)

        rows = await asyncio.to_thread(lambda: list(iter_rows(path, analysis)))
        addresses: dict[str, str] = {}
        errors: list[str] = []
        total = invalid = 0
        for row_number, cells in rows:
            raw = cells[index].strip() if index < len(cells) else ""
            if not any(cell.strip() for cell in cells):
                continue
            total += 1
            try:
                address, key = parse_email(raw)
            except ValidationError as error:
                invalid += 1
                if len(errors) < 20:
                    errors.append(f"Row {row_number}: {error.message}")
                continue
            addresses.setdefault(key, address)

        existing = await self._contacts_by_key(list(addresses))
        now = datetime.now(UTC)
        suppressed = already = created = 0
        for key, address in addresses.items():
            contact = existing.get(key)
            if contact is None:
                contact = Contact(
                    account_id=self.account_id,
                    email=address,
                    email_key=key,
                    status=UNSUBSCRIBED,
                    unsubscribed_at=now,
                )
                self.session.add(contact)
                created += 1
                suppressed += 1
            elif contact.status == SUBSCRIBED:
                contact.status = UNSUBSCRIBED
                contact.unsubscribed_at = now
                suppressed += 1
            else:
                already += 1
        await self.session.flush()
        record_activity(
            self.session,
            self.account_id,
            "suppressions_imported",
            f"Suppression list {filename}: {suppressed} addresses unsubscribed, "
            f"{already} already were, {invalid} invalid rows.",
            data={"suppressed": suppressed, "already_suppressed": already, "invalid_rows": invalid},
        )
        await self.session.commit()
        return SuppressionResult(total, suppressed, already, invalid, created, errors)

    async def _contacts_by_key(self, keys: list[str]) -> dict[str, Contact]:
        found: dict[str, Contact] = {}
        for start in range(0, len(keys), IN_CLAUSE_CHUNK):
            chunk = keys[start : start + IN_CLAUSE_CHUNK]
            rows = await self.session.scalars(
                select(Contact).where(
                    Contact.account_id == self.account_id, Contact.email_key.in_(chunk)
                )
            )
            found.update({contact.email_key: contact for contact in rows})
        return found


async def unsubscribe_by_token(session: AsyncSession, contact_id: UUID, *, source: str) -> Contact:
    """Unsubscribe the contact a token names; repeating it is harmless."""
    contact = await session.get(Contact, contact_id)
    if contact is None:
        raise NotFoundError("This unsubscribe link is no longer valid.")
    await ContactService(session, contact.account_id).suppress(contact, source=source)
    await session.commit()
    return contact
