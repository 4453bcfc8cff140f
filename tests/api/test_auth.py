"""Sign-up, sign-in, token rotation, sign-out, CSRF, cookies, legacy hashes and throttling."""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any

import bcrypt
import httpx
import pytest
from sqlalchemy import select

from backend.auth.models import User
from backend.core.config import Settings
from backend.core.database import Database, create_engine
from tests.api.conftest import Client, ClientFactory
from tests.conftest import csrf_headers, signup

PASSWORD = "correct horse battery"


async def login(client: Client, email: str = "ops@example.com", **extra: Any) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/login", json={"email": email, "password": PASSWORD, **extra}
    )


async def login_tokens(client: Client, email: str = "ops@example.com") -> dict[str, Any]:
    response = await login(client, email, token=True)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def me_with_bearer(client: Client, access_token: str) -> httpx.Response:
    return await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {access_token}"})


async def refresh_with_body(client: Client, refresh_token: str) -> httpx.Response:
    return await client.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token})


def set_cookies(response: httpx.Response) -> dict[str, Any]:
    """Parse every Set-Cookie header of a response into morsels by cookie name."""
    cookies: dict[str, Any] = {}
    for header in response.headers.get_list("set-cookie"):
        parsed: SimpleCookie = SimpleCookie()
        parsed.load(header)
        cookies.update(parsed)
    return cookies


async def test_signup_sets_session_cookies(client: Client) -> None:
    user = await signup(client)

    assert user["email"] == "ops@example.com"
    assert client.cookies.get("access_token")
    assert client.cookies.get("csrf_token")
    me = await client.get("/api/v1/auth/me")
    assert me.status_code == 200
    assert me.json()["email"] == "ops@example.com"


async def test_signup_rejects_invalid_email(client: Client) -> None:
    response = await client.post(
        "/api/v1/auth/signup", json={"email": "ops@example,com", "password": PASSWORD}
    )

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert response.json()["field"] == "email"
    assert "ops@example,com" in response.json()["message"]


async def test_signup_rejects_short_password(client: Client) -> None:
    response = await client.post(
        "/api/v1/auth/signup", json={"email": "ops@example.com", "password": "short"}
    )

    assert response.status_code == 400
    assert response.json()["field"] == "password"
    assert "at least 10" in response.json()["message"]


async def test_signup_duplicate_email_conflicts(client: Client, other_client: Client) -> None:
    await signup(client)

    response = await other_client.post(
        "/api/v1/auth/signup", json={"email": "OPS@example.com", "password": PASSWORD}
    )

    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert response.json()["field"] == "email"


async def test_signup_rejects_form_body(client: Client) -> None:
    response = await client.post(
        "/api/v1/auth/signup", data={"email": "ops@example.com", "password": PASSWORD}
    )

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert "application/json" in response.json()["message"]
    assert not client.cookies.get("access_token")


async def test_login_rejects_form_body(client: Client, other_client: Client) -> None:
    await signup(client)

    response = await other_client.post(
        "/api/v1/auth/login", data={"email": "ops@example.com", "password": PASSWORD}
    )

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert "application/json" in response.json()["message"]
    assert not other_client.cookies.get("access_token")


async def test_login_succeeds_with_right_password(client: Client, other_client: Client) -> None:
    await signup(client)

    response = await login(other_client)

    assert response.status_code == 200
    assert response.json()["email"] == "ops@example.com"
    assert (await other_client.get("/api/v1/auth/me")).status_code == 200


async def test_login_fails_with_wrong_password(client: Client, other_client: Client) -> None:
    await signup(client)

    response = await other_client.post(
        "/api/v1/auth/login", json={"email": "ops@example.com", "password": "wrong password!"}
    )

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert not other_client.cookies.get("access_token")


async def test_login_fails_for_unknown_email(client: Client) -> None:
    response = await login(client, "nobody@example.com")

    assert response.status_code == 401
    assert response.json()["message"] == "The email or password is incorrect."


async def test_me_without_cookie_is_unauthenticated(client: Client) -> None:
    response = await client.get("/api/v1/auth/me")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


async def test_refresh_rotates_tokens(client: Client, other_client: Client) -> None:
    await signup(client)
    first = await login_tokens(other_client)

    refreshed = await refresh_with_body(other_client, first["refresh_token"])

    assert refreshed.status_code == 200
    second = refreshed.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert (await me_with_bearer(other_client, second["access_token"])).status_code == 200
    replay = await refresh_with_body(other_client, first["refresh_token"])
    assert replay.status_code == 401


async def test_refresh_by_cookie_sets_new_cookies(client: Client) -> None:
    signed_up = await client.post(
        "/api/v1/auth/signup", json={"email": "ops@example.com", "password": PASSWORD}
    )
    old_refresh = set_cookies(signed_up)["refresh_token"].value

    response = await client.post("/api/v1/auth/refresh", headers=csrf_headers(client))

    assert response.status_code == 200
    assert set_cookies(response)["refresh_token"].value != old_refresh
    assert set_cookies(response)["access_token"].value
    assert (await client.get("/api/v1/auth/me")).status_code == 200


async def test_refresh_by_cookie_requires_csrf(client: Client) -> None:
    await signup(client)
    del client.headers["X-CSRF-Token"]

    response = await client.post("/api/v1/auth/refresh")

    assert response.status_code == 403


async def test_refresh_reuse_revokes_family(client: Client, other_client: Client) -> None:
    await signup(client)
    first = await login_tokens(other_client)
    second = (await refresh_with_body(other_client, first["refresh_token"])).json()

    replay = await refresh_with_body(other_client, first["refresh_token"])

    assert replay.status_code == 401
    assert (await me_with_bearer(other_client, second["access_token"])).status_code == 401
    assert (await refresh_with_body(other_client, second["refresh_token"])).status_code == 401
    assert (await client.get("/api/v1/auth/me")).status_code == 200


async def test_logout_revokes_only_that_session(client: Client, other_client: Client) -> None:
    await signup(client)
    tokens = await login_tokens(other_client)
    other_client.headers.update(csrf_headers(other_client))

    response = await other_client.post("/api/v1/auth/logout")

    assert response.status_code == 204
    assert (await me_with_bearer(other_client, tokens["access_token"])).status_code == 401
    assert (await refresh_with_body(other_client, tokens["refresh_token"])).status_code == 401
    assert (await client.get("/api/v1/auth/me")).status_code == 200


async def test_logout_clears_cookies(client: Client) -> None:
    await signup(client)

    response = await client.post("/api/v1/auth/logout")

    assert response.status_code == 204
    assert set_cookies(response)["access_token"]["max-age"] == "0"
    assert (await client.get("/api/v1/auth/me")).status_code == 401


async def test_logout_all_revokes_every_session(client: Client, other_client: Client) -> None:
    await signup(client)
    first = client.cookies.get("access_token") or ""
    second = (await login_tokens(other_client))["access_token"]

    response = await client.post("/api/v1/auth/logout-all")

    assert response.status_code == 204
    assert (await me_with_bearer(other_client, first)).status_code == 401
    assert (await me_with_bearer(other_client, second)).status_code == 401
    assert (await other_client.get("/api/v1/auth/me")).status_code == 401


async def test_csrf_missing_header_is_rejected(client: Client) -> None:
    await signup(client)
    del client.headers["X-CSRF-Token"]

    response = await client.post("/api/v1/templates", json={"name": "News"})

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


async def test_csrf_wrong_header_is_rejected(client: Client) -> None:
    await signup(client)

    response = await client.post(
        "/api/v1/templates", json={"name": "News"}, headers={"X-CSRF-Token": "forged"}
    )

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


async def test_csrf_right_header_is_accepted(client: Client) -> None:
    await signup(client)

    response = await client.post(
        "/api/v1/templates", json={"name": "News"}, headers=csrf_headers(client)
    )

    assert response.status_code == 201


async def test_csrf_endpoint_sets_cookie(client: Client) -> None:
    response = await client.get("/api/v1/auth/csrf")

    assert response.status_code == 204
    assert client.cookies.get("csrf_token")


async def test_bearer_request_needs_no_csrf(client: Client, other_client: Client) -> None:
    await signup(client)
    tokens = await login_tokens(other_client)
    other_client.cookies.clear()

    response = await other_client.post(
        "/api/v1/templates",
        json={"name": "News"},
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )

    assert response.status_code == 201


async def test_login_token_response_carries_tokens(client: Client, other_client: Client) -> None:
    await signup(client)

    body = await login_tokens(other_client)

    assert body["user"]["email"] == "ops@example.com"
    assert body["access_token"]
    assert body["refresh_token"]


async def test_session_cookies_are_httponly_and_lax(client: Client, other_client: Client) -> None:
    await signup(client)

    cookies = set_cookies(await login(other_client))

    assert cookies["access_token"]["httponly"] is True
    assert cookies["access_token"]["samesite"].lower() == "lax"
    assert cookies["refresh_token"]["httponly"] is True
    assert cookies["refresh_token"]["samesite"].lower() == "lax"
    assert cookies["refresh_token"]["path"] == "/api/v1/auth"
    assert cookies["csrf_token"]["httponly"] == ""
    assert cookies["access_token"]["secure"] == ""


async def test_session_cookies_are_secure_when_configured(make_client: ClientFactory) -> None:
    client = await make_client(secure_cookies=True)

    response = await client.post(
        "/api/v1/auth/signup", json={"email": "ops@example.com", "password": PASSWORD}
    )

    cookies = set_cookies(response)
    assert response.status_code == 201
    assert cookies["access_token"]["secure"] is True
    assert cookies["refresh_token"]["secure"] is True
    assert cookies["csrf_token"]["secure"] is True


async def insert_user(settings: Settings, email: str, password_hash: str) -> None:
    # A separate engine, because the app's engine belongs to the test client's event loop.
    database = Database(create_engine(settings))
    try:
        async with database.session() as session:
            session.add(User(email=email, name="Legacy", password_hash=password_hash))
            await session.commit()
    finally:
        await database.dispose()


async def stored_hash(settings: Settings, email: str) -> str:
    database = Database(create_engine(settings))
    try:
        async with database.session() as session:
            user = await session.scalar(select(User).where(User.email == email))
            assert user is not None
            return user.password_hash
    finally:
        await database.dispose()


@pytest.mark.parametrize("prefix", ["$2a$", "$2b$", "$2y$"])
async def test_login_bcrypt_hash_is_rehashed(
    client: Client, settings: Settings, prefix: str
) -> None:
    # The variants differ only in the bugs of old implementations, so one hash serves all.
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    legacy = prefix + hashed.removeprefix("$2b$")
    await insert_user(settings, "legacy@example.com", legacy)

    response = await login(client, "legacy@example.com")

    assert response.status_code == 200
    assert (await stored_hash(settings, "legacy@example.com")).startswith("$argon2id$")
    assert (await login(client, "legacy@example.com")).status_code == 200


async def test_login_bcrypt_wrong_password_fails(client: Client, settings: Settings) -> None:
    legacy = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    await insert_user(settings, "legacy@example.com", legacy)

    response = await client.post(
        "/api/v1/auth/login", json={"email": "legacy@example.com", "password": "wrong password!"}
    )

    assert response.status_code == 401
    assert await stored_hash(settings, "legacy@example.com") == legacy


async def fail_logins(client: Client, email: str, times: int) -> None:
    for attempt in range(times):
        response = await client.post(
            "/api/v1/auth/login", json={"email": email, "password": "wrong password!"}
        )
        assert response.status_code == 401, f"attempt {attempt + 1}: {response.text}"


async def test_login_throttled_after_five_failures(client: Client, other_client: Client) -> None:
    await signup(client)
    await fail_logins(other_client, "ops@example.com", 5)

    response = await login(other_client)

    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
    assert 0 < response.json()["details"]["retry_after"] <= 900
    assert int(response.headers["Retry-After"]) > 0
    assert not other_client.cookies.get("access_token")


async def test_login_throttle_ignores_email_case(client: Client, other_client: Client) -> None:
    await signup(client)
    await fail_logins(other_client, " OPS@Example.com", 5)

    response = await login(other_client)

    assert response.status_code == 429


async def test_login_throttle_ignores_other_email(client: Client, other_client: Client) -> None:
    await signup(client)
    await signup(other_client, "second@example.com")
    await fail_logins(other_client, "ops@example.com", 5)

    response = await login(other_client, "second@example.com")

    assert response.status_code == 200


async def test_login_success_resets_failure_count(client: Client, other_client: Client) -> None:
    await signup(client)
    await fail_logins(other_client, "ops@example.com", 4)
    assert (await login(other_client)).status_code == 200

    await fail_logins(other_client, "ops@example.com", 4)

    assert (await login(other_client)).status_code == 200


async def test_signup_rejects_blank_password_and_long_name(client: Client) -> None:
    blank = await client.post(
        "/api/v1/auth/signup", json={"email": "a@example.com", "password": " " * 12}
    )
    long_name = await client.post(
        "/api/v1/auth/signup",
        json={"email": "b@example.com", "password": "correct horse battery", "name": "n" * 201},
    )

    assert blank.status_code == 400
    assert blank.json()["field"] == "password"
    assert long_name.status_code == 400
    assert long_name.json()["field"] == "name"
