"""ALLOW_SIGNUP=false closes sign-up; the create-account command still adds accounts."""

from __future__ import annotations

import os
import subprocess
import sys

from backend.core.config import Settings
from tests.api.conftest import Client, ClientFactory
from tests.conftest import ROOT

PASSWORD = "correct horse battery"


def run_create_account(
    settings: Settings, email: str, password: str
) -> subprocess.CompletedProcess[str]:
    env = dict(
        os.environ,
        DATABASE_URL=settings.database_url,
        SECRET_KEY=settings.secret_key,
        DATA_DIR=settings.data_dir,
        ARGON2_TIME_COST=str(settings.argon2_time_cost),
        ARGON2_MEMORY_KIB=str(settings.argon2_memory_kib),
    )
    return subprocess.run(
        [sys.executable, "-m", "backend", "create-account", email, "--name", "Ada"],
        cwd=ROOT,
        env=env,
        input=password + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_signup_closed_rejects_with_403(make_client: ClientFactory) -> None:
    client = await make_client(allow_signup=False)

    response = await client.post(
        "/api/v1/auth/signup", json={"email": "new@example.com", "password": PASSWORD}
    )

    assert response.status_code == 403
    assert "Sign-up is closed" in response.json()["message"]


async def test_auth_options_report_signup(make_client: ClientFactory) -> None:
    closed = await make_client(allow_signup=False)

    response = await closed.get("/api/v1/auth/options")

    assert response.status_code == 200, response.text
    assert response.json() == {"signup": False}


async def test_auth_options_default_open(client: Client) -> None:
    response = await client.get("/api/v1/auth/options")

    assert response.json() == {"signup": True}


async def test_create_account_command_allows_sign_in(
    settings: Settings, make_client: ClientFactory
) -> None:
    created = run_create_account(settings, "Ada@Example.com", PASSWORD)
    assert created.returncode == 0, created.stderr
    assert "ada@example.com" in created.stdout

    client = await make_client(allow_signup=False)
    response = await client.post(
        "/api/v1/auth/login", json={"email": "ada@example.com", "password": PASSWORD}
    )

    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Ada"
    templates = (await client.get("/api/v1/templates")).json()
    assert len(templates) == 1


async def test_create_account_command_explains_short_password(settings: Settings) -> None:
    created = run_create_account(settings, "ada@example.com", "short")

    assert created.returncode == 1
    assert "Could not create the account" in created.stderr
    assert "at least 10" in created.stderr


async def test_create_account_command_rejects_existing_email(settings: Settings) -> None:
    assert run_create_account(settings, "ada@example.com", PASSWORD).returncode == 0

    again = run_create_account(settings, "ada@example.com", PASSWORD)

    assert again.returncode == 1
    assert "already exists" in again.stderr
