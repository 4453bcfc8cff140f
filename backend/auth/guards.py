"""Authentication and CSRF for every route that needs a signed-in account.

A request is authenticated by the `access_token` cookie (browsers) or an
`Authorization: Bearer` header (API clients). Cookie-authenticated writes must echo the
`csrf_token` cookie in the `X-CSRF-Token` header (double submit); bearer requests cannot be
forged by another site, so they skip that check.
"""

from __future__ import annotations

import hmac
from typing import Any
from uuid import UUID

import msgspec
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.handlers.base import BaseRouteHandler

from backend.auth.passwords import Passwords
from backend.auth.service import AuthService
from backend.core.errors import AuthenticationError, PermissionDeniedError
from backend.core.state import AppServices

ACCESS_COOKIE = "access_token"
REFRESH_COOKIE = "refresh_token"
CSRF_COOKIE = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CurrentAccount(msgspec.Struct, frozen=True):
    id: UUID
    email: str
    name: str
    family_id: UUID
    via_cookie: bool


def read_bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def check_csrf(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    cookie = connection.cookies.get(CSRF_COOKIE, "")
    header = connection.headers.get(CSRF_HEADER, "")
    if not cookie or not header or not hmac.compare_digest(cookie, header):
        raise PermissionDeniedError(
            "The CSRF token is missing or does not match; reload the page and try again. "
            "API clients should send an Authorization: Bearer header instead of cookies."
        )


async def authenticate_connection(connection: ASGIConnection[Any, Any, Any, Any]) -> CurrentAccount:
    services: AppServices = connection.app.state.services
    bearer = read_bearer_token(connection)
    token = bearer or connection.cookies.get(ACCESS_COOKIE)
    if not token:
        raise AuthenticationError("Sign in to continue.")
    method = connection.scope.get("method", "GET")
    if bearer is None and method not in SAFE_METHODS:
        check_csrf(connection)

    async with services.database.session() as session:
        auth = AuthService(session, services.settings, services.passwords, services.login_failures)
        user, family_id = await auth.authenticate(token)
    return CurrentAccount(user.id, user.email, user.name, family_id, via_cookie=bearer is None)


async def require_account(
    connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler
) -> None:
    """Guard: reject the request unless it carries a live session; store the account."""
    connection.state.account = await authenticate_connection(connection)


def provide_account(request: ASGIConnection[Any, Any, Any, Any]) -> CurrentAccount:
    account: CurrentAccount = request.state.account
    return account


__all__ = ["CurrentAccount", "Passwords", "provide_account", "require_account"]


Account = NamedDependency[CurrentAccount]
