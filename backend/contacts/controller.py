from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, patch, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, JSONBody

from backend.auth.guards import Account
from backend.contacts.models import Contact
from backend.contacts.service import ContactService, SuppressionResult, unsubscribe_by_token
from backend.contacts.unsubscribe import read_unsubscribe_token
from backend.core.dependencies import DbSession, Services
from backend.core.pagination import Page, clamp_limit, parse_cursor
from backend.core.uploads import save_upload


class ContactOut(msgspec.Struct):
    id: UUID
    email: str
    name: str
    attributes: dict[str, Any]
    status: str
    unsubscribed_at: datetime | None
    last_sent_at: datetime | None
    last_status: str
    send_count: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, contact: Contact) -> ContactOut:
        return cls(
            contact.id,
            contact.email,
            contact.name,
            contact.attributes,
            contact.status,
            contact.unsubscribed_at,
            contact.last_sent_at,
            contact.last_status,
            contact.send_count,
            contact.created_at,
            contact.updated_at,
        )


class ContactPatch(msgspec.Struct, kw_only=True):
    name: str | None = None
    attributes: dict[str, Any] | None = None


class UploadBody(msgspec.Struct):
    file: UploadFile


class ContactController(Controller):
    path = "/api/v1/contacts"
    tags = ["contacts"]

    @get("/")
    async def list_contacts(
        self,
        db_session: DbSession,
        account: Account,
        search: FromQuery[str | None] = None,
        status: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
    ) -> Page[ContactOut]:
        size = clamp_limit(limit)
        rows, next_id = await ContactService(db_session, account.id).list_contacts(
            search=search, status=status, after=parse_cursor(cursor), limit=size
        )
        return Page([ContactOut.of(row) for row in rows], str(next_id) if next_id else None)

    @get("/{contact_id:uuid}")
    async def get_contact(
        self, db_session: DbSession, account: Account, contact_id: FromPath[UUID]
    ) -> ContactOut:
        return ContactOut.of(await ContactService(db_session, account.id).get(contact_id))

    @patch("/{contact_id:uuid}")
    async def patch_contact(
        self,
        db_session: DbSession,
        account: Account,
        contact_id: FromPath[UUID],
        data: JSONBody[ContactPatch],
    ) -> ContactOut:
        contact = await ContactService(db_session, account.id).patch(
            contact_id, name=data.name, attributes=data.attributes
        )
        return ContactOut.of(contact)

    @post("/{contact_id:uuid}/unsubscribe", status_code=200)
    async def unsubscribe(
        self, db_session: DbSession, account: Account, contact_id: FromPath[UUID]
    ) -> ContactOut:
        contact = await ContactService(db_session, account.id).unsubscribe(
            contact_id, source="operator"
        )
        return ContactOut.of(contact)

    @post("/{contact_id:uuid}/resubscribe", status_code=200)
    async def resubscribe(
        self, db_session: DbSession, account: Account, contact_id: FromPath[UUID]
    ) -> ContactOut:
        return ContactOut.of(await ContactService(db_session, account.id).resubscribe(contact_id))

    @post("/suppressions", status_code=200, request_max_body_size=None)
    async def import_suppressions(
        self,
        db_session: DbSession,
        services: Services,
        account: Account,
        data: Annotated[UploadBody, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> SuppressionResult:
        path, filename, _size = await save_upload(data.file, services.settings, account.id)
        try:
            return await ContactService(db_session, account.id).import_suppressions(path, filename)
        finally:
            path.unlink(missing_ok=True)


class PublicUnsubscribeOut(msgspec.Struct):
    email: str
    status: str


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    visible = local[:2] if len(local) > 2 else local[:1]
    return f"{visible}{'•' * max(1, len(local) - len(visible))}@{domain}"


_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


class UnsubscribeController(Controller):
    """Public routes a recipient reaches from an email; the token is the only credential."""

    tags = ["unsubscribe"]

    @post("/unsubscribe/{token:str}", status_code=200, request_max_body_size=4096)
    async def one_click(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        services: Services,
        token: FromPath[str],
    ) -> Response[str]:
        # RFC 8058: the mailbox provider POSTs "List-Unsubscribe=One-Click" with no cookies
        # and expects a 2xx, never a redirect. Any POST to the link counts as a request.
        contact_id, _ = read_unsubscribe_token(services.settings.secret_key, token)
        await unsubscribe_by_token(db_session, contact_id, source="one-click")
        return Response("You have been unsubscribed.", media_type="text/plain", status_code=200)

    @get("/api/v1/public/unsubscribe/{token:str}")
    async def show(
        self, db_session: DbSession, services: Services, token: FromPath[str]
    ) -> PublicUnsubscribeOut:
        contact_id, _ = read_unsubscribe_token(services.settings.secret_key, token)
        contact = await db_session.get(Contact, contact_id)
        if contact is None:
            return PublicUnsubscribeOut("", "unknown")
        return PublicUnsubscribeOut(mask_email(contact.email), contact.status)

    @post("/api/v1/public/unsubscribe/{token:str}", status_code=200, request_max_body_size=4096)
    async def confirm(
        self, db_session: DbSession, services: Services, token: FromPath[str]
    ) -> PublicUnsubscribeOut:
        contact_id, _ = read_unsubscribe_token(services.settings.secret_key, token)
        contact = await unsubscribe_by_token(db_session, contact_id, source="unsubscribe page")
        return PublicUnsubscribeOut(mask_email(contact.email), contact.status)
