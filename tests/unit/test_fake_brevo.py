"""The fake Brevo server itself: validation, idempotency, rate limits and fault injection."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.fakes.brevo import FakeBrevo

API_KEY = "xkeysib-test"


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


def single_send(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "sender": {"email": "news@example.com", "name": "Example News"},
        "subject": "Hello",
        "htmlContent": "<p>Hello</p>",
        "to": [{"email": "reader@example.com", "name": "Reader"}],
    }
    body.update(changes)
    return body


def version_send(count: int, **changes: Any) -> dict[str, Any]:
    body = single_send(**changes)
    del body["to"]
    body["messageVersions"] = [
        {"to": [{"email": f"reader{index}@example.com"}]} for index in range(count)
    ]
    return body


async def post(
    session: aiohttp.ClientSession,
    fake: FakeBrevo,
    body: dict[str, Any],
    api_key: str | None = API_KEY,
) -> tuple[int, dict[str, Any], dict[str, str]]:
    headers = {} if api_key is None else {"api-key": api_key}
    async with session.post(f"{fake.base_url}/v3/smtp/email", json=body, headers=headers) as r:
        return r.status, await r.json(), dict(r.headers)


async def test_fake_single_send_returns_message_id(
    fake: FakeBrevo, session: aiohttp.ClientSession
) -> None:
    status, body, headers = await post(session, fake, single_send())

    assert status == 201
    assert body["messageId"] == fake.messages[0].message_id
    assert body["messageId"].endswith("@relay.fake>")
    assert headers["x-sib-ratelimit-limit"] == "1000"
    assert headers["x-sib-ratelimit-remaining"] == "999"
    assert "x-sib-ratelimit-reset" in headers
    assert fake.accepted_count("READER@example.com") == 1


async def test_fake_versions_return_ids_in_order(
    fake: FakeBrevo, session: aiohttp.ClientSession
) -> None:
    request = version_send(3, headers={"X-Global": "1"}, params={"a": 1})
    request["messageVersions"][1]["headers"] = {"List-Unsubscribe": "<https://u.example/t>"}
    request["messageVersions"][1]["params"] = {"b": 2}

    status, body, _ = await post(session, fake, request)

    assert status == 201
    assert body["messageIds"] == [message.message_id for message in fake.messages]
    assert [m.to[0].email for m in fake.messages] == [
        "reader0@example.com",
        "reader1@example.com",
        "reader2@example.com",
    ]
    assert fake.messages[1].headers == {
        "X-Global": "1",
        "List-Unsubscribe": "<https://u.example/t>",
    }
    assert fake.messages[1].params == {"a": 1, "b": 2}
    assert fake.messages[0].headers == {"X-Global": "1"}


def with_long_version(count: int) -> dict[str, Any]:
    request = version_send(1)
    request["messageVersions"][0]["to"] = [
        {"email": f"r{index}@example.com"} for index in range(count)
    ]
    return request


@pytest.mark.parametrize(
    ("request_body", "code", "message"),
    [
        (
            {**single_send(), "messageVersions": [{"to": [{"email": "a@example.com"}]}]},
            "invalid_parameter",
            "Either to or messageVersions",
        ),
        (
            {k: v for k, v in single_send().items() if k != "to"},
            "invalid_parameter",
            "Either to or messageVersions",
        ),
        (single_send(sender=None), "missing_parameter", "sender is missing"),
        (single_send(subject=None), "missing_parameter", "subject is missing"),
        (single_send(htmlContent=None), "missing_parameter", "htmlContent is missing"),
        (
            single_send(to=[{"email": "leser@bücher.example"}]),
            "invalid_parameter",
            "email is not valid in to",
        ),
        (
            single_send(to=[{"email": "not-an-address"}]),
            "invalid_parameter",
            "email is not valid in to",
        ),
        (
            single_send(to=[{"email": "a@example.com", "name": "N" * 71}]),
            "invalid_parameter",
            "longer than 70",
        ),
        (
            single_send(sender={"email": "news@example.com", "name": "N" * 71}),
            "invalid_parameter",
            "longer than 70",
        ),
        (version_send(1001), "invalid_parameter", "at most 1000 versions"),
        (with_long_version(100), "invalid_parameter", "at most 99 recipients"),
        (
            single_send(headers={"Idempotency-Key": "not-a-uuid"}),
            "invalid_parameter",
            "must be a UUID",
        ),
    ],
)
async def test_fake_rejects_invalid_request(
    fake: FakeBrevo,
    session: aiohttp.ClientSession,
    request_body: dict[str, Any],
    code: str,
    message: str,
) -> None:
    status, body, headers = await post(session, fake, request_body)

    assert status == 400
    assert body["code"] == code
    assert message in body["message"]
    assert "x-sib-ratelimit-remaining" in headers
    assert fake.messages == []


async def test_fake_version_subject_without_top_level(
    fake: FakeBrevo, session: aiohttp.ClientSession
) -> None:
    request = version_send(2, subject=None)
    request["messageVersions"][0]["subject"] = "First"
    request["messageVersions"][1]["subject"] = "Second"

    status, _, _ = await post(session, fake, request)

    assert status == 201
    assert [m.subject for m in fake.messages] == ["First", "Second"]


async def test_fake_accepts_thousand_versions(
    fake: FakeBrevo, session: aiohttp.ClientSession
) -> None:
    status, body, _ = await post(session, fake, version_send(1000))

    assert status == 201
    assert len(body["messageIds"]) == 1000
    assert len(set(body["messageIds"])) == 1000


@pytest.mark.parametrize(
    ("api_key", "message"),
    [
        (None, "authentication not found in headers"),
        ("xkeysib-other", "Key not found"),
        ("xsmtpsib-test", "Key not found"),
    ],
)
async def test_fake_rejects_bad_api_key(
    session: aiohttp.ClientSession, api_key: str | None, message: str
) -> None:
    # The SMTP key is listed as valid on purpose: the fake must still reject it.
    server = FakeBrevo({API_KEY, "xsmtpsib-test"})
    await server.start()
    try:
        status, body, _ = await post(session, server, single_send(), api_key=api_key)
    finally:
        await server.stop()

    assert status == 401
    assert body == {"code": "unauthorized", "message": message}


async def test_fake_unverified_sender_rejected(session: aiohttp.ClientSession) -> None:
    server = FakeBrevo({API_KEY}, senders={"verified@example.com"})
    await server.start()
    try:
        status, body, _ = await post(session, server, single_send())
    finally:
        await server.stop()

    assert status == 400
    assert body["code"] == "invalid_parameter"
    assert body["message"] == "Sender is invalid / inactive"


async def test_fake_repeated_key_returns_original(
    fake: FakeBrevo, session: aiohttp.ClientSession
) -> None:
    key = str(uuid.uuid4())
    request = version_send(2, headers={"Idempotency-Key": key})

    first = await post(session, fake, request)
    second = await post(session, fake, request)

    assert first[0] == second[0] == 201
    assert first[1] == second[1]
    assert len(fake.messages) == 2
    assert fake.accepted_count("reader0@example.com") == 1
    assert fake.messages[0].idempotency_key == key


async def test_fake_idempotency_key_expires(session: aiohttp.ClientSession) -> None:
    server = FakeBrevo({API_KEY}, idempotency_window=0.2)
    await server.start()
    request = single_send(headers={"idempotencyKey": str(uuid.uuid4())})
    try:
        await post(session, server, request)
        await asyncio.sleep(0.3)
        await post(session, server, request)
    finally:
        await server.stop()

    assert server.accepted_count("reader@example.com") == 2


async def test_fake_credits_run_out(session: aiohttp.ClientSession) -> None:
    server = FakeBrevo({API_KEY}, credits=2)
    await server.start()
    try:
        accepted = await post(session, server, version_send(2))
        rejected = await post(session, server, single_send())
    finally:
        await server.stop()

    assert accepted[0] == 201
    assert rejected[0] == 402
    assert rejected[1]["code"] == "not_enough_credits"
    assert server.credits == 0


async def test_fake_rate_window_limits_requests(session: aiohttp.ClientSession) -> None:
    server = FakeBrevo({API_KEY}, send_rate_limit=2)
    await server.start()
    try:
        answers = [await post(session, server, single_send()) for _ in range(3)]
    finally:
        await server.stop()

    assert [status for status, _, _ in answers] == [201, 201, 429]
    assert [headers["x-sib-ratelimit-remaining"] for _, _, headers in answers] == ["1", "0", "0"]
    assert answers[2][2]["x-sib-ratelimit-reset"] in ("0", "1")


async def test_fake_rate_limit_window_fault(
    fake: FakeBrevo, session: aiohttp.ClientSession
) -> None:
    fake.rate_limit_for(5.0)

    status, _, headers = await post(session, fake, single_send())

    assert status == 429
    assert headers["x-sib-ratelimit-reset"] == "5"
    assert headers["x-sib-ratelimit-remaining"] == "0"
    assert fake.messages == []


async def test_fake_periodic_rate_limit_windows(
    fake: FakeBrevo, session: aiohttp.ClientSession
) -> None:
    fake.faults.rate_limit_every = 3
    fake.faults.rate_limit_window = 30.0

    answers = [await post(session, fake, single_send()) for _ in range(4)]

    assert [status for status, _, _ in answers] == [201, 201, 429, 429]
    assert answers[2][2]["x-sib-ratelimit-reset"] == "30"
    assert fake.injected["rate_limited"] == 2
    assert len(fake.messages) == 2


async def test_fake_server_error_share_follows_seed(session: aiohttp.ClientSession) -> None:
    statuses: list[list[int]] = []
    for _ in range(2):
        server = FakeBrevo({API_KEY}, seed=7)
        server.faults.server_error_share = 0.3
        await server.start()
        try:
            answers = [await post(session, server, single_send()) for _ in range(200)]
        finally:
            await server.stop()
        statuses.append([status for status, _, _ in answers])

    counts = Counter(statuses[0])
    assert statuses[0] == statuses[1]
    assert 40 <= counts[500] <= 80
    assert counts[201] == 200 - counts[500]


async def test_fake_rate_limit_share(fake: FakeBrevo, session: aiohttp.ClientSession) -> None:
    fake.faults.rate_limit_share = 0.5
    fake.faults.rate_limit_reset = 4

    answers = [await post(session, fake, single_send()) for _ in range(100)]

    limited = [headers for status, _, headers in answers if status == 429]
    assert 30 <= len(limited) <= 70
    assert all(headers["x-sib-ratelimit-reset"] == "4" for headers in limited)
    assert len(fake.messages) == 100 - len(limited)


async def test_fake_latency_delays_answer(fake: FakeBrevo, session: aiohttp.ClientSession) -> None:
    fake.faults.latency = 0.2

    started = time.perf_counter()
    await post(session, fake, single_send())

    assert time.perf_counter() - started >= 0.2


async def test_fake_timeout_records_then_stalls(
    fake: FakeBrevo, session: aiohttp.ClientSession
) -> None:
    fake.faults.timeout_share = 1.0
    fake.faults.timeout_seconds = 30.0

    with pytest.raises(TimeoutError):
        async with session.post(
            f"{fake.base_url}/v3/smtp/email",
            json=single_send(),
            headers={"api-key": API_KEY},
            timeout=aiohttp.ClientTimeout(total=0.2),
        ):
            pass

    assert len(fake.messages) == 1

    started = time.perf_counter()
    await fake.stop()
    assert time.perf_counter() - started < 2.0


async def test_fake_timeout_without_accepting(
    fake: FakeBrevo, session: aiohttp.ClientSession
) -> None:
    fake.faults.timeout_share = 1.0
    fake.faults.timeout_seconds = 30.0
    fake.faults.timeout_accepts = False

    with pytest.raises(TimeoutError):
        await asyncio.wait_for(post(session, fake, single_send()), 0.2)

    assert fake.messages == []


async def test_fake_drop_after_accepting(fake: FakeBrevo, session: aiohttp.ClientSession) -> None:
    fake.faults.drop_share = 1.0

    with pytest.raises(aiohttp.ServerDisconnectedError):
        await post(session, fake, single_send())

    assert fake.accepted_count("reader@example.com") == 1


@pytest.mark.parametrize(
    ("account_error", "status", "code"),
    [
        ("unauthorized", 401, "unauthorized"),
        ("not_enough_credits", 402, "not_enough_credits"),
        ("permission_denied", 403, "permission_denied"),
        ("invalid_sender", 400, "invalid_parameter"),
    ],
)
async def test_fake_account_error_fault(
    fake: FakeBrevo,
    session: aiohttp.ClientSession,
    account_error: str,
    status: int,
    code: str,
) -> None:
    fake.faults.account_error = account_error  # type: ignore[assignment]

    answer = await post(session, fake, single_send())

    assert answer[0] == status
    assert answer[1]["code"] == code
    assert fake.messages == []


async def test_fake_account_endpoint(fake: FakeBrevo, session: aiohttp.ClientSession) -> None:
    async with session.get(f"{fake.base_url}/v3/account", headers={"api-key": API_KEY}) as r:
        status, body, headers = r.status, await r.json(), r.headers

    assert status == 200
    assert body["email"] == "owner@relay.fake"
    assert body["plan"][0]["credits"] == 300
    assert headers["x-sib-ratelimit-limit"] == "100"


async def test_fake_http_control_endpoints(fake: FakeBrevo, session: aiohttp.ClientSession) -> None:
    faults_url = f"{fake.base_url}/_fake/faults"
    async with session.post(
        faults_url, json={"server_error_share": 1.0, "server_error_status": 502}
    ) as r:
        assert r.status == 200
        assert (await r.json())["server_error_share"] == 1.0

    assert (await post(session, fake, single_send()))[0] == 502

    async with session.post(faults_url, json={"server_error_share": 1.5}) as r:
        assert r.status == 400
    assert fake.faults.server_error_share == 1.0

    async with session.post(f"{fake.base_url}/_fake/reset") as r:
        assert r.status == 200
    assert fake.faults.server_error_share == 0.0

    await post(session, fake, single_send())
    async with session.get(f"{fake.base_url}/_fake/messages") as r:
        messages = await r.json()
    assert [message["to"][0]["email"] for message in messages] == ["reader@example.com"]

    async with session.post(faults_url, json={"rate_limit_for_seconds": 3}) as r:
        assert r.status == 200
    assert (await post(session, fake, single_send()))[0] == 429
