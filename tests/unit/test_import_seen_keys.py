"""SeenKeys: the compact table that finds repeated email keys during validation."""

from __future__ import annotations

from backend.imports.validation import SeenKeys


def test_seen_keys_returns_first_row() -> None:
    seen = SeenKeys()

    assert seen.add("ann@example.com", 2) is None
    assert seen.add("bob@example.com", 3) is None
    assert seen.add("ann@example.com", 7) == 2
    assert seen.add("ann@example.com", 9) == 2


def test_seen_keys_keeps_rows_after_growth() -> None:
    seen = SeenKeys(capacity=4)

    for number in range(10_000):
        assert seen.add(f"person{number}@example.com", number + 2) is None

    assert seen.add("person0@example.com", 99_999) == 2
    assert seen.add("person9999@example.com", 99_999) == 10_001
    assert seen.add("person10000@example.com", 10_002) is None
