"""`/api/v1/live`: relays the account's events to the browser.

Frames are JSON arrays of events. Events that arrive within one flush interval are merged:
only the newest `batch.progress` per batch, `recipient.updated` per recipient and
`import.progress` per import are kept, so a browser gets at most a few frames per second
however fast a batch sends or an import job reads. Counts in `batch.progress` and
`import.progress` are absolute, so a dropped intermediate event loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any
from urllib.parse import urlsplit

import msgspec
from litestar import WebSocket, websocket
from litestar.channels import ChannelsPlugin
from litestar.exceptions import WebSocketDisconnect

from backend.auth.guards import authenticate_connection
from backend.core.errors import AppError
from backend.core.events import Event, account_channel

logger = logging.getLogger(__name__)

FLUSH_INTERVAL_SECONDS = 0.25
POLICY_VIOLATION = 1008


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")


def allowed_origins(web_origin: str) -> set[str]:
    """WEB_ORIGIN, and its other loopback spellings when it is a loopback address.

    The default WEB_ORIGIN is http://127.0.0.1:8000, and a browser opened at
    http://localhost:8000 sends that as its Origin; both are this machine.
    """
    parts = urlsplit(web_origin)
    host = f"[{parts.hostname}]" if parts.hostname and ":" in parts.hostname else parts.hostname
    if host not in LOOPBACK_HOSTS:
        return {web_origin}
    suffix = f":{parts.port}" if parts.port else ""
    return {f"{parts.scheme}://{name}{suffix}" for name in LOOPBACK_HOSTS}


def merge_events(pending: dict[tuple[str, str], Event], events: list[Event]) -> None:
    for event in events:
        kind = str(event.get("type", ""))
        if kind == "batch.progress":
            key = (kind, str(event.get("batch_id")))
        elif kind == "recipient.updated":
            key = (kind, str(event.get("recipient_id")))
        elif kind == "import.progress":
            key = (kind, str(event.get("import_id")))
        else:
            key = (kind, str(len(pending)))
        pending.pop(key, None)
        pending[key] = event


def _decode(message: bytes | str) -> list[Event]:
    decoded: Any = msgspec.json.decode(message)
    if isinstance(decoded, dict):
        return [decoded]
    return [event for event in decoded if isinstance(event, dict)]


@websocket("/api/v1/live")
async def live_socket(socket: WebSocket[Any, Any, Any]) -> None:
    settings = socket.app.state.services.settings
    origin = socket.headers.get("origin")
    if origin is not None and origin.rstrip("/") not in allowed_origins(settings.web_origin):
        # Browsers always send Origin; checking it stops another site from opening a socket
        # with the operator's cookies. WebSockets get no CSRF check, so this is the check.
        await socket.close(code=POLICY_VIOLATION, reason="Origin not allowed")
        return
    try:
        account = await authenticate_connection(socket)
    except AppError:
        await socket.close(code=POLICY_VIOLATION, reason="Sign in first")
        return

    await socket.accept()
    channels: ChannelsPlugin = socket.app.state.channels
    channel = account_channel(account.id)
    async with channels.start_subscription([channel]) as subscriber:
        relay = asyncio.create_task(_relay(socket, subscriber))
        try:
            # Keep reading so a closed client raises here and ends the subscription;
            # iterating the subscription alone never notices a disconnect.
            while True:
                await socket.receive_data(mode="text")
        except WebSocketDisconnect:
            pass
        finally:
            relay.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await relay


async def _relay(socket: WebSocket[Any, Any, Any], subscriber: Any) -> None:
    pending: dict[tuple[str, str], Event] = {}
    queue: asyncio.Queue[bytes] = asyncio.Queue()

    async def collect() -> None:
        async for message in subscriber.iter_events():
            await queue.put(message)

    collector = asyncio.create_task(collect())
    try:
        while True:
            first = await queue.get()
            merge_events(pending, _decode(first))
            await asyncio.sleep(FLUSH_INTERVAL_SECONDS)
            while not queue.empty():
                merge_events(pending, _decode(queue.get_nowait()))
            frame = list(pending.values())
            pending.clear()
            await socket.send_text(msgspec.json.encode(frame).decode())
    except (WebSocketDisconnect, RuntimeError) as error:
        logger.debug("live socket closed", extra={"error": type(error).__name__})
    finally:
        collector.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await collector
