"""Security headers on every HTTP response."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from litestar import Response


def content_security_policy(web_origin: str) -> str:
    host = urlsplit(web_origin).netloc
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            # The code editor and email previews use inline styles.
            "style-src 'self' 'unsafe-inline'",
            # Email templates load images from anywhere; previews should show them.
            "img-src 'self' data: https: http:",
            "font-src 'self' data:",
            f"connect-src 'self' ws://{host} wss://{host}",
            "frame-ancestors 'none'",
            "base-uri 'self'",
            "form-action 'self'",
        ]
    )


def security_headers(web_origin: str) -> Callable[[Response[Any]], Awaitable[Response[Any]]]:
    policy = content_security_policy(web_origin)

    async def add_headers(response: Response[Any]) -> Response[Any]:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy", policy)
        return response

    return add_headers
