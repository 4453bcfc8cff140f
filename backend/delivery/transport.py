"""The interface between the sender service and a delivery provider.

A transport sends one chunk of rendered messages in one call and returns one SendResult per
message, in order. Problems that concern a single message (an address the provider rejects)
come back as a permanent SendResult. Problems that concern the whole request raise:

    TransportError                  base class; ``message`` is written for the operator
    ├── TransientTransportError     5xx, 429, timeout, connection error: retry with the same
    │                               idempotency key, after ``retry_after`` seconds if given
    ├── AccountTransportError       bad API key, sending not activated, no credits, sender
    │                               invalid: pause the batch, because every message would fail
    └── RequestRejectedError        any other rejection of the request (400): fail the messages
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable, Sequence
from typing import Protocol
from uuid import UUID

import aiohttp
import idna
import msgspec

# Fixed namespace for idempotency keys. Changing it changes every key, so a request retried
# across a deploy would no longer be recognised as a repeat.
IDEMPOTENCY_NAMESPACE = UUID("6f1c3a52-8e0b-4d47-9a35-2b7e9d0c4f18")


class Sender(msgspec.Struct, frozen=True):
    email: str
    name: str | None = None


class OutgoingMessage(msgspec.Struct, frozen=True):
    """One rendered message for one recipient.

    ``headers`` are custom headers sent as given: List-Unsubscribe, List-Unsubscribe-Post and
    X-Mailin-custom (which Brevo returns in webhook events).
    """

    recipient_id: UUID
    to_email: str
    to_name: str | None
    subject: str
    html: str
    text: str | None
    headers: dict[str, str]


class SendResult(msgspec.Struct, frozen=True):
    """The outcome for one message: a provider message id, or an error.

    ``permanent`` is True when retrying the same message cannot succeed (for example an address
    the provider rejects).
    """

    recipient_id: UUID
    message_id: str | None = None
    error: str | None = None
    permanent: bool = False


class TransportError(Exception):
    def __init__(self, message: str, *, code: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status


class TransientTransportError(TransportError):
    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        code: str | None = None,
        status: int | None = None,
    ):
        super().__init__(message, code=code, status=status)
        self.retry_after = retry_after


class AccountTransportError(TransportError):
    def __init__(self, message: str, *, code: str, status: int | None = None):
        super().__init__(message, code=code, status=status)
        self.code: str = code


class RequestRejectedError(TransportError):
    pass


class Transport(Protocol):
    name: str

    async def send(
        self,
        sender: Sender,
        messages: Sequence[OutgoingMessage],
        idempotency_key: UUID,
    ) -> list[SendResult]: ...


class SharedHttpSession:
    """The process's one aiohttp session for provider requests, shared by all send tasks.

    An aiohttp session works only in the event loop it was opened in, so the session is
    handed out only to callers running in that loop. Tests that enqueue a task from their
    own loop get None and open a session of their own.
    """

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def open(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._session = aiohttp.ClientSession()

    def get(self) -> aiohttp.ClientSession | None:
        if self._session is None or self._session.closed:
            return None
        return self._session if asyncio.get_running_loop() is self._loop else None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
        self._session = None


def idempotency_key_for(recipient_ids: Iterable[UUID]) -> UUID:
    """Derive the idempotency key of a request from the recipients it sends to.

    The key depends only on the set of recipients, so a retry of the same chunk, from any
    worker and in any order, carries the same key and the provider drops the repeat.
    """
    ordered = sorted({recipient_id.hex for recipient_id in recipient_ids})
    if not ordered:
        raise ValueError("An idempotency key needs at least one recipient id.")

    return uuid.uuid5(IDEMPOTENCY_NAMESPACE, ",".join(ordered))


def to_ascii_email(address: str) -> str:
    """Return the address with its domain in ASCII (punycode) form.

    Brevo returns 400 for ``leser@bücher.example`` but accepts ``leser@xn--bcher-kva.example``.
    The local part is left as it is. Raises ValueError when the domain is not a valid IDNA
    name.
    """
    local, separator, domain = address.strip().rpartition("@")
    if not separator or not local or not domain:
        raise ValueError(f"'{address}' is not a valid email address: it needs one '@'.")

    if domain.isascii():
        return f"{local}@{domain}"

    try:
        ascii_domain = idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError as error:
        raise ValueError(
            f"'{address}' is not a valid email address: its domain cannot be converted "
            f"to ASCII ({error})."
        ) from error

    return f"{local}@{ascii_domain}"
