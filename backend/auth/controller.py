from __future__ import annotations

import secrets
from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.handlers.base import BaseRouteHandler
from litestar.params import Body, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT
from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth.guards import (
    ACCESS_COOKIE,
    CSRF_COOKIE,
    REFRESH_COOKIE,
    Account,
    check_csrf,
    provide_account,
    read_bearer_token,
    require_account,
)
from backend.auth.models import User
from backend.auth.service import AuthService, IssuedTokens
from backend.core.dependencies import DbSession, Services
from backend.core.errors import AuthenticationError, ValidationError

REFRESH_COOKIE_PATH = "/api/v1/auth"


class SignupBody(msgspec.Struct, kw_only=True):
    email: str
    password: str
    name: str = ""


class LoginBody(msgspec.Struct, kw_only=True):
    email: str
    password: str
    token: bool = False


class RefreshBody(msgspec.Struct, kw_only=True):
    refresh_token: str | None = None


class UserOut(msgspec.Struct):
    id: str
    email: str
    name: str
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(str(user.id), user.email, user.name, user.created_at)


class TokensOut(msgspec.Struct):
    user: UserOut
    access_token: str
    access_expires_at: datetime
    refresh_token: str
    refresh_expires_at: datetime


def require_json_body(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: reject a body that is not application/json before Litestar tries to decode it.

    Sign-up and sign-in take no CSRF token, because there is no session yet. A cross-site
    form can only send form or text bodies, so accepting JSON alone keeps them safe.
    """
    content_type = connection.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise ValidationError(
            f"Send the body as application/json (got '{content_type or 'none'}')."
        )


def _auth_service(services: Services, session: AsyncSession) -> AuthService:
    return AuthService(session, services.settings, services.passwords, services.login_failures)


def _session_cookies(
    services: Services, tokens: IssuedTokens, request: Request[Any, Any, Any]
) -> list[Cookie]:
    secure = services.settings.secure_cookies
    cookies = [
        Cookie(
            key=ACCESS_COOKIE,
            value=tokens.access_token,
            httponly=True,
            secure=secure,
            samesite="lax",
            path="/",
            max_age=services.settings.access_token_expire_minutes * 60,
        ),
        Cookie(
            key=REFRESH_COOKIE,
            value=tokens.refresh_token,
            httponly=True,
            secure=secure,
            samesite="lax",
            path=REFRESH_COOKIE_PATH,
            max_age=services.settings.refresh_token_expire_days * 86400,
        ),
    ]
    if not request.cookies.get(CSRF_COOKIE):
        cookies.append(csrf_cookie(services))
    return cookies


def csrf_cookie(services: Services) -> Cookie:
    return Cookie(
        key=CSRF_COOKIE,
        value=secrets.token_urlsafe(24),
        httponly=False,
        secure=services.settings.secure_cookies,
        samesite="lax",
        path="/",
    )


def _cleared_cookies(services: Services) -> list[Cookie]:
    secure = services.settings.secure_cookies
    return [
        Cookie(
            key=ACCESS_COOKIE,
            value="",
            max_age=0,
            path="/",
            httponly=True,
            secure=secure,
            samesite="lax",
        ),
        Cookie(
            key=REFRESH_COOKIE,
            value="",
            max_age=0,
            path=REFRESH_COOKIE_PATH,
            httponly=True,
            secure=secure,
            samesite="lax",
        ),
    ]


class AuthOptions(msgspec.Struct):
    signup: bool


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]

    @post("/signup", status_code=HTTP_201_CREATED, guards=[require_json_body])
    async def signup(
        self,
        request: Request[Any, Any, Any],
        services: Services,
        db_session: DbSession,
        data: JSONBody[SignupBody],
    ) -> Response[UserOut]:
        user, tokens = await _auth_service(services, db_session).signup(
            data.email, data.password, data.name
        )
        return Response(
            UserOut.of(user),
            status_code=HTTP_201_CREATED,
            cookies=_session_cookies(services, tokens, request),
        )

    @post("/login", status_code=HTTP_200_OK, guards=[require_json_body])
    async def login(
        self,
        request: Request[Any, Any, Any],
        services: Services,
        db_session: DbSession,
        data: JSONBody[LoginBody],
    ) -> Response[UserOut | TokensOut]:
        user_agent = request.headers.get("user-agent", "")
        client_address = request.client.host if request.client else "unknown"
        user, tokens = await _auth_service(services, db_session).login(
            data.email, data.password, user_agent, client_address
        )
        cookies = _session_cookies(services, tokens, request)
        if data.token:
            body = TokensOut(
                UserOut.of(user),
                tokens.access_token,
                tokens.access_expires_at,
                tokens.refresh_token,
                tokens.refresh_expires_at,
            )
            return Response(body, cookies=cookies)
        return Response(UserOut.of(user), cookies=cookies)

    @post("/refresh", status_code=HTTP_200_OK)
    async def refresh(
        self,
        request: Request[Any, Any, Any],
        services: Services,
        db_session: DbSession,
        data: Annotated[RefreshBody | None, Body()] = None,
    ) -> Response[UserOut | TokensOut]:
        body_token = data.refresh_token if data else None
        token = body_token or request.cookies.get(REFRESH_COOKIE)
        if not token:
            raise AuthenticationError("No refresh token was sent; sign in again.")
        if body_token is None:
            check_csrf(request)
        user, tokens = await _auth_service(services, db_session).refresh(token)
        cookies = _session_cookies(services, tokens, request)
        if body_token is not None:
            body = TokensOut(
                UserOut.of(user),
                tokens.access_token,
                tokens.access_expires_at,
                tokens.refresh_token,
                tokens.refresh_expires_at,
            )
            return Response(body, cookies=cookies)
        return Response(UserOut.of(user), cookies=cookies)

    @post(
        "/logout",
        status_code=HTTP_204_NO_CONTENT,
        guards=[require_account],
        dependencies={"account": Provide(provide_account, sync_to_thread=False)},
    )
    async def logout(
        self, services: Services, db_session: DbSession, account: Account
    ) -> Response[None]:
        await _auth_service(services, db_session).logout(account.family_id)
        return Response(None, status_code=HTTP_204_NO_CONTENT, cookies=_cleared_cookies(services))

    @post(
        "/logout-all",
        status_code=HTTP_204_NO_CONTENT,
        guards=[require_account],
        dependencies={"account": Provide(provide_account, sync_to_thread=False)},
    )
    async def logout_all(
        self, services: Services, db_session: DbSession, account: Account
    ) -> Response[None]:
        await _auth_service(services, db_session).logout_all(account.id)
        return Response(None, status_code=HTTP_204_NO_CONTENT, cookies=_cleared_cookies(services))

    @get(
        "/me",
        guards=[require_account],
        dependencies={"account": Provide(provide_account, sync_to_thread=False)},
    )
    async def me(self, db_session: DbSession, account: Account) -> UserOut:
        user = await db_session.get_one(User, account.id)
        return UserOut.of(user)

    @get("/options")
    async def options(self, services: Services) -> AuthOptions:
        """Return what the sign-in pages offer, so a closed sign-up hides its form."""
        return AuthOptions(signup=services.settings.allow_signup)

    @get("/csrf", status_code=HTTP_204_NO_CONTENT)
    async def csrf(self, request: Request[Any, Any, Any], services: Services) -> Response[None]:
        cookies = [] if request.cookies.get(CSRF_COOKIE) else [csrf_cookie(services)]
        return Response(None, status_code=HTTP_204_NO_CONTENT, cookies=cookies)


__all__ = ["AuthController", "RequestEncodingType", "read_bearer_token"]
