"""BrevoTransport, get_account and the key checks, run against the fake Brevo server."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from uuid import UUID

import aiohttp
import pytest

from backend.core.errors import ValidationError
from backend.delivery.brevo import (
    BrevoTransport,
    check_api_key_format,
    clean_display_name,
    get_account,
)
from backend.delivery.transport import (
    AccountTransportError,
    OutgoingMessage,
    RequestRejectedError,
    Sender,
    TransientTransportError,
    idempotency_key_for,
)
from tests.fakes.brevo import FakeBrevo

API_KEY = "xkeysib-" + "a" * 64 + "-ABCDEFGHIJKLMNOP"
SENDER = Sender("news@example.com", "Example News")


@pytest.fixture
async def fake() -> AsyncIterator[FakeBrevo]:
    server = FakeBrevo({API_KEY})
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
def transport(fake: FakeBrevo, session: aiohttp.ClientSession) -> BrevoTransport:
    assert fake.base_url is not None
    return BrevoTransport(session, api_key=API_KEY, base_url=fake.base_url, timeout=2.0)


def make_message(index: int, **changes: object) -> OutgoingMessage:
    recipient_id = uuid.UUID(int=index + 1)
    fields: dict[str, object] = {
        "recipient_id": recipient_id,
        "to_email": f"reader{index}@example.com",
        "to_name": f"Reader {index}",
        "subject": f"Issue for reader {index}",
        "html": f"<p>Hello reader {index}</p>",
        "text": f"Hello reader {index}",
        "headers": {
            "List-Unsubscribe": f"<https://news.example.com/unsubscribe/token{index}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "X-Mailin-custom": f"recipient:{recipient_id}",
        },
    }
    fields.update(changes)
    return OutgoingMessage(**fields)  # type: ignore[arg-type]


def key_for(messages: list[OutgoingMessage]) -> UUID:
    return idempotency_key_for(message.recipient_id for message in messages)


async def test_send_versions_returns_ids_in_order(
    transport: BrevoTransport, fake: FakeBrevo
) -> None:
    messages = [make_message(index) for index in range(3)]
    key = key_for(messages)

    results = await transport.send(SENDER, messages, key)

    assert [result.recipient_id for result in results] == [m.recipient_id for m in messages]
    assert [result.message_id for result in results] == [m.message_id for m in fake.messages]
    assert all(result.error is None for result in results)
    assert fake.request_count == 1
    for message, recorded in zip(messages, fake.messages, strict=True):
        assert recorded.to[0].email == message.to_email
        assert recorded.to[0].name == message.to_name
        assert recorded.subject == message.subject
        assert recorded.html == message.html
        assert recorded.text == message.text
        assert recorded.sender.email == SENDER.email
        assert recorded.sender.name == SENDER.name
        assert recorded.idempotency_key == str(key)
        assert recorded.headers["Idempotency-Key"] == str(key)
        for name, value in message.headers.items():
            assert recorded.headers[name] == value


async def test_send_message_without_text_does_not_inherit(
    transport: BrevoTransport, fake: FakeBrevo
) -> None:
    messages = [make_message(0), make_message(1, text=None)]

    await transport.send(SENDER, messages, key_for(messages))

    assert fake.messages[0].text == "Hello reader 0"
    assert fake.messages[1].text is None


async def test_send_repeat_idempotency_key_records_once(
    transport: BrevoTransport, fake: FakeBrevo
) -> None:
    messages = [make_message(0), make_message(1)]
    key = key_for(messages)

    first = await transport.send(SENDER, messages, key)
    second = await transport.send(SENDER, list(reversed(messages)), key)

    assert len(fake.messages) == 2
    assert fake.accepted_count("reader0@example.com") == 1
    assert fake.accepted_count("reader1@example.com") == 1
    assert {r.message_id for r in first} == {r.message_id for r in second}


async def test_send_timeout_retry_not_duplicated(
    fake: FakeBrevo, session: aiohttp.ClientSession
) -> None:
    assert fake.base_url is not None
    transport = BrevoTransport(session, api_key=API_KEY, base_url=fake.base_url, timeout=0.3)
    messages = [make_message(0)]
    key = key_for(messages)
    fake.faults.timeout_share = 1.0
    fake.faults.timeout_seconds = 5.0

    started = time.perf_counter()
    with pytest.raises(TransientTransportError) as caught:
        await transport.send(SENDER, messages, key)
    assert time.perf_counter() - started < 2.0
    assert caught.value.retry_after is None
    assert fake.accepted_count("reader0@example.com") == 1

    fake.faults.timeout_share = 0.0
    results = await transport.send(SENDER, messages, key)

    assert fake.accepted_count("reader0@example.com") == 1
    assert results[0].message_id == fake.messages[0].message_id


async def test_send_rate_limited_sets_retry_after(
    transport: BrevoTransport, fake: FakeBrevo
) -> None:
    fake.rate_limit_for(3.0)
    messages = [make_message(0)]

    with pytest.raises(TransientTransportError) as caught:
        await transport.send(SENDER, messages, key_for(messages))

    assert caught.value.status == 429
    assert caught.value.retry_after == 3.0
    assert fake.messages == []


async def test_send_server_error_is_transient(transport: BrevoTransport, fake: FakeBrevo) -> None:
    fake.faults.server_error_share = 1.0
    fake.faults.server_error_status = 503
    messages = [make_message(0)]

    with pytest.raises(TransientTransportError) as caught:
        await transport.send(SENDER, messages, key_for(messages))

    assert caught.value.status == 503
    assert fake.messages == []


async def test_send_dropped_connection_is_transient(
    transport: BrevoTransport, fake: FakeBrevo
) -> None:
    fake.faults.drop_share = 1.0
    messages = [make_message(0)]

    with pytest.raises(TransientTransportError):
        await transport.send(SENDER, messages, key_for(messages))

    assert fake.accepted_count("reader0@example.com") == 1


async def test_send_connection_refused_is_transient(session: aiohttp.ClientSession) -> None:
    stopped = FakeBrevo({API_KEY})
    base_url = await stopped.start()
    await stopped.stop()
    transport = BrevoTransport(session, api_key=API_KEY, base_url=base_url, timeout=2.0)
    messages = [make_message(0)]

    with pytest.raises(TransientTransportError) as caught:
        await transport.send(SENDER, messages, key_for(messages))

    assert "Connection to Brevo failed" in caught.value.message


@pytest.mark.parametrize(
    ("account_error", "status", "expected_code"),
    [
        ("unauthorized", None, "unauthorized"),
        ("permission_denied", None, "permission_denied"),
        ("not_enough_credits", None, "not_enough_credits"),
        ("not_enough_credits", 400, "not_enough_credits"),
        ("invalid_sender", None, "invalid_sender"),
    ],
)
async def test_send_account_errors_raise(
    transport: BrevoTransport,
    fake: FakeBrevo,
    account_error: str,
    status: int | None,
    expected_code: str,
) -> None:
    fake.faults.account_error = account_error  # type: ignore[assignment]
    fake.faults.account_error_status = status
    messages = [make_message(0)]

    with pytest.raises(AccountTransportError) as caught:
        await transport.send(SENDER, messages, key_for(messages))

    assert caught.value.code == expected_code
    assert fake.messages == []


async def test_send_wrong_key_raises_account_error(
    fake: FakeBrevo, session: aiohttp.ClientSession
) -> None:
    assert fake.base_url is not None
    transport = BrevoTransport(
        session, api_key="xkeysib-wrong", base_url=fake.base_url, timeout=2.0
    )
    messages = [make_message(0)]

    with pytest.raises(AccountTransportError) as caught:
        await transport.send(SENDER, messages, key_for(messages))

    assert caught.value.code == "unauthorized"
    assert caught.value.status == 401
    assert "Key not found" in caught.value.message


async def test_send_unverified_sender_account_error(
    session: aiohttp.ClientSession,
) -> None:
    fake = FakeBrevo({API_KEY}, senders={"verified@example.com"})
    base_url = await fake.start()
    try:
        transport = BrevoTransport(session, api_key=API_KEY, base_url=base_url, timeout=2.0)
        messages = [make_message(0)]

        with pytest.raises(AccountTransportError) as caught:
            await transport.send(SENDER, messages, key_for(messages))
    finally:
        await fake.stop()

    assert caught.value.code == "invalid_sender"


async def test_send_uppercase_code_still_maps(transport: BrevoTransport, fake: FakeBrevo) -> None:
    fake.faults.uppercase_codes = True
    fake.faults.account_error = "not_enough_credits"
    fake.faults.account_error_status = 400
    messages = [make_message(0)]

    with pytest.raises(AccountTransportError) as caught:
        await transport.send(SENDER, messages, key_for(messages))

    assert caught.value.code == "not_enough_credits"


async def test_send_missing_subject_rejected(transport: BrevoTransport, fake: FakeBrevo) -> None:
    messages = [make_message(0, subject=""), make_message(1, subject="")]

    with pytest.raises(RequestRejectedError) as caught:
        await transport.send(SENDER, messages, key_for(messages))

    assert caught.value.code == "missing_parameter"
    assert "subject is missing" in caught.value.message
    assert fake.messages == []


async def test_send_rejected_address_permanent_result(
    transport: BrevoTransport, fake: FakeBrevo
) -> None:
    messages = [make_message(0, to_email="reader@@example.com")]

    results = await transport.send(SENDER, messages, key_for(messages))

    assert results[0].permanent is True
    assert results[0].message_id is None
    assert results[0].error is not None
    assert "email is not valid in to" in results[0].error
    assert fake.messages == []


async def test_send_rejected_address_in_chunk_raises(
    transport: BrevoTransport, fake: FakeBrevo
) -> None:
    messages = [make_message(0), make_message(1, to_email="reader@@example.com")]

    with pytest.raises(RequestRejectedError) as caught:
        await transport.send(SENDER, messages, key_for(messages))

    assert caught.value.code == "invalid_parameter"
    assert fake.messages == []


async def test_send_idn_domain_as_punycode(transport: BrevoTransport, fake: FakeBrevo) -> None:
    messages = [make_message(0, to_email="leser@bücher.example")]

    results = await transport.send(SENDER, messages, key_for(messages))

    assert results[0].error is None
    assert fake.messages[0].to[0].email == "leser@xn--bcher-kva.example"


async def test_send_invalid_idn_fails_one_message(
    transport: BrevoTransport, fake: FakeBrevo
) -> None:
    messages = [make_message(0), make_message(1, to_email="leser@bü_cher.example")]

    results = await transport.send(SENDER, messages, key_for(messages))

    assert results[0].message_id == fake.messages[0].message_id
    assert results[1].permanent is True
    assert results[1].error is not None
    assert "leser@bü_cher.example" in results[1].error
    assert len(fake.messages) == 1


async def test_send_cleans_display_names(transport: BrevoTransport, fake: FakeBrevo) -> None:
    long_name = "A" * 80
    messages = [
        make_message(0, to_name="Müller, Jürgen"),
        make_message(1, to_name=long_name),
        make_message(2, to_name="Smith, John"),
        make_message(3, to_name="   "),
    ]

    await transport.send(SENDER, messages, key_for(messages))

    assert fake.messages[0].to[0].name == "Müller Jürgen"
    assert fake.messages[1].to[0].name == "A" * 70
    assert fake.messages[2].to[0].name == "Smith, John"
    assert fake.messages[3].to[0].name is None


def test_clean_display_name_collapses_line_breaks() -> None:
    assert clean_display_name("Jane\r\n  Doe") == "Jane Doe"
    assert clean_display_name(None) is None


async def test_send_above_version_limit_raises(transport: BrevoTransport, fake: FakeBrevo) -> None:
    messages = [make_message(index) for index in range(1001)]

    with pytest.raises(ValueError, match="at most 1000"):
        await transport.send(SENDER, messages, key_for(messages))

    assert fake.request_count == 0


async def test_send_duplicate_recipient_raises(transport: BrevoTransport, fake: FakeBrevo) -> None:
    messages = [make_message(0), make_message(0)]

    with pytest.raises(ValueError, match="same recipient id"):
        await transport.send(SENDER, messages, key_for(messages))

    assert fake.request_count == 0


async def test_send_thousand_versions_in_one_request(
    transport: BrevoTransport, fake: FakeBrevo
) -> None:
    messages = [make_message(index) for index in range(1000)]

    results = await transport.send(SENDER, messages, key_for(messages))

    assert fake.request_count == 1
    assert len(fake.messages) == 1000
    assert [r.message_id for r in results] == [m.message_id for m in fake.messages]


async def test_get_account_returns_plan(fake: FakeBrevo, session: aiohttp.ClientSession) -> None:
    assert fake.base_url is not None

    account = await get_account(session, fake.base_url, API_KEY)

    assert account.email == "owner@relay.fake"
    assert account.company == "Fake Relay Ltd"
    assert account.plan[0].credits == 300
    assert account.plan[0].credits_type == "sendLimit"


@pytest.mark.parametrize("api_key", ["xkeysib-unknown", "xsmtpsib-" + "b" * 64])
async def test_get_account_rejected_key(
    fake: FakeBrevo, session: aiohttp.ClientSession, api_key: str
) -> None:
    assert fake.base_url is not None

    with pytest.raises(AccountTransportError) as caught:
        await get_account(session, fake.base_url, api_key)

    assert caught.value.code == "unauthorized"
    assert caught.value.status == 401


def test_check_api_key_rejects_smtp_key() -> None:
    with pytest.raises(ValidationError) as caught:
        check_api_key_format("xsmtpsib-" + "c" * 64 + "-ABCDEFGHIJKLMNOP")

    assert caught.value.field == "brevo_api_key"
    assert "xkeysib-" in caught.value.message
    assert "SMTP" in caught.value.message


@pytest.mark.parametrize("key", ["", "   ", "\n"])
def test_check_api_key_rejects_empty(key: str) -> None:
    with pytest.raises(ValidationError) as caught:
        check_api_key_format(key)

    assert caught.value.field == "brevo_api_key"
    assert "empty" in caught.value.message


def test_check_api_key_rejects_inner_whitespace() -> None:
    with pytest.raises(ValidationError) as caught:
        check_api_key_format("xkeysib-abc\ndef")

    assert caught.value.field == "brevo_api_key"


def test_check_api_key_accepts_api_key() -> None:
    check_api_key_format(API_KEY)


def test_idempotency_key_ignores_order() -> None:
    ids = [uuid.uuid4() for _ in range(5)]

    assert idempotency_key_for(ids) == idempotency_key_for(reversed(ids))
    assert idempotency_key_for(ids) != idempotency_key_for(ids[:4])
    assert idempotency_key_for(ids).version == 5


def test_idempotency_key_needs_recipients() -> None:
    with pytest.raises(ValueError, match="at least one"):
        idempotency_key_for([])
