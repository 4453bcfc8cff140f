from __future__ import annotations

from backend.core.events import Event
from backend.live.controller import allowed_origins, merge_events


def progress(batch: str, sent: int) -> Event:
    return {"type": "batch.progress", "batch_id": batch, "counts": {"sent": sent}}


def updated(recipient: str, status: str) -> Event:
    return {"type": "recipient.updated", "recipient_id": recipient, "status": status}


def test_merge_keeps_newest_progress_per_batch() -> None:
    pending: dict[tuple[str, str], Event] = {}

    merge_events(pending, [progress("a", 1), progress("b", 5), progress("a", 2)])

    frame = list(pending.values())
    assert frame == [progress("b", 5), progress("a", 2)]


def test_merge_keeps_newest_state_per_recipient() -> None:
    pending: dict[tuple[str, str], Event] = {}

    merge_events(pending, [updated("r1", "processing"), updated("r2", "processing")])
    merge_events(pending, [updated("r1", "sent")])

    statuses = {event["recipient_id"]: event["status"] for event in pending.values()}
    assert statuses == {"r1": "sent", "r2": "processing"}


def test_merge_keeps_unknown_events() -> None:
    pending: dict[tuple[str, str], Event] = {}

    merge_events(
        pending, [{"type": "import.finished", "rows": 1}, {"type": "import.finished", "rows": 2}]
    )

    assert len(pending) == 2


def test_merge_keeps_newest_progress_per_import() -> None:
    pending: dict[tuple[str, str], Event] = {}

    merge_events(
        pending,
        [
            {"type": "import.progress", "import_id": "i1", "rows_read": 5000},
            {"type": "import.progress", "import_id": "i2", "rows_read": 100},
            {"type": "import.progress", "import_id": "i1", "rows_read": 10000},
        ],
    )

    rows = {event["import_id"]: event["rows_read"] for event in pending.values()}
    assert rows == {"i1": 10000, "i2": 100}


def test_loopback_origin_allows_every_loopback_spelling() -> None:
    assert allowed_origins("http://127.0.0.1:8000") == {
        "http://127.0.0.1:8000",
        "http://localhost:8000",
        "http://[::1]:8000",
    }


def test_public_origin_allows_only_itself() -> None:
    assert allowed_origins("https://campaigns.example.com") == {"https://campaigns.example.com"}
