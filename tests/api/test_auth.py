from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from tests.conftest import csrf_headers, signup


async def test_signup_sets_session_cookies(client: AsyncTestClient[Any]) -> None:
    user = await signup(client)

    assert user["email"] == "ops@example.com"
    assert client.cookies.get("access_token")
    assert client.cookies.get("csrf_token")
    me = await client.get("/api/v1/auth/me")
    assert me.status_code == 200
    assert me.json()["email"] == "ops@example.com"
