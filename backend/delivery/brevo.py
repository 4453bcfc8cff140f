"""Brevo transactional email client: POST /v3/smtp/email and GET /v3/account.

One ``send`` call is one HTTP request with one ``messageVersions`` entry per message, so each
recipient gets its own subject, body and headers (List-Unsubscribe, X-Mailin-custom). Status
codes and error codes map to the TransportError classes in ``backend.delivery.transport``.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from uuid import UUID

import aiohttp
import msgspec

from backend.core.errors import ValidationError
from backend.delivery.transport import (
    AccountTransportError,
    OutgoingMessage,
    RequestRejectedError,
    Sender,
    SendResult,
    TransientTransportError,
    TransportError,
    to_ascii_email,
)

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.brevo.com"

# Brevo's batch-sending guide allows at most 1,000 messageVersions per request.
MAX_VERSIONS_PER_REQUEST = 1000

# Brevo rejects any name field longer than 70 characters.
MAX_NAME_LENGTH = 70

_encoder = msgspec.json.Encoder()
_WHITESPACE = re.compile(r"\s+")


class BrevoPlan(msgspec.Struct, frozen=True):
    type: str
    credits: float | None = None
    credits_type: str | None = msgspec.field(name="creditsType", default=None)


class BrevoAccount(msgspec.Struct, frozen=True):
    email: str
    company: str | None = msgspec.field(name="companyName", default=None)
    first_name: str | None = msgspec.field(name="firstName", default=None)
    last_name: str | None = msgspec.field(name="lastName", default=None)
    plan: list[BrevoPlan] = msgspec.field(default_factory=list)


class _ErrorBody(msgspec.Struct):
    code: str = ""
    message: str = ""


class _Address(msgspec.Struct, omit_defaults=True):
    email: str
    name: str | None = None


class _Version(msgspec.Struct, omit_defaults=True):
    """One messageVersions entry. A struct encodes without building a dict per message."""

    to: list[_Address]
    subject: str
    html: str = msgspec.field(name="htmlContent")
    text: str | None = msgspec.field(name="textContent", default=None)
    headers: dict[str, str] | None = None


class _Payload(msgspec.Struct, omit_defaults=True):
    sender: _Address
    subject: str
    html: str = msgspec.field(name="htmlContent")
    # Brevo takes the idempotency key as a custom header of the message, not as an HTTP
    # request header.
    headers: dict[str, str]
    versions: list[_Version] = msgspec.field(name="messageVersions")
    text: str | None = msgspec.field(name="textContent", default=None)


class _SendBody(msgspec.Struct):
    message_id: str | None = msgspec.field(name="messageId", default=None)
    message_ids: list[str] | None = msgspec.field(name="messageIds", default=None)


class BrevoTransport:
    """Transport that sends through Brevo's API, one request per ``send`` call.

    The caller owns ``session`` and closes it. ``timeout`` is the total time in seconds for
    one request, including reading the response.
    """

    name = "brevo"

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 30.0,
    ) -> None:
        self._session = session
        self._api_key = api_key
        self._url = f"{base_url.rstrip('/')}/v3/smtp/email"
        self._timeout_seconds = timeout
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def send(
        self,
        sender: Sender,
        messages: Sequence[OutgoingMessage],
        idempotency_key: UUID,
    ) -> list[SendResult]:
        if len(messages) > MAX_VERSIONS_PER_REQUEST:
            raise ValueError(
                f"A Brevo request takes at most {MAX_VERSIONS_PER_REQUEST} messages, "
                f"got {len(messages)}: split the chunk."
            )
        order = [message.recipient_id for message in messages]
        if len(set(order)) != len(order):
            raise ValueError("A Brevo request must not contain the same recipient id twice.")

        results: dict[UUID, SendResult] = {}
        sendable: list[tuple[OutgoingMessage, str]] = []
        for message in messages:
            try:
                sendable.append((message, to_ascii_email(message.to_email)))
            except ValueError as error:
                results[message.recipient_id] = SendResult(
                    message.recipient_id, error=str(error), permanent=True
                )

        if sendable:
            body = _encoder.encode(
                _build_payload(_sender_address(sender), sendable, idempotency_key)
            )
            sent = [message.recipient_id for message, _ in sendable]
            # The body contains the rendered messages now. Dropping them before the request
            # keeps one copy of a chunk in memory while it is in flight, not two. The caller
            # passes the list without keeping a reference to it.
            del sendable, messages
            status, headers, content = await self._post(body, len(sent))
            del body
            for result in _map_send_response(status, headers, content, sent):
                results[result.recipient_id] = result

        return [results[recipient_id] for recipient_id in order]

    async def _post(self, body: bytes, versions: int) -> tuple[int, dict[str, str], bytes]:
        started = time.perf_counter()
        try:
            async with self._session.post(
                self._url,
                data=body,
                headers=_request_headers(self._api_key),
                timeout=self._timeout,
            ) as response:
                content = await response.read()
                status = response.status
                headers = {name.lower(): value for name, value in response.headers.items()}
        except TimeoutError as error:
            raise TransientTransportError(
                f"Brevo did not respond within {self._timeout_seconds:g} seconds."
            ) from error
        except aiohttp.InvalidURL:
            raise
        except aiohttp.ClientError as error:
            raise TransientTransportError(
                f"Connection to Brevo failed ({type(error).__name__}: {error})."
            ) from error

        duration_ms = round((time.perf_counter() - started) * 1000)
        logger.debug(
            "brevo_send status=%d versions=%d bytes=%d duration_ms=%d ratelimit_remaining=%s",
            status,
            versions,
            len(body),
            duration_ms,
            headers.get("x-sib-ratelimit-remaining"),
        )
        return status, headers, content


def _request_headers(api_key: str) -> dict[str, str]:
    return {
        "api-key": api_key,
        "content-type": "application/json",
        "accept": "application/json",
    }


def _sender_address(sender: Sender) -> _Address:
    try:
        return _address(to_ascii_email(sender.email), sender.name)
    except ValueError as error:
        raise AccountTransportError(
            f"The sender address is invalid ({error}). Change it in Settings, then resume "
            "the batch.",
            code="invalid_sender",
        ) from error


def _build_payload(
    sender: _Address,
    messages: Sequence[tuple[OutgoingMessage, str]],
    idempotency_key: UUID,
) -> _Payload:
    first = messages[0][0]
    # A version without textContent inherits the top-level one, so a message that has no text
    # part would get the first message's text. Set it only when every message has a text part.
    every_text = all(message.text is not None for message, _ in messages)
    return _Payload(
        sender=sender,
        subject=first.subject,
        html=first.html,
        headers={"Idempotency-Key": str(idempotency_key)},
        versions=[_version(message, email) for message, email in messages],
        text=first.text if every_text else None,
    )


def _version(message: OutgoingMessage, ascii_email: str) -> _Version:
    return _Version(
        to=[_address(ascii_email, message.to_name)],
        subject=message.subject,
        html=message.html,
        text=message.text,
        headers=message.headers or None,
    )


def _address(email: str, name: str | None) -> _Address:
    return _Address(email, clean_display_name(name) if name is not None else None)


def clean_display_name(name: str | None) -> str | None:
    """Return a display name that Brevo delivers as given, or None when nothing is left.

    Brevo silently drops a name that mixes non-ASCII characters with a comma
    ("Müller, Jürgen"), so the comma is replaced by a space. Whitespace runs (including line
    breaks) become one space, and the name is cut to Brevo's 70-character limit.
    """
    if name is None:
        return None

    cleaned = _WHITESPACE.sub(" ", name).strip()
    if "," in cleaned and not cleaned.isascii():
        cleaned = _WHITESPACE.sub(" ", cleaned.replace(",", " ")).strip()

    return cleaned[:MAX_NAME_LENGTH].rstrip() or None


def _map_send_response(
    status: int,
    headers: dict[str, str],
    content: bytes,
    recipient_ids: Sequence[UUID],
) -> list[SendResult]:
    if status in (200, 201):
        return _map_success(content, recipient_ids)

    error = _request_error(status, headers, content)
    if (
        len(recipient_ids) == 1
        and isinstance(error, RequestRejectedError)
        and _is_recipient_rejection(error)
    ):
        return [SendResult(recipient_ids[0], error=error.message, permanent=True)]

    raise error


def _map_success(content: bytes, recipient_ids: Sequence[UUID]) -> list[SendResult]:
    try:
        body = msgspec.json.decode(content, type=_SendBody)
    except msgspec.DecodeError:
        body = _SendBody()

    ids = body.message_ids
    if ids is None and body.message_id is not None:
        ids = [body.message_id]

    if ids is None or len(ids) != len(recipient_ids):
        # The request was accepted, so a retry would be dropped as a repeat: record the
        # messages as sent, without provider ids, rather than as failed.
        logger.warning(
            "brevo_send_ids_mismatch expected=%d received=%d",
            len(recipient_ids),
            0 if ids is None else len(ids),
        )
        return [SendResult(recipient_id) for recipient_id in recipient_ids]

    return [
        SendResult(recipient_id, message_id=message_id)
        for recipient_id, message_id in zip(recipient_ids, ids, strict=True)
    ]


def _is_recipient_rejection(error: TransportError) -> bool:
    text = error.message.lower()
    return error.code == "invalid_parameter" and "email" in text and " in to" in text


def _request_error(status: int, headers: dict[str, str], content: bytes) -> TransportError:
    """Build the TransportError for an unsuccessful response from Brevo."""
    body = _decode_error(content)
    code = body.code.lower()
    detail = f"{status} {code or 'no code'}: {body.message or 'no message'}"

    if status == 429:
        retry_after = _parse_seconds(headers.get("x-sib-ratelimit-reset"))
        return TransientTransportError(
            f"Brevo's rate limit was reached ({detail}).",
            retry_after=retry_after,
            code=code or None,
            status=status,
        )

    if status >= 500:
        return TransientTransportError(
            f"Brevo failed with a server error ({detail}).",
            code=code or None,
            status=status,
        )

    account_error = _account_error(status, code, body.message, detail)
    if account_error is not None:
        return account_error

    return RequestRejectedError(
        f"Brevo rejected the request ({detail}).", code=code or None, status=status
    )


def _account_error(
    status: int, code: str, message: str, detail: str
) -> AccountTransportError | None:
    # The code, not the status, signals missing credits, because Brevo has returned both 400
    # and 402 for it.
    if code == "not_enough_credits" or status == 402:
        return AccountTransportError(
            f"Brevo has no credits left for this account ({detail}). Add credits or upgrade "
            "the Brevo plan, then resume the batch.",
            code="not_enough_credits",
            status=status,
        )

    if status == 401:
        return AccountTransportError(
            f"Brevo rejected the API key ({detail}). Enter a valid API key (it starts with "
            "xkeysib-) in Settings, then resume the batch.",
            code=code or "unauthorized",
            status=status,
        )

    if status == 403:
        return AccountTransportError(
            f"Brevo does not allow this account to send ({detail}). Ask Brevo support to "
            "activate sending, then resume the batch.",
            code=code or "permission_denied",
            status=status,
        )

    lowered = message.lower()
    if code == "invalid_parameter" and "sender" in lowered and "invalid" in lowered:
        return AccountTransportError(
            f"Brevo rejected the sender address ({detail}). Verify the sender in Brevo or "
            "change it in Settings, then resume the batch.",
            code="invalid_sender",
            status=status,
        )

    return None


def _decode_error(content: bytes) -> _ErrorBody:
    try:
        return msgspec.json.decode(content, type=_ErrorBody)
    except msgspec.DecodeError:
        text = content.decode("utf-8", errors="replace").strip()
        return _ErrorBody(message=text[:200])


def _parse_seconds(value: str | None) -> float | None:
    if value is None:
        return None

    try:
        seconds = float(value)
    except ValueError:
        return None

    return max(seconds, 0.0)


async def get_account(
    session: aiohttp.ClientSession,
    base_url: str,
    api_key: str,
    *,
    timeout_seconds: float = 10.0,
) -> BrevoAccount:
    """Fetch the Brevo account behind an API key (GET /v3/account).

    Brevo allows about 100 calls per hour on this endpoint: call it when a key is saved or
    checked, never per send. Raises AccountTransportError for a rejected key.
    """
    url = f"{base_url.rstrip('/')}/v3/account"
    try:
        async with session.get(
            url,
            headers=_request_headers(api_key),
            timeout=aiohttp.ClientTimeout(total=timeout_seconds),
        ) as response:
            content = await response.read()
            status = response.status
            headers = {name.lower(): value for name, value in response.headers.items()}
    except TimeoutError as error:
        raise TransientTransportError(
            f"Brevo did not respond to the account request within {timeout_seconds:g} seconds."
        ) from error
    except aiohttp.InvalidURL:
        raise
    except aiohttp.ClientError as error:
        raise TransientTransportError(
            f"Connection to Brevo failed ({type(error).__name__}: {error})."
        ) from error

    if status != 200:
        raise _request_error(status, headers, content)

    try:
        return msgspec.json.decode(content, type=BrevoAccount)
    except msgspec.DecodeError as error:
        raise TransientTransportError(
            f"Brevo returned an account response that could not be read ({error})."
        ) from error


def check_api_key_format(key: str) -> None:
    """Raise ValidationError unless the key looks like a Brevo API key.

    API keys start with ``xkeysib-``. SMTP keys (``xsmtpsib-``) are SMTP passwords only, and
    Brevo returns 401 "Key not found" when one is used as an API key.
    """
    stripped = key.strip()
    if not stripped:
        raise ValidationError(
            "The Brevo API key is empty. Paste an API key from Brevo (SMTP & API, API Keys); "
            "it starts with xkeysib-.",
            field="brevo_api_key",
        )

    if stripped.startswith("xsmtpsib-"):
        raise ValidationError(
            "This is a Brevo SMTP key (xsmtpsib-), which works only as an SMTP password. "
            "Create an API key in Brevo (SMTP & API, API Keys); it starts with xkeysib-.",
            field="brevo_api_key",
        )

    if any(character.isspace() or not character.isprintable() for character in stripped):
        raise ValidationError(
            "The Brevo API key contains spaces, line breaks or control characters. Copy the "
            "key again from Brevo; it starts with xkeysib-.",
            field="brevo_api_key",
        )
