"""A fake Brevo API server: POST /v3/smtp/email and GET /v3/account on a real aiohttp server.

It validates requests as strictly as Brevo's documentation allows, records every accepted
message, honours idempotency keys and can inject faults (5xx shares, 429 windows, latency,
account errors, timeouts, dropped connections) from a test or over HTTP:

    POST /_fake/faults    JSON object with Faults fields to change, plus an optional
                          "rate_limit_for_seconds" that opens a 429 window
    GET  /_fake/faults    the current faults
    GET  /_fake/messages  every accepted message
    GET  /_fake/stats     request and message counts, and the most messages one address got
    POST /_fake/reset     forget messages, counts, idempotency keys and faults

Run it on its own with ``python -m tests.fakes.brevo --port 8025 --api-key xkeysib-...``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import random
import re
import signal
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import msgspec
from aiohttp import web

logger = logging.getLogger("tests.fakes.brevo")

MAX_VERSIONS = 1000
MAX_RECIPIENTS_PER_VERSION = 99
MAX_RECIPIENTS_PER_REQUEST = 2000
MAX_NAME_LENGTH = 70
MAX_PARAMS_BYTES_PER_VERSION = 100 * 1024
MAX_PARAMS_BYTES_PER_REQUEST = 1000 * 1024
MAX_MESSAGE_BYTES = 20 * 1024 * 1024

# Room for 1,000 versions of a large HTML message. aiohttp's default of 1 MiB would reject
# ordinary batch requests with 413.
MAX_REQUEST_BYTES = 100 * 1024 * 1024

# ASCII only: Brevo answers 400 to a non-ASCII domain such as bücher.example.
_EMAIL = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9-]{2,63}$"
)

AccountError = Literal["unauthorized", "not_enough_credits", "permission_denied", "invalid_sender"]
Share = Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]
Seconds = Annotated[float, msgspec.Meta(ge=0.0)]

_ACCOUNT_ERRORS: dict[str, tuple[int, str, str]] = {
    "unauthorized": (401, "unauthorized", "Key not found"),
    "not_enough_credits": (402, "not_enough_credits", "Not enough credit, plan upgrade needed"),
    "permission_denied": (
        403,
        "permission_denied",
        "Unable to send email. Your SMTP account is not yet activated. "
        "Please contact us at contact@brevo.com to request activation",
    ),
    "invalid_sender": (400, "invalid_parameter", "Sender is invalid / inactive"),
}


class Faults(msgspec.Struct):
    """Faults to inject. Shares are probabilities from 0 to 1, drawn from a seeded random."""

    server_error_share: Share = 0.0
    server_error_status: int = 500
    # Share of requests rejected with 429, with x-sib-ratelimit-reset set to rate_limit_reset.
    rate_limit_share: Share = 0.0
    rate_limit_reset: int = 1
    # Seconds added before every response.
    latency: Seconds = 0.0
    account_error: AccountError | None = None
    # Overrides the status of account_error, e.g. 400 for not_enough_credits.
    account_error_status: int | None = None
    # Share of send requests that get a response only after timeout_seconds. With
    # timeout_accepts the messages are accepted and recorded first, like a Brevo response lost
    # after the send.
    timeout_share: Share = 0.0
    timeout_seconds: Seconds = 30.0
    timeout_accepts: bool = True
    # Share of send requests that are accepted and recorded, then get their connection closed
    # without a response.
    drop_share: Share = 0.0
    # Send error codes in upper case, as some real Brevo responses do (INVALID_PARAMETER).
    uppercase_codes: bool = False
    # Every this many requests (0: never), open a 429 window of rate_limit_window seconds,
    # starting with that request. Counting requests rather than seconds makes the windows
    # fall inside a batch however fast it is sent.
    rate_limit_every: Annotated[int, msgspec.Meta(ge=0)] = 0
    rate_limit_window: Seconds = 1.0


class Address(msgspec.Struct):
    email: str
    name: str | None = None


class AcceptedMessage(msgspec.Struct):
    """One accepted message as the fake received it.

    ``headers`` and ``params`` merge the request's top level with the version's own values.
    """

    message_id: str
    sender: Address
    to: list[Address]
    cc: list[Address]
    bcc: list[Address]
    reply_to: Address | None
    subject: str
    html: str | None
    text: str | None
    headers: dict[str, str]
    params: dict[str, Any]
    tags: list[str]
    idempotency_key: str | None
    accepted_at: datetime


class _Rejected(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class _StoredResponse(msgspec.Struct):
    status: int
    body: bytes
    expires_at: float


class _Window:
    """A fixed-window request counter that produces Brevo's x-sib-ratelimit headers."""

    def __init__(self, limit: int, length: float) -> None:
        self.limit = limit
        self.length = length
        self.count = 0
        self.ends_at = 0.0

    def hit(self, now: float) -> tuple[bool, dict[str, str]]:
        if now >= self.ends_at:
            self.count = 0
            self.ends_at = now + self.length

        self.count += 1
        headers = {
            "x-sib-ratelimit-limit": str(self.limit),
            "x-sib-ratelimit-remaining": str(max(self.limit - self.count, 0)),
            "x-sib-ratelimit-reset": str(math.ceil(self.ends_at - now)),
        }
        return self.count > self.limit, headers


class FakeBrevo:
    """The fake server. Tests read ``messages`` and ``accepted_count`` and set ``faults``.

    ``senders``, when given, lists the sender addresses Brevo has verified. Any other sender
    gets 400 "Sender is invalid / inactive". ``credits``, when given, is the number of
    recipients the account may still send to; above it, requests get 402 not_enough_credits.
    """

    def __init__(
        self,
        api_keys: Iterable[str] = ("xkeysib-test",),
        *,
        senders: Iterable[str] | None = None,
        credits: int | None = None,
        seed: int = 0,
        send_rate_limit: int = 1000,
        account_rate_limit: int = 100,
        idempotency_window: float = 15 * 60,
        keep_bodies: bool = True,
    ) -> None:
        self.api_keys = set(api_keys)
        # Benchmarks send 100k+ messages; without their bodies the fake stays small.
        self.keep_bodies = keep_bodies
        self.senders = None if senders is None else {sender.lower() for sender in senders}
        self.credits = credits
        self.seed = seed
        self.idempotency_window = idempotency_window
        self._send_rate_limit = send_rate_limit
        self._account_rate_limit = account_rate_limit
        self.base_url: str | None = None
        self._runner: web.AppRunner | None = None
        self._stopping = asyncio.Event()
        self.reset()

    def reset(self) -> None:
        self.messages: list[AcceptedMessage] = []
        self.faults = Faults()
        self.request_count = 0
        self._counts: Counter[str] = Counter()
        self._idempotent: dict[tuple[str, str], _StoredResponse] = {}
        self._random = random.Random(self.seed)
        self._rate_limited_until = 0.0
        self._send_window = _Window(self._send_rate_limit, 1.0)
        self._account_window = _Window(self._account_rate_limit, 3600.0)
        # Every send request with a JSON body, whatever the response: its Idempotency-Key and
        # the first "to" address of each version, in order. Tests compare retried groups
        # with it.
        self.send_requests: list[tuple[str | None, list[str]]] = []
        # Send requests being handled now, and the most at any one time.
        self.in_flight = 0
        self.max_in_flight = 0
        # How often each injected fault fired, and how many repeats got the stored response
        # of their idempotency key. Fault tests check with it that their faults happened.
        self.injected: Counter[str] = Counter()

    def accepted_count(self, email: str) -> int:
        return self._counts[email.lower()]

    def rate_limit_for(self, seconds: float) -> None:
        """Reject every request with 429 for the next ``seconds`` seconds."""
        self._rate_limited_until = time.monotonic() + seconds

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start the server and return its base URL (port 0 picks a free port)."""
        self._stopping = asyncio.Event()
        app = web.Application(middlewares=[self._log_request], client_max_size=MAX_REQUEST_BYTES)
        app.router.add_post("/v3/smtp/email", self._handle_send)
        app.router.add_get("/v3/account", self._handle_account)
        app.router.add_post("/_fake/faults", self._handle_set_faults)
        app.router.add_get("/_fake/faults", self._handle_get_faults)
        app.router.add_get("/_fake/messages", self._handle_messages)
        app.router.add_post("/_fake/reset", self._handle_reset)
        app.router.add_get("/_fake/stats", self._handle_stats)

        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()

        bound_host, bound_port = self._runner.addresses[0][:2]
        self.base_url = f"http://{bound_host}:{bound_port}"
        return self.base_url

    async def stop(self) -> None:
        # Wake handlers that sleep for latency or timeouts, so shutdown does not wait for them.
        self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return

        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    @web.middleware
    async def _log_request(
        self,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        started = time.perf_counter()
        response = await handler(request)
        logger.info(
            "%s %s status=%d duration_ms=%d",
            request.method,
            request.path,
            response.status,
            round((time.perf_counter() - started) * 1000),
        )
        return response

    # Brevo endpoints

    async def _handle_send(self, request: web.Request) -> web.StreamResponse:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await self._send(request)
        finally:
            self.in_flight -= 1

    async def _send(self, request: web.Request) -> web.StreamResponse:
        self.request_count += 1
        limited, rate_headers = self._send_window.hit(time.monotonic())
        await self._sleep(self.faults.latency)
        raw = await request.read()
        self._log_send_request(raw)

        try:
            self._check_injected_failures(limited, rate_headers)
            api_key = self._check_api_key(request)
            self._check_account_error(("unauthorized", "permission_denied", "not_enough_credits"))
            body = _decode_json(raw)
            versions = _parse_send(body)
            self._check_sender(versions[0].sender)
            self._check_account_error(("invalid_sender",))
            idempotency_key = _idempotency_key(body)
        except _Rejected as rejected:
            return self._error(rejected, rate_headers)

        stored = self._stored_response(api_key, idempotency_key)
        if stored is not None:
            self.injected["replayed"] += 1
            return _json_bytes(stored.status, stored.body, rate_headers)

        try:
            self._use_credits(versions)
        except _Rejected as rejected:
            return self._error(rejected, rate_headers)

        return await self._accept(request, api_key, body, versions, idempotency_key, rate_headers)

    def _log_send_request(self, raw: bytes) -> None:
        try:
            body = msgspec.json.decode(raw)
        except msgspec.DecodeError:
            return
        if not isinstance(body, dict):
            return
        headers = body.get("headers")
        key = headers.get("Idempotency-Key") if isinstance(headers, dict) else None
        emails: list[str] = []
        for version in body.get("messageVersions") or [body]:
            to = version.get("to") if isinstance(version, dict) else None
            if isinstance(to, list) and to and isinstance(to[0], dict):
                emails.append(str(to[0].get("email", "")).lower())
        self.send_requests.append((key if isinstance(key, str) else None, emails))

    async def _accept(
        self,
        request: web.Request,
        api_key: str,
        body: dict[str, Any],
        versions: list[AcceptedMessage],
        idempotency_key: str | None,
        rate_headers: dict[str, str],
    ) -> web.StreamResponse:
        timed_out = self._random.random() < self.faults.timeout_share
        if timed_out:
            self.injected["timeout"] += 1
        if timed_out and not self.faults.timeout_accepts:
            await self._sleep(self.faults.timeout_seconds)
            return self._error(_Rejected(504, "gateway_timeout", "Timed out"), rate_headers)

        content = self._record(versions, idempotency_key, "to" in body)
        if idempotency_key is not None:
            self._idempotent[(api_key, idempotency_key)] = _StoredResponse(
                201, content, time.monotonic() + self.idempotency_window
            )

        if self._random.random() < self.faults.drop_share and request.transport is not None:
            self.injected["dropped"] += 1
            request.transport.abort()
            return web.Response(status=201)

        if timed_out:
            await self._sleep(self.faults.timeout_seconds)

        return _json_bytes(201, content, rate_headers)

    def _record(
        self, versions: list[AcceptedMessage], idempotency_key: str | None, single: bool
    ) -> bytes:
        now = datetime.now(UTC)
        ids: list[str] = []
        for version in versions:
            version.message_id = f"<{uuid.uuid4()}@relay.fake>"
            version.idempotency_key = idempotency_key
            version.accepted_at = now
            if not self.keep_bodies:
                version.html = version.text = None
            self.messages.append(version)
            ids.append(version.message_id)
            for address in [*version.to, *version.cc, *version.bcc]:
                self._counts[address.email.lower()] += 1

        if single:
            return msgspec.json.encode({"messageId": ids[0]})
        return msgspec.json.encode({"messageIds": ids})

    async def _handle_account(self, request: web.Request) -> web.StreamResponse:
        self.request_count += 1
        limited, rate_headers = self._account_window.hit(time.monotonic())
        await self._sleep(self.faults.latency)

        try:
            self._check_injected_failures(limited, rate_headers)
            self._check_api_key(request)
            self._check_account_error(("unauthorized", "permission_denied"))
        except _Rejected as rejected:
            return self._error(rejected, rate_headers)

        account = {
            "email": "owner@relay.fake",
            "companyName": "Fake Relay Ltd",
            "firstName": "Fake",
            "lastName": "Owner",
            "plan": [
                {
                    "type": "free",
                    "credits": 300 if self.credits is None else self.credits,
                    "creditsType": "sendLimit",
                }
            ],
            "relay": {
                "enabled": True,
                "data": {"relay": "smtp-relay.brevo.com", "port": 587, "userName": "fake@smtp"},
            },
        }
        return _json_bytes(200, msgspec.json.encode(account), rate_headers)

    def _check_injected_failures(self, limited: bool, rate_headers: dict[str, str]) -> None:
        now = time.monotonic()
        every = self.faults.rate_limit_every
        if every and self.request_count % every == 0:
            self._rate_limited_until = now + self.faults.rate_limit_window
        if now < self._rate_limited_until:
            rate_headers["x-sib-ratelimit-remaining"] = "0"
            rate_headers["x-sib-ratelimit-reset"] = str(math.ceil(self._rate_limited_until - now))
            self.injected["rate_limited"] += 1
            raise _Rejected(429, "too_many_requests", "Too many requests")

        if self._random.random() < self.faults.rate_limit_share:
            rate_headers["x-sib-ratelimit-remaining"] = "0"
            rate_headers["x-sib-ratelimit-reset"] = str(self.faults.rate_limit_reset)
            self.injected["rate_limited"] += 1
            raise _Rejected(429, "too_many_requests", "Too many requests")

        if limited:
            raise _Rejected(429, "too_many_requests", "Too many requests")

        if self._random.random() < self.faults.server_error_share:
            self.injected["server_error"] += 1
            raise _Rejected(
                self.faults.server_error_status, "internal_error", "Internal server error"
            )

    def _check_api_key(self, request: web.Request) -> str:
        api_key = request.headers.get("api-key")
        if not api_key:
            raise _Rejected(401, "unauthorized", "authentication not found in headers")

        # SMTP keys (xsmtpsib-) are never valid here, even when listed by mistake.
        if api_key not in self.api_keys or api_key.startswith("xsmtpsib-"):
            raise _Rejected(401, "unauthorized", "Key not found")

        return api_key

    def _check_account_error(self, applicable: tuple[str, ...]) -> None:
        error = self.faults.account_error
        if error is None or error not in applicable:
            return

        status, code, message = _ACCOUNT_ERRORS[error]
        raise _Rejected(self.faults.account_error_status or status, code, message)

    def _check_sender(self, sender: Address) -> None:
        if self.senders is not None and sender.email.lower() not in self.senders:
            raise _Rejected(400, "invalid_parameter", "Sender is invalid / inactive")

    def _stored_response(self, api_key: str, idempotency_key: str | None) -> _StoredResponse | None:
        if idempotency_key is None:
            return None

        stored = self._idempotent.get((api_key, idempotency_key))
        if stored is None or stored.expires_at <= time.monotonic():
            return None

        return stored

    def _use_credits(self, versions: list[AcceptedMessage]) -> None:
        if self.credits is None:
            return

        needed = sum(len(v.to) + len(v.cc) + len(v.bcc) for v in versions)
        if needed > self.credits:
            raise _Rejected(402, "not_enough_credits", "Not enough credit, plan upgrade needed")

        self.credits -= needed

    def _error(self, rejected: _Rejected, rate_headers: dict[str, str]) -> web.Response:
        code = rejected.code.upper() if self.faults.uppercase_codes else rejected.code
        content = msgspec.json.encode({"code": code, "message": rejected.message})
        return _json_bytes(rejected.status, content, rate_headers)

    # Control endpoints for manual runs

    async def _handle_set_faults(self, request: web.Request) -> web.StreamResponse:
        try:
            changes = _decode_json(await request.read())
            window = msgspec.convert(changes.pop("rate_limit_for_seconds", 0.0), Seconds)
            merged = msgspec.structs.asdict(self.faults) | changes
            self.faults = msgspec.convert(merged, Faults)
        except (_Rejected, msgspec.ValidationError) as error:
            return _json_bytes(400, msgspec.json.encode({"message": str(error)}), {})

        if window > 0:
            self.rate_limit_for(window)

        return await self._handle_get_faults(request)

    async def _handle_get_faults(self, request: web.Request) -> web.StreamResponse:
        return _json_bytes(200, msgspec.json.encode(self.faults), {})

    async def _handle_messages(self, request: web.Request) -> web.StreamResponse:
        return _json_bytes(200, msgspec.json.encode(self.messages), {})

    async def _handle_stats(self, request: web.Request) -> web.StreamResponse:
        stats = {
            "requests": self.request_count,
            "accepted": len(self.messages),
            "unique_recipients": len(self._counts),
            "max_per_recipient": max(self._counts.values(), default=0),
            "max_in_flight": self.max_in_flight,
            "injected": dict(self.injected),
        }
        return _json_bytes(200, msgspec.json.encode(stats), {})

    async def _handle_reset(self, request: web.Request) -> web.StreamResponse:
        self.reset()
        return _json_bytes(200, b'{"status":"reset"}', {})


def _json_bytes(status: int, content: bytes, headers: dict[str, str]) -> web.Response:
    return web.Response(
        status=status, body=content, headers=headers, content_type="application/json"
    )


def _decode_json(content: bytes) -> dict[str, Any]:
    try:
        body = msgspec.json.decode(content)
    except msgspec.DecodeError as error:
        message = f"Input must be a valid JSON object ({error})"
        raise _Rejected(400, "bad_request", message) from error

    if not isinstance(body, dict):
        raise _Rejected(400, "bad_request", "Input must be a valid JSON object")

    return body


def _idempotency_key(body: dict[str, Any]) -> str | None:
    headers = body.get("headers") or {}
    candidates = [
        value
        for name, value in headers.items()
        if name.lower() in ("idempotency-key", "idempotencykey")
    ]
    if "idempotencyKey" in body:
        candidates.append(body["idempotencyKey"])

    if not candidates:
        return None

    try:
        return str(uuid.UUID(str(candidates[0])))
    except ValueError as error:
        raise _Rejected(400, "invalid_parameter", "Idempotency-Key must be a UUID") from error


def _parse_send(body: dict[str, Any]) -> list[AcceptedMessage]:
    """Validate a send request and return one unrecorded message per version."""
    sender = _sender(body.get("sender"))
    if ("to" in body) == ("messageVersions" in body):
        raise _Rejected(
            400, "invalid_parameter", "Either to or messageVersions must be given, not both"
        )

    if not body.get("htmlContent") and not body.get("textContent"):
        raise _Rejected(400, "missing_parameter", "htmlContent is missing")

    # A request with "to" is a single message built from the top-level fields.
    versions = [_version(body, {"to": body["to"]})] if "to" in body else _versions(body)

    total = sum(len(v.to) + len(v.cc) + len(v.bcc) for v in versions)
    if total > MAX_RECIPIENTS_PER_REQUEST:
        raise _Rejected(
            400,
            "invalid_parameter",
            f"A request can have at most {MAX_RECIPIENTS_PER_REQUEST} recipients, got {total}",
        )

    params_bytes = sum(len(msgspec.json.encode(v.params)) for v in versions)
    if params_bytes > MAX_PARAMS_BYTES_PER_REQUEST:
        raise _Rejected(400, "invalid_parameter", "params of all versions exceed 1000 KB")

    for version in versions:
        version.sender = sender

    return versions


def _versions(body: dict[str, Any]) -> list[AcceptedMessage]:
    raw_versions = body["messageVersions"]
    if not isinstance(raw_versions, list) or not raw_versions:
        raise _Rejected(400, "invalid_parameter", "messageVersions must be a non-empty list")

    if len(raw_versions) > MAX_VERSIONS:
        raise _Rejected(
            400,
            "invalid_parameter",
            f"messageVersions can have at most {MAX_VERSIONS} versions, got {len(raw_versions)}",
        )

    versions: list[AcceptedMessage] = []
    for raw in raw_versions:
        if not isinstance(raw, dict):
            raise _Rejected(400, "invalid_parameter", "messageVersions must contain objects")
        if "to" not in raw:
            raise _Rejected(400, "missing_parameter", "to is missing in messageVersions")
        versions.append(_version(body, raw))

    return versions


def _version(body: dict[str, Any], raw: dict[str, Any]) -> AcceptedMessage:
    subject = raw.get("subject", body.get("subject"))
    if not isinstance(subject, str) or not subject:
        raise _Rejected(400, "missing_parameter", "subject is missing")

    to = _addresses(raw.get("to"), "to", required=True)
    cc = _addresses(raw.get("cc", body.get("cc")), "cc", required=False)
    bcc = _addresses(raw.get("bcc", body.get("bcc")), "bcc", required=False)
    if len(to) + len(cc) + len(bcc) > MAX_RECIPIENTS_PER_VERSION:
        raise _Rejected(
            400,
            "invalid_parameter",
            f"A version can have at most {MAX_RECIPIENTS_PER_VERSION} recipients",
        )

    html = _optional_text(raw.get("htmlContent", body.get("htmlContent")), "htmlContent")
    text = _optional_text(raw.get("textContent", body.get("textContent")), "textContent")
    size = len((html or "").encode()) + len((text or "").encode())
    if size > MAX_MESSAGE_BYTES:
        raise _Rejected(400, "invalid_parameter", "The message is larger than 20 MB")

    params = _object(body.get("params"), "params") | _object(raw.get("params"), "params")
    if len(msgspec.json.encode(params)) > MAX_PARAMS_BYTES_PER_VERSION:
        raise _Rejected(400, "invalid_parameter", "params of a version exceed 100 KB")

    reply_to = raw.get("replyTo", body.get("replyTo"))
    return AcceptedMessage(
        message_id="",
        sender=Address(email=""),
        to=to,
        cc=cc,
        bcc=bcc,
        reply_to=None if reply_to is None else _address(reply_to, "replyTo"),
        subject=subject,
        html=html,
        text=text,
        headers=_headers(body.get("headers")) | _headers(raw.get("headers")),
        params=params,
        tags=_tags(raw.get("tags", body.get("tags"))),
        idempotency_key=None,
        accepted_at=datetime.now(UTC),
    )


def _sender(raw: Any) -> Address:
    if not raw:
        raise _Rejected(400, "missing_parameter", "sender is missing")

    if not isinstance(raw, dict) or not _valid_email(raw.get("email")):
        raise _Rejected(400, "invalid_parameter", "valid sender email required")

    name = raw.get("name")
    if isinstance(name, str) and len(name) > MAX_NAME_LENGTH:
        raise _Rejected(
            400, "invalid_parameter", f"sender.name is longer than {MAX_NAME_LENGTH} characters"
        )

    return Address(email=raw["email"], name=name)


def _addresses(raw: Any, field: str, *, required: bool) -> list[Address]:
    if raw is None and not required:
        return []

    if not isinstance(raw, list) or not raw:
        raise _Rejected(400, "missing_parameter", f"{field} is missing")

    return [_address(item, field) for item in raw]


def _address(raw: Any, field: str) -> Address:
    if not isinstance(raw, dict) or not _valid_email(raw.get("email")):
        raise _Rejected(400, "invalid_parameter", f"email is not valid in {field}")

    name = raw.get("name")
    if name is not None and not isinstance(name, str):
        raise _Rejected(400, "invalid_parameter", f"name must be a string in {field}")
    if name is not None and len(name) > MAX_NAME_LENGTH:
        raise _Rejected(
            400,
            "invalid_parameter",
            f"name is longer than {MAX_NAME_LENGTH} characters in {field}",
        )

    return Address(email=raw["email"], name=name)


def _valid_email(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= 254 and _EMAIL.match(value) is not None


def _optional_text(raw: Any, field: str) -> str | None:
    if raw is not None and not isinstance(raw, str):
        raise _Rejected(400, "invalid_parameter", f"{field} must be a string")

    return raw


def _headers(raw: Any) -> dict[str, str]:
    if raw is None:
        return {}

    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise _Rejected(400, "invalid_parameter", "headers must be an object of strings")

    return dict(raw)


def _object(raw: Any, field: str) -> dict[str, Any]:
    if raw is None:
        return {}

    if not isinstance(raw, dict):
        raise _Rejected(400, "invalid_parameter", f"{field} must be an object")

    return dict(raw)


def _tags(raw: Any) -> list[str]:
    if raw is None:
        return []

    if not isinstance(raw, list) or not all(isinstance(tag, str) for tag in raw):
        raise _Rejected(400, "invalid_parameter", "tags must be a list of strings")

    return list(raw)


async def _serve(host: str, port: int, fake: FakeBrevo) -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)

    base_url = await fake.start(host, port)
    print(f"Fake Brevo listening on {base_url} (Ctrl-C to stop)", flush=True)
    try:
        await stop.wait()
    finally:
        await fake.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the fake Brevo API server.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8025, help="TCP port (0 picks a free one)")
    parser.add_argument(
        "--api-key",
        action="append",
        dest="api_keys",
        help="accepted API key; repeat for several (default: xkeysib-test)",
    )
    parser.add_argument(
        "--sender",
        action="append",
        dest="senders",
        help="verified sender address; repeat for several (default: any sender)",
    )
    parser.add_argument("--credits", type=int, help="recipients the account may send to")
    parser.add_argument("--seed", type=int, default=0, help="seed for fault shares")
    parser.add_argument(
        "--no-bodies", action="store_true", help="record messages without HTML and text parts"
    )
    parser.add_argument("--quiet", action="store_true", help="log warnings only, not each request")
    args = parser.parse_args()

    level = logging.WARNING if args.quiet else logging.INFO
    logging.basicConfig(level=level, format="%(asctime)s %(message)s")
    fake = FakeBrevo(
        args.api_keys or ("xkeysib-test",),
        senders=args.senders,
        credits=args.credits,
        seed=args.seed,
        keep_bodies=not args.no_bodies,
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.host, args.port, fake))


if __name__ == "__main__":
    main()
