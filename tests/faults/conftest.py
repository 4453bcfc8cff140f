"""Fault tests: a batch sent by a separate worker while processes and servers fail under it.

Each test builds its own production setup. Postgres is a database on the shared server or a
private cluster that the test may stop. Redis is a private redis-server that the test may
stop. The fake Brevo and the API run in this process, and `taskiq worker` runs in its own
process group, so SIGKILL takes the worker's child process with it. These tests never
restart the shared Redis on 6379 or the shared Postgres cluster, because other test runs
use them.

Every test ends with `assert_batch_consistent`: every recipient final, the batch completed,
its counts equal to the recipients' states, and the fake's accepted count at most 1 for
every recipient and exactly 1 for every recipient recorded as sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis
from redis.exceptions import RedisError

from backend.app import create_app
from backend.batches.models import FINAL_RECIPIENT_STATUSES
from backend.core.config import Settings, load_settings
from tests.conftest import (
    BREVO_API_KEY,
    POSTGRES_ADMIN_URL,
    ROOT,
    SECRET,
    free_port,
    require_service,
    run_migrations,
    signup,
)
from tests.fakes.brevo import FakeBrevo

Client = AsyncTestClient[Litestar]
BASE_URL = "http://testserver.local"
# initdb and pg_ctl of the newest installed Postgres (Debian keeps them off PATH).
POSTGRES_BINARIES = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
POSTGRES_BIN = Path(POSTGRES_BINARIES[-1]) if POSTGRES_BINARIES else Path("/usr/bin")
# Settings that make recovery fast enough for a test: a claim left by a killed worker
# expires after SEND_LEASE_SECONDS, and the reconciler looks for expired claims and stalled
# batches every RECONCILE_INTERVAL_SECONDS. Tests with slow provider responses raise the lease.
FAST_RECOVERY = {
    "SEND_LEASE_SECONDS": "5",
    "RECONCILE_INTERVAL_SECONDS": "1",
    "STALLED_AFTER_SECONDS": "4",
}


def _as_postgres_user(args: list[str]) -> list[str]:
    """Prefix a Postgres server command so it runs as `postgres`: the server rejects root."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


async def _wait_until(
    check: Callable[[], Awaitable[bool]], seconds: float, what: str, interval: float = 0.1
) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {seconds:g} seconds")
        await asyncio.sleep(interval)


class RedisServer:
    """A private redis-server without persistence, so a restart loses every key."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        executable = shutil.which("redis-server")
        if executable is None:
            pytest.fail("redis-server is not installed; install it (apt-get install redis-server).")
        self.starts += 1
        log = (self.directory / f"redis-{self.starts}.log").open("wb")
        with log:
            self.process = subprocess.Popen(
                [
                    executable,
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(self.directory),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        await _wait_until(self._answers, 15, f"redis-server on port {self.port} starting")

    async def _answers(self) -> bool:
        client = Redis.from_url(self.url)
        try:
            return bool(await client.ping())
        except (OSError, RedisError):
            return False
        finally:
            await client.aclose()

    async def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        await asyncio.to_thread(self.process.wait, 15)
        self.process = None


class PostgresCluster:
    """A private Postgres cluster in a temporary directory, owned by the `postgres` user.

    The directory lives directly under the system temp directory because pytest's own temp
    directories are private to the user running pytest, which `postgres` may not be.
    """

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="cca-faults-pg-"))
        self.data = self.directory / "data"
        self.log = self.directory / "server.log"
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        self.directory.chmod(0o755)

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    async def _run(self, *args: str) -> None:
        command = _as_postgres_user([str(POSTGRES_BIN / args[0]), *args[1:]])
        result = await asyncio.to_thread(
            subprocess.run, command, capture_output=True, check=False, timeout=120
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{' '.join(command)} failed with exit code {result.returncode}:\n"
                f"{result.stdout.decode(errors='replace')}{result.stderr.decode(errors='replace')}"
            )

    async def initialize(self) -> None:
        if not (POSTGRES_BIN / "initdb").is_file():
            pytest.fail(
                f"initdb was not found in {POSTGRES_BIN}; install the postgresql package "
                "(apt-get install postgresql)."
            )
        await self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        )

    async def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=100"
        )
        await self._run(
            "pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "start"
        )

    async def stop(self) -> None:
        # Fast shutdown ends every client connection, as a restarted server does.
        await self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    async def destroy(self) -> None:
        with contextlib.suppress(RuntimeError):
            await self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


class WorkerProcess:
    """`taskiq worker` in its own process group; every start writes a new log file."""

    def __init__(self, environment: dict[str, str], directory: Path) -> None:
        self.environment = environment
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.kills = 0

    async def start(self) -> None:
        self.starts += 1
        log_path = self.directory / f"worker-{self.starts}.log"
        with log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    str(ROOT / ".venv" / "bin" / "taskiq"),
                    "worker",
                    "workers.broker:broker",
                    "--workers",
                    "1",
                    "--no-configure-logging",
                ],
                cwd=ROOT,
                env=self.environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        process = self.process

        async def started() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"The worker exited while starting:\n{self.log_tail()}")
            return b"worker started" in log_path.read_bytes()

        await _wait_until(started, 60, "worker start")

    async def kill(self) -> None:
        """Send SIGKILL to the worker's whole process group: the parent and its child."""
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        await asyncio.to_thread(self.process.wait, 15)
        self.kills += 1
        self.process = None

    async def stop(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            await asyncio.to_thread(self.process.wait, 20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            await asyncio.to_thread(self.process.wait, 15)
        self.process = None

    def logs(self) -> str:
        return "".join(
            path.read_text(errors="replace")
            for path in sorted(self.directory.glob("worker-*.log"), key=_start_number)
        )

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.logs().splitlines()[-lines:])

    def problem_lines(self) -> int:
        return sum(
            1 for line in self.logs().splitlines() if " WARNING " in line or " ERROR " in line
        )


def _start_number(path: Path) -> int:
    return int(path.stem.rsplit("-", 1)[-1])


class FaultRig(msgspec.Struct, kw_only=True):
    """Everything one fault test drives: the API client, the worker, the fake, the servers."""

    client: Client
    worker: WorkerProcess
    fake: FakeBrevo
    settings: Settings
    redis: RedisServer
    postgres: PostgresCluster | None
    directory: Path


def fault_settings(
    database_url: str, redis_url: str, brevo_url: str, directory: Path, extra: dict[str, str]
) -> tuple[Settings, dict[str, str]]:
    """Return the API's settings and the worker's environment, built from one set of values.

    `load_settings` ignores variables it does not know, so recovery variables reach the
    processes whether or not the engine reads them.
    """
    values = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "QUEUE_BACKEND": "redis",
        "SECRET_KEY": SECRET,
        "DATA_DIR": str(directory / "data"),
        "PUBLIC_BASE_URL": BASE_URL,
        "WEB_ORIGIN": BASE_URL,
        "BREVO_API_BASE_URL": brevo_url,
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_KIB": "1024",
        "LOG_LEVEL": "INFO",
        **FAST_RECOVERY,
        **extra,
    }
    settings = load_settings(environ=values, env_file=None)
    return settings, {**os.environ, **values}


async def _create_database(admin_url: str, name: str) -> None:
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def _drop_database(admin_url: str, name: str) -> None:
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


RigFactory = Callable[..., Awaitable[FaultRig]]


@pytest.fixture
def fault_dir() -> Iterator[Path]:
    """A temp directory that every process of the test can read, removed after the test."""
    directory = Path(tempfile.mkdtemp(prefix="cca-faults-"))
    directory.chmod(0o755)
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
async def make_rig(fault_dir: Path) -> AsyncIterator[RigFactory]:
    """Build a rig: `private_postgres=True` gives a cluster the test may stop and start.

    Keyword arguments other than `private_postgres` become environment variables of the
    API settings and the worker (for example SEND_CHUNK_SIZE="200").
    """
    cleanups: list[Callable[[], Awaitable[None]]] = []
    # One log line per fake request would bury a failure report under thousands of lines.
    fake_logger = logging.getLogger("tests.fakes.brevo")
    fake_level = fake_logger.level
    fake_logger.setLevel(logging.WARNING)

    async def make(*, private_postgres: bool = False, **extra: str) -> FaultRig:
        redis = RedisServer(fault_dir)
        await redis.start()
        cleanups.append(redis.stop)

        postgres: PostgresCluster | None = None
        if private_postgres:
            postgres = PostgresCluster()
            cleanups.append(postgres.destroy)
            await postgres.initialize()
            await postgres.start()
            await _create_database(postgres.admin_url, "cca")
            database_url = postgres.url("cca")
        else:
            require_service(POSTGRES_ADMIN_URL, 5432, "Postgres")
            name = f"cca_faults_{os.getpid()}"
            await _create_database(POSTGRES_ADMIN_URL, name)
            admin = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "")
            database_url = f"postgresql+asyncpg://{admin}/{name}"

            async def drop() -> None:
                await _drop_database(POSTGRES_ADMIN_URL, name)

            cleanups.append(drop)
        await asyncio.to_thread(run_migrations, database_url)

        # Bodies are not kept: 20,000 rendered messages would cost the test process memory.
        fake = FakeBrevo(api_keys=(BREVO_API_KEY,), keep_bodies=False, seed=7)
        brevo_url = await fake.start()
        cleanups.append(fake.stop)

        settings, environment = fault_settings(
            database_url, redis.url, brevo_url, fault_dir, {k.upper(): v for k, v in extra.items()}
        )
        app = create_app(settings, frontend_dist=fault_dir / "no-frontend")
        client = AsyncTestClient(app=app, base_url=BASE_URL)
        await client.__aenter__()

        async def close_client() -> None:
            await client.__aexit__(None, None, None)

        cleanups.append(close_client)

        worker = WorkerProcess(environment, fault_dir)
        cleanups.append(worker.stop)
        await worker.start()
        return FaultRig(
            client=client,
            worker=worker,
            fake=fake,
            settings=settings,
            redis=redis,
            postgres=postgres,
            directory=fault_dir,
        )

    try:
        yield make
    finally:
        for cleanup in reversed(cleanups):
            with contextlib.suppress(Exception):
                await cleanup()
        fake_logger.setLevel(fake_level)


def contacts_csv(count: int) -> bytes:
    """A CSV export of `count` distinct, valid contacts."""
    lines = ["email,first_name"]
    lines.extend(f"reader{number:06d}@faults.example.org,Reader{number}" for number in range(count))
    return ("\n".join(lines) + "\n").encode()


async def stage_batch(rig: FaultRig, recipients: int) -> dict[str, Any]:
    """Sign up, configure Brevo, import `recipients` contacts and stage them as a batch."""
    client = rig.client
    await signup(client)
    configured = await client.put(
        "/api/v1/settings",
        json={
            "brevo_api_key": BREVO_API_KEY,
            "sender_email": "news@example.com",
            "sender_name": "Example News",
            "provider_rate_per_second": 1000,
        },
    )
    assert configured.status_code == 200, configured.text
    assert configured.json()["transport"] == "brevo"

    templates = (await client.get("/api/v1/templates")).json()
    version_id = templates[0]["latest_version"]["id"]
    created = await client.post(
        "/api/v1/imports",
        files={"file": ("readers.csv", contacts_csv(recipients), "text/csv")},
    )
    assert created.status_code == 201, created.text
    base = f"/api/v1/imports/{created.json()['id']}"
    mapped = await client.put(f"{base}/mapping", json={"template_version_id": version_id})
    assert mapped.status_code == 200, mapped.text
    validated = await finish_import_step(
        rig, base, await client.post(f"{base}/validate"), "validated"
    )
    assert validated["validation"]["valid_rows"] == recipients, validated
    staged = await finish_import_step(
        rig, base, await client.post(f"{base}/stage", json={"name": "Fault test"}), "staged"
    )
    found = await client.get(f"/api/v1/batches/{staged['batch_id']}")
    assert found.status_code == 200, found.text
    batch: dict[str, Any] = found.json()
    assert batch["transport"] == "brevo"
    assert batch["total"] == recipients
    return batch


async def finish_import_step(
    rig: FaultRig, base: str, response: Any, status: str
) -> dict[str, Any]:
    """Wait for an import's validation or staging job (run by the worker) to reach `status`."""
    assert response.status_code == 202, response.text
    deadline = time.monotonic() + 180
    while True:
        current = await rig.client.get(base)
        assert current.status_code == 200, current.text
        import_: dict[str, Any] = current.json()
        if import_["status"] == status:
            return import_
        assert import_["status"] in ("validating", "staging", "validated"), import_
        assert time.monotonic() < deadline, f"import still {import_['status']}: {import_}"
        await asyncio.sleep(0.2)


async def launch(rig: FaultRig, batch_id: str) -> None:
    launched = await rig.client.post(f"/api/v1/batches/{batch_id}/launch")
    assert launched.status_code == 200, launched.text


async def wait_for_accepted(rig: FaultRig, count: int, seconds: float) -> None:
    """Wait until the fake accepted `count` messages (a progress point inside the batch)."""

    async def reached() -> bool:
        return len(rig.fake.messages) >= count

    try:
        await _wait_until(reached, seconds, f"{count} accepted messages", interval=0.02)
    except TimeoutError as error:
        pytest.fail(f"{error}; the fake accepted {len(rig.fake.messages)}.\n{evidence(rig)}")


async def read_batch(rig: FaultRig, batch_id: str) -> dict[str, Any] | None:
    """Return the batch from the API, or None while the API fails (a server is down)."""
    try:
        response = await rig.client.get(f"/api/v1/batches/{batch_id}")
    except Exception:
        return None
    if response.status_code != 200:
        return None
    batch: dict[str, Any] = response.json()
    return batch


async def wait_for_completed(rig: FaultRig, batch_id: str, seconds: float) -> dict[str, Any]:
    """Poll until the batch completes. The deadline only guards against a hang."""
    deadline = time.monotonic() + seconds
    last: dict[str, Any] | None = None
    while time.monotonic() < deadline:
        batch = await read_batch(rig, batch_id)
        if batch is not None:
            last = batch
            if batch["status"] in ("completed", "cancelled"):
                return batch
        await asyncio.sleep(0.25)
    summary = "no answer" if last is None else f"{last['status']} with {last['counts']}"
    claims = await claim_evidence(rig, batch_id)
    pytest.fail(
        f"The batch did not complete within {seconds:g} s; last seen {summary}.\n"
        f"{claims}\n{evidence(rig)}"
    )


async def claim_evidence(rig: FaultRig, batch_id: str) -> str:
    """Describe the recipients still claimed or queued: how many, and their leases."""
    try:
        connection = await asyncpg.connect(database_url_for_asyncpg(rig.settings))
    except (OSError, asyncpg.PostgresError) as error:
        return f"database unreachable: {error}"
    try:
        rows = await connection.fetch(
            "SELECT status, count(*) AS n, min(lease_until) AS first_lease, "
            "max(lease_until) AS last_lease, max(attempts) AS attempts, now() AS now "
            "FROM recipients WHERE batch_id = $1 AND status IN ('queued', 'processing') "
            "GROUP BY status",
            UUID(batch_id),
        )
    finally:
        await connection.close()
    return "unfinished recipients: " + "; ".join(str(dict(row)) for row in rows)


def evidence(rig: FaultRig) -> str:
    """What a failure report needs: the fake's numbers and the end of the worker's log."""
    duplicates = sum(1 for count in rig.fake._counts.values() if count > 1)
    return (
        f"fake Brevo: {rig.fake.request_count} requests, {len(rig.fake.messages)} accepted, "
        f"injected {dict(rig.fake.injected)}, "
        f"{len(rig.fake._counts)} distinct recipients, {duplicates} recipients accepted twice "
        f"or more; worker starts {rig.worker.starts}, kills {rig.worker.kills}.\n"
        f"worker log (end):\n{rig.worker.log_tail()}"
    )


def summary(rig: FaultRig, states: Counter[str], started: float) -> str:
    """One line for the test output (shown with -s or -rP): what happened and how long."""
    return (
        f"{time.monotonic() - started:.1f} s, recipients {dict(states)}, fake requests "
        f"{rig.fake.request_count}, accepted {len(rig.fake.messages)}, injected "
        f"{dict(rig.fake.injected)}, worker starts {rig.worker.starts}, kills {rig.worker.kills}, "
        f"worker log lines at WARNING or ERROR {rig.worker.problem_lines()}"
    )


def database_url_for_asyncpg(settings: Settings) -> str:
    return settings.database_url.replace("postgresql+asyncpg://", "postgresql://")


async def assert_batch_consistent(rig: FaultRig, batch: dict[str, Any]) -> Counter[str]:
    """Check the end state every fault test promises, and return the recipients' states."""
    connection = await asyncpg.connect(database_url_for_asyncpg(rig.settings))
    try:
        rows = await connection.fetch(
            "SELECT email, status, provider_message_id FROM recipients WHERE batch_id = $1",
            UUID(batch["id"]),
        )
        stored_status = await connection.fetchval(
            "SELECT status FROM batches WHERE id = $1", UUID(batch["id"])
        )
    finally:
        await connection.close()
    states = Counter(row["status"] for row in rows)
    accepted = {row["email"]: rig.fake.accepted_count(row["email"]) for row in rows}
    duplicated = {email: count for email, count in accepted.items() if count > 1}
    sent_not_accepted = [
        row["email"] for row in rows if row["status"] == "sent" and accepted[row["email"]] != 1
    ]
    unfinished = {
        status: n for status, n in states.items() if status not in FINAL_RECIPIENT_STATUSES
    }
    known = {row["email"].lower() for row in rows}
    strangers = [email for email in rig.fake._counts if email not in known]

    assert len(rows) == batch["total"], (
        f"{len(rows)} recipient rows for a total of {batch['total']}"
    )
    assert not unfinished, f"recipients not final: {unfinished}\n{evidence(rig)}"
    assert stored_status == "completed", f"batch is {stored_status}\n{evidence(rig)}"
    assert batch["status"] == "completed", f"the API reports {batch['status']}"
    assert {k: v for k, v in batch["counts"].items() if v} == dict(states), (
        f"API counts {batch['counts']} differ from recipient states {dict(states)}"
    )
    assert sum(batch["counts"].values()) == batch["total"]
    assert not duplicated, (
        f"{len(duplicated)} recipients were accepted more than once, for example "
        f"{sorted(duplicated.items())[:5]}\n{evidence(rig)}"
    )
    assert not sent_not_accepted, (
        f"{len(sent_not_accepted)} recipients are recorded as sent but the fake accepted no "
        f"message for them, for example {sent_not_accepted[:5]}\n{evidence(rig)}"
    )
    assert not strangers, f"the fake accepted messages for unknown addresses: {strangers[:5]}"
    return states
