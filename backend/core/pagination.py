"""Keyset pagination over UUIDv7 ids, which sort by creation time."""

from __future__ import annotations

from typing import Generic, TypeVar
from uuid import UUID

import msgspec

from backend.core.errors import ValidationError

T = TypeVar("T")
DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class Page(msgspec.Struct, Generic[T]):
    items: list[T]
    next_cursor: str | None


def parse_cursor(cursor: str | None) -> UUID | None:
    if not cursor:
        return None
    try:
        return UUID(cursor)
    except ValueError as error:
        raise ValidationError(
            f"'{cursor}' is not a valid cursor; pass the next_cursor of the previous page.",
            field="cursor",
        ) from error


def clamp_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    if limit < 1:
        raise ValidationError(f"limit must be at least 1 (got {limit}).", field="limit")
    return min(limit, MAX_LIMIT)
