"""Shared fixtures: the schema from the Alembic migrations, one app per test, both run modes.

`TEST_MODE=embedded` (default) runs on SQLite with the in-process queue and memory channels.
`TEST_MODE=production` runs on Postgres and Redis (`TEST_DATABASE_URL`, `TEST_REDIS_URL`).
With `CI=true`, a production run fails instead of skipping when a service is unreachable.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import msgspec
import pytest
from alembic import command
from alembic.config import Config
from litestar import Litestar
from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.core.config import Settings, load_settings
from tests.fakes.brevo import FakeBrevo

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
TEST_MODE = os.environ.get("TEST_MODE", "embedded")
IN_CI = os.environ.get("CI", "").lower() == "true"
POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
# Each pytest process takes its own Redis database (1-15; 0 is left to `make run` and the
# benchmarks), so two test runs on one machine do not flush each other's queues.
REDIS_URL = os.environ.get("TEST_REDIS_URL", f"redis://127.0.0.1:6379/{1 + os.getpid() % 15}")
SECRET = "test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"


def pytest_report_header() -> str:
    return f"run mode: {TEST_MODE}"


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=2
        ):
            return True
    except OSError:
        return False


def require_service(url: str, default_port: int, name: str) -> None:
    if _reachable(url, default_port):
        return
    message = f"{name} at {url} is unreachable; start it (see README, 'Running the tests')."
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def run_migrations(database_url: str) -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = database_url
    config.attributes["configure_logging"] = False
    command.upgrade(config, "head")


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a database at the newest migration: a template file or a Postgres database."""
    if TEST_MODE == "production":
        require_service(POSTGRES_ADMIN_URL, 5432, "Postgres")
        import asyncio

        import asyncpg

        name = f"cca_test_{os.getpid()}"

        async def recreate(drop_only: bool = False) -> None:
            connection = await asyncpg.connect(POSTGRES_ADMIN_URL)
            try:
                await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                if not drop_only:
                    await connection.execute(f'CREATE DATABASE "{name}"')
            finally:
                await connection.close()

        asyncio.run(recreate())
        admin = urlparse(POSTGRES_ADMIN_URL)
        url = f"postgresql+asyncpg://{admin.netloc}/{name}"
        run_migrations(url)
        yield url
        asyncio.run(recreate(drop_only=True))
    else:
        path = tmp_path_factory.mktemp("schema") / "template.db"
        run_migrations(f"sqlite+aiosqlite:///{path}")
        yield str(path)


TABLES = (
    "import_row_errors, recipients, batches, imports, contacts, activity_events, "
    "template_versions, templates, account_settings, refresh_sessions, users"
)


@pytest.fixture
def database_url(migrated_database: str, tmp_path: Path) -> str:
    if TEST_MODE == "production":
        import asyncio

        import asyncpg

        async def truncate() -> None:
            connection = await asyncpg.connect(migrated_database.replace("+asyncpg", ""))
            try:
                await connection.execute(f"TRUNCATE {TABLES} CASCADE")
            finally:
                await connection.close()

        asyncio.run(truncate())
        return migrated_database
    target = tmp_path / "app.db"
    shutil.copyfile(migrated_database, target)
    return f"sqlite+aiosqlite:///{target}"


@pytest.fixture
def redis_url() -> str | None:
    if TEST_MODE != "production":
        return None
    require_service(REDIS_URL, 6379, "Redis")
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    client.close()
    return REDIS_URL


@pytest.fixture
def settings(database_url: str, redis_url: str | None, tmp_path: Path) -> Settings:
    base = load_settings(environ={}, env_file=None)
    return msgspec.structs.replace(
        base,
        secret_key=SECRET,
        database_url=database_url,
        redis_url=redis_url or "",
        queue_backend="redis" if TEST_MODE == "production" else "inline",
        data_dir=str(tmp_path / "data"),
        argon2_time_cost=1,
        argon2_memory_kib=1024,
        send_chunk_size=50,
        # Tests never reach the real Brevo: port 9 (discard) on loopback refuses the
        # connection. Tests of the Brevo transport point this at the fake Brevo server.
        brevo_api_base_url="http://127.0.0.1:9",
        web_origin="http://testserver.local",
        public_base_url="http://testserver.local",
    )


@pytest.fixture
def app(settings: Settings, tmp_path: Path) -> Litestar:
    return create_app(settings, frontend_dist=tmp_path / "no-frontend")


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as test_client:
        yield test_client


def csrf_headers(client: AsyncTestClient[Any]) -> dict[str, str]:
    return {"X-CSRF-Token": client.cookies.get("csrf_token") or ""}


async def signup(
    client: AsyncTestClient[Any],
    email: str = "ops@example.com",
    password: str = "correct horse battery",
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/auth/signup", json={"email": email, "password": password, "name": "Ops"}
    )
    assert response.status_code == 201, response.text
    client.headers.update(csrf_headers(client))
    body: dict[str, Any] = response.json()
    return body


def worker_environment(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=settings.database_url,
        REDIS_URL=settings.redis_url,
        SECRET_KEY=settings.secret_key,
        DATA_DIR=settings.data_dir,
        PUBLIC_BASE_URL=settings.public_base_url,
        BREVO_API_BASE_URL=settings.brevo_api_base_url,
        SEND_CHUNK_SIZE=str(settings.send_chunk_size),
        QUEUE_BACKEND="redis",
    )
    return env


def start_worker(settings: Settings, log_path: Path) -> subprocess.Popen[bytes]:
    """Start `taskiq worker` as its own process and wait until it consumes tasks."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                str(ROOT / ".venv" / "bin" / "taskiq"),
                "worker",
                "workers.broker:broker",
                "--workers",
                "1",
                "--no-configure-logging",
            ],
            cwd=ROOT,
            env=worker_environment(settings),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30
    while b"worker started" not in log_path.read_bytes():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"The worker did not start:\n{log_path.read_text(errors='replace')}")
        time.sleep(0.1)
    return process


def stop_process(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def worker(settings: Settings, tmp_path: Path) -> Iterator[subprocess.Popen[bytes] | None]:
    """A separate worker process in production mode; the API runs tasks itself otherwise."""
    if TEST_MODE != "production":
        yield None
        return
    process = start_worker(settings, tmp_path / "worker.log")
    yield process
    stop_process(process)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
async def live_server(settings: Settings, tmp_path: Path) -> AsyncIterator[str]:
    """The app served by a real uvicorn on 127.0.0.1, for WebSocket and HTTP clients."""
    import asyncio

    import uvicorn

    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    served = create_app(
        msgspec.structs.replace(settings, web_origin=origin, public_base_url=origin),
        frontend_dist=tmp_path / "no-frontend",
    )
    server = uvicorn.Server(
        uvicorn.Config(
            served, host="127.0.0.1", port=port, log_level="warning", ws="websockets-sansio"
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.05)
    yield origin
    server.should_exit = True
    await task


BREVO_API_KEY = "xkeysib-" + "a" * 64 + "-DeliveryTest0001"


@pytest.fixture
async def fake_brevo() -> AsyncIterator[FakeBrevo]:
    """The fake Brevo server on a free loopback port. Use it by overriding `settings`."""
    fake = FakeBrevo(api_keys=(BREVO_API_KEY,))
    await fake.start()
    yield fake
    await fake.stop()
