"""OutboxTransport: .eml files that parse back with the email package."""

from __future__ import annotations

import email
import uuid
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

from backend.delivery.outbox import OutboxTransport
from backend.delivery.transport import OutgoingMessage, Sender, idempotency_key_for

SENDER = Sender("news@example.com", "Example News")


def make_message(index: int, **changes: object) -> OutgoingMessage:
    fields: dict[str, object] = {
        "recipient_id": uuid.UUID(int=index + 1),
        "to_email": f"reader{index}@example.com",
        "to_name": f"Reader {index}",
        "subject": f"Grüße, reader {index}",
        "html": f"<p>Hello reader {index}</p>",
        "text": f"Hello reader {index}",
        "headers": {
            "List-Unsubscribe": f"<https://news.example.com/unsubscribe/token{index}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "X-Mailin-custom": f"recipient:{index}",
        },
    }
    fields.update(changes)
    return OutgoingMessage(**fields)  # type: ignore[arg-type]


def read_eml(path: Path) -> EmailMessage:
    parsed = email.message_from_bytes(path.read_bytes(), policy=default)
    assert isinstance(parsed, EmailMessage)
    return parsed


async def send(outbox: OutboxTransport, messages: list[OutgoingMessage]) -> list[str | None]:
    key = idempotency_key_for(message.recipient_id for message in messages)
    results = await outbox.send(SENDER, messages, key)
    return [result.message_id for result in results]


async def test_outbox_writes_parseable_multipart(tmp_path: Path) -> None:
    outbox = OutboxTransport(tmp_path / "outbox")
    messages = [make_message(0), make_message(1)]

    message_ids = await send(outbox, messages)

    assert sorted(path.name for path in (tmp_path / "outbox").iterdir()) == [
        f"{messages[0].recipient_id}.eml",
        f"{messages[1].recipient_id}.eml",
    ]
    for message, message_id in zip(messages, message_ids, strict=True):
        parsed = read_eml(outbox.path_for(message.recipient_id))
        assert parsed.get_content_type() == "multipart/alternative"
        assert parsed["Message-ID"] == message_id
        assert message_id is not None
        assert message_id.endswith("@outbox.local>")
        assert parsed["From"] == "Example News <news@example.com>"
        assert parsed["To"] == f"{message.to_name} <{message.to_email}>"
        assert parsed["Subject"] == message.subject
        assert parsed["Date"] is not None
        for name, value in message.headers.items():
            assert parsed[name] == value

        text_part = parsed.get_body(preferencelist=("plain",))
        html_part = parsed.get_body(preferencelist=("html",))
        assert text_part is not None
        assert html_part is not None
        assert text_part.get_content().strip() == message.text
        assert html_part.get_content().strip() == message.html


async def test_outbox_html_only_message(tmp_path: Path) -> None:
    outbox = OutboxTransport(tmp_path)
    message = make_message(0, text=None)

    await send(outbox, [message])

    parsed = read_eml(outbox.path_for(message.recipient_id))
    assert parsed.get_content_type() == "text/html"
    assert parsed.get_content().strip() == message.html


async def test_outbox_resend_overwrites_file(tmp_path: Path) -> None:
    outbox = OutboxTransport(tmp_path)
    first = make_message(0)
    second = make_message(0, subject="Second attempt")

    first_ids = await send(outbox, [first])
    second_ids = await send(outbox, [second])

    assert [path.name for path in tmp_path.iterdir()] == [f"{first.recipient_id}.eml"]
    assert read_eml(outbox.path_for(first.recipient_id))["Subject"] == "Second attempt"
    assert first_ids == second_ids


async def test_outbox_idn_domain_as_punycode(tmp_path: Path) -> None:
    outbox = OutboxTransport(tmp_path)
    message = make_message(0, to_email="leser@bücher.example", to_name="Müller, Jürgen")

    await send(outbox, [message])

    parsed = read_eml(outbox.path_for(message.recipient_id))
    address = parsed["To"].addresses[0]
    assert address.addr_spec == "leser@xn--bcher-kva.example"
    assert address.display_name == "Müller, Jürgen"


async def test_outbox_header_injection_permanent_failure(tmp_path: Path) -> None:
    outbox = OutboxTransport(tmp_path)
    bad = make_message(1, headers={"X-Mailin-custom": "x\r\nBcc: someone@example.com"})
    messages = [make_message(0), bad]

    key = idempotency_key_for(message.recipient_id for message in messages)
    results = await outbox.send(SENDER, messages, key)

    assert results[0].message_id is not None
    assert results[1].permanent is True
    assert results[1].message_id is None
    assert results[1].error is not None
    assert "reader1@example.com" in results[1].error
    assert [path.name for path in tmp_path.iterdir()] == [f"{messages[0].recipient_id}.eml"]
