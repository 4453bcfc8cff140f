"""Reading Brevo webhook payloads into typed events, tolerant of every field's absence.

Brevo sends one JSON object per event, or an array of up to 500 with batched webhooks. A
field may be missing or of an unexpected type in test pings and contact-level events, so
no field here raises: an unreadable value becomes empty.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec

from backend.core.errors import ValidationError

MAX_EVENTS = 500

# ts_epoch is documented in milliseconds but has been sent in seconds. 10^11 seconds is
# the year 5138 and 10^11 milliseconds is March 1973, so larger values are milliseconds.
MILLISECONDS_THRESHOLD = 10**11

# The X-Mailin-custom header the sender sets: cca:<batch id>:<recipient id>.
_CUSTOM_HEADER = re.compile(r"^cca:([0-9a-fA-F-]{32,36}):([0-9a-fA-F-]{32,36})$")


@dataclass
class BrevoEvent:
    event: str
    email: str
    message_id: str
    batch_id: UUID | None
    recipient_id: UUID | None
    reason: str
    link: str
    event_at: datetime | None
    dedupe_key: str
    raw: dict[str, Any]


def parse_webhook_body(body: bytes) -> tuple[list[BrevoEvent], int]:
    """Return the events in a request body and the number of array items that are not objects.

    Raises ValidationError for a body that is not JSON, not an object or array, or an array
    of more than MAX_EVENTS items.
    """
    try:
        payload = msgspec.json.decode(body)
    except msgspec.DecodeError as error:
        raise ValidationError(
            f"The webhook body is not valid JSON ({error}); send one event object or an array "
            "of event objects."
        ) from error

    if isinstance(payload, dict):
        return [read_event(payload)], 0
    if not isinstance(payload, list):
        raise ValidationError(
            f"The webhook body is a JSON {type(payload).__name__}; send one event object or an "
            "array of event objects."
        )
    if len(payload) > MAX_EVENTS:
        raise ValidationError(
            f"The webhook body has {len(payload)} events; Brevo sends at most {MAX_EVENTS} in "
            "one request."
        )
    events = [read_event(item) for item in payload if isinstance(item, dict)]
    return events, len(payload) - len(events)


def read_event(raw: dict[str, Any]) -> BrevoEvent:
    event = _text(raw.get("event"), 40)
    email = _text(raw.get("email"), 320)
    message_id = _text(raw.get("message-id"), 255)
    link = _text(raw.get("link"))
    batch_id, recipient_id = _custom_ids(raw.get("X-Mailin-custom"))
    return BrevoEvent(
        event=event,
        email=email,
        message_id=message_id,
        batch_id=batch_id,
        recipient_id=recipient_id,
        reason=_text(raw.get("reason")),
        link=link,
        event_at=_event_time(raw),
        dedupe_key=_dedupe_key(message_id, event, _time_part(raw), link, email),
        raw=raw,
    )


def _text(value: Any, max_length: int | None = None) -> str:
    if isinstance(value, str):
        text = value.strip()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        text = str(value)
    else:
        text = ""
    return text[:max_length] if max_length is not None else text


def _custom_ids(value: Any) -> tuple[UUID | None, UUID | None]:
    match = _CUSTOM_HEADER.match(_text(value))
    if match is None:
        return None, None
    try:
        return UUID(match.group(1)), UUID(match.group(2))
    except ValueError:
        return None, None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _event_time(raw: dict[str, Any]) -> datetime | None:
    # `date` is Paris local time without an offset, so only the epoch fields are used.
    epoch = _number(raw.get("ts_epoch"))
    if epoch is not None:
        seconds = epoch / 1000 if epoch >= MILLISECONDS_THRESHOLD else epoch
        return _from_seconds(seconds)
    for name in ("ts_event", "ts"):
        value = _number(raw.get(name))
        if value is not None:
            return _from_seconds(value)
    return None


def _from_seconds(seconds: float) -> datetime | None:
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _time_part(raw: dict[str, Any]) -> str:
    for name in ("ts_event", "ts_epoch", "ts"):
        value = raw.get(name)
        if value is not None:
            return f"{name}={value}"
    return ""


def _dedupe_key(message_id: str, event: str, time_part: str, link: str, email: str) -> str:
    # The email keeps apart events without a message id, such as two contact-level
    # unsubscribes in the same second. Repeats of one event carry the same email.
    parts = [message_id, event, time_part, link, email.lower()]
    return hashlib.sha256(msgspec.json.encode(parts)).hexdigest()
