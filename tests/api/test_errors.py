"""The one JSON error shape for unknown routes, malformed bodies and wrong parameter types."""

from __future__ import annotations

import httpx
import pytest

from tests.api.conftest import Client
from tests.conftest import signup

ERROR_KEYS = {"code", "message", "field", "details"}


@pytest.fixture
async def signed_in(client: Client) -> Client:
    await signup(client)
    return client


def assert_clean_error(response: httpx.Response) -> None:
    """The body is the documented error object and shows no server internals."""
    assert response.headers["content-type"].startswith("application/json")
    assert set(response.json()) == ERROR_KEYS
    assert response.json()["message"]
    assert "Traceback" not in response.text
    assert 'File "' not in response.text


async def test_errors_unknown_api_route(client: Client) -> None:
    response = await client.get("/api/v1/no-such-route")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert_clean_error(response)


async def test_errors_unknown_api_route_signed_in(signed_in: Client) -> None:
    response = await signed_in.post("/api/v1/templates/not-a-uuid/publish")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert_clean_error(response)


async def test_errors_malformed_json_login(client: Client) -> None:
    response = await client.post(
        "/api/v1/auth/login",
        content=b'{"email": "ops@example.com", "password": ',
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert "not valid JSON" in response.json()["message"]
    assert_clean_error(response)


async def test_errors_malformed_json_authenticated(signed_in: Client) -> None:
    template_id = (await signed_in.get("/api/v1/templates")).json()[0]["id"]

    response = await signed_in.put(
        f"/api/v1/templates/{template_id}/draft",
        content=b"{subject: 'no quotes'}",
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert "not valid JSON" in response.json()["message"]
    assert_clean_error(response)


async def test_errors_missing_body_field_is_named(client: Client) -> None:
    response = await client.post("/api/v1/auth/signup", json={"email": "ops@example.com"})

    assert response.status_code == 400
    assert "password" in response.json()["message"]
    assert_clean_error(response)


async def test_errors_wrong_query_type(signed_in: Client) -> None:
    response = await signed_in.get("/api/v1/contacts", params={"limit": "many"})

    assert response.status_code == 400
    assert response.json()["field"] == "limit"
    assert_clean_error(response)


async def test_missing_body_field_is_named(client: Client) -> None:
    response = await client.post("/api/v1/auth/signup", json={"email": "ops@example.com"})

    assert response.status_code == 400
    assert response.json()["field"] == "password"
    assert "password" in response.json()["message"]


async def test_responses_carry_security_headers(client: Client) -> None:
    response = await client.get("/api/v1/auth/csrf")

    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


async def test_unknown_route_message_names_the_path(client: Client) -> None:
    response = await client.get("/api/v1/templates/not-a-uuid")

    assert response.status_code == 404
    assert "/api/v1/templates/not-a-uuid" in response.json()["message"]
