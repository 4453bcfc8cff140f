"""Local outbox: writes each message as an RFC 5322 ``.eml`` file instead of sending it.

The embedded default uses it when no Brevo key is configured. Each file is named after its
recipient, so sending the same recipient again replaces the file and never adds a second one.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from email.errors import MessageError
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path
from uuid import UUID

from backend.delivery.transport import OutgoingMessage, Sender, SendResult, to_ascii_email

# Namespace for outbox Message-IDs. The id depends only on the recipient, so a rewritten file
# keeps the id that may already be stored for that recipient.
_MESSAGE_ID_NAMESPACE = UUID("2d0f8c1e-5b7a-4e39-8c64-91a3f0b7d256")


# RFC 5322 allows lines of up to 998 characters. With the default limit of 78 the email
# package RFC 2047-encodes any header word it cannot fold, which turns a long
# List-Unsubscribe URL into "=?utf-8?q?...", a header no mail client can use.
OUTBOX_POLICY = SMTP.clone(max_line_length=998)


class OutboxTransport:
    name = "outbox"

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def send(
        self,
        sender: Sender,
        messages: Sequence[OutgoingMessage],
        idempotency_key: UUID,
    ) -> list[SendResult]:
        return await asyncio.to_thread(self._write_all, sender, list(messages))

    def path_for(self, recipient_id: UUID) -> Path:
        return self.directory / f"{recipient_id}.eml"

    def _write_all(self, sender: Sender, messages: list[OutgoingMessage]) -> list[SendResult]:
        self.directory.mkdir(parents=True, exist_ok=True)
        return [self._write_one(sender, message) for message in messages]

    def _write_one(self, sender: Sender, message: OutgoingMessage) -> SendResult:
        message_id = f"<{uuid.uuid5(_MESSAGE_ID_NAMESPACE, message.recipient_id.hex)}@outbox.local>"
        try:
            content = build_email(sender, message, message_id).as_bytes(policy=OUTBOX_POLICY)
        except (ValueError, MessageError) as error:
            # The email package raises these for an invalid address, a header value with a
            # line break or a repeated Subject: retrying the same message cannot succeed.
            # NOTE: addresses with a non-ASCII local part (SMTPUTF8) land here too, because
            # email.headerregistry.Address rejects them.
            return SendResult(
                message.recipient_id,
                error=f"The message to '{message.to_email}' could not be written: {error}",
                permanent=True,
            )

        _write_atomically(self.path_for(message.recipient_id), content)
        return SendResult(message.recipient_id, message_id=message_id)


def build_email(sender: Sender, message: OutgoingMessage, message_id: str) -> EmailMessage:
    """Build the RFC 5322 message: multipart/alternative when there is a text part."""
    email = EmailMessage()
    email["From"] = _address(sender.email, sender.name)
    email["To"] = _address(message.to_email, message.to_name)
    email["Subject"] = message.subject
    email["Date"] = format_datetime(datetime.now(UTC))
    email["Message-ID"] = message_id
    for name, value in message.headers.items():
        email[name] = value

    if message.text is None:
        email.set_content(message.html, subtype="html")
    else:
        email.set_content(message.text)
        email.add_alternative(message.html, subtype="html")

    return email


def _address(email: str, name: str | None) -> Address:
    # An ASCII (punycode) domain keeps the file readable by tools without SMTPUTF8 support.
    return Address(display_name=(name or "").strip(), addr_spec=to_ascii_email(email))


def _write_atomically(path: Path, content: bytes) -> None:
    # A reader of the directory finds either the old file or the new one, never a partial file.
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(content)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
