"""Signed, opaque unsubscribe tokens carried in each message's links and headers.

A token is the contact id and the recipient id (16 bytes each) followed by the first 16
bytes of an HMAC-SHA256 over them, base64url-encoded: 64 characters that reveal no address
and cannot be forged or altered without SECRET_KEY.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from uuid import UUID

from backend.core.errors import NotFoundError

MAC_BYTES = 16


def _mac(secret_key: str, payload: bytes) -> bytes:
    key = hashlib.sha256(("unsubscribe:" + secret_key).encode("utf-8")).digest()
    return hmac.new(key, payload, hashlib.sha256).digest()[:MAC_BYTES]


def make_unsubscribe_token(secret_key: str, contact_id: UUID, recipient_id: UUID) -> str:
    payload = contact_id.bytes + recipient_id.bytes
    return base64.urlsafe_b64encode(payload + _mac(secret_key, payload)).decode("ascii").rstrip("=")


def read_unsubscribe_token(secret_key: str, token: str) -> tuple[UUID, UUID]:
    """Return (contact id, recipient id) or raise NotFoundError for any invalid token."""
    invalid = NotFoundError(
        "This unsubscribe link is invalid or incomplete; copy the whole link from the email."
    )
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except ValueError as error:
        raise invalid from error
    if len(raw) != 32 + MAC_BYTES:
        raise invalid
    payload, mac = raw[:32], raw[32:]
    if not hmac.compare_digest(mac, _mac(secret_key, payload)):
        raise invalid
    return UUID(bytes=payload[:16]), UUID(bytes=payload[16:])


def unsubscribe_url(public_base_url: str, token: str) -> str:
    return f"{public_base_url}/unsubscribe/{token}"
