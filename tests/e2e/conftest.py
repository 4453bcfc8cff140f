"""Browser test fixtures: the fake Brevo, the app started as `make run` starts it, Chromium.

The app runs as its own process (`python -m backend migrate`, then `python -m backend serve`)
on the embedded default: SQLite and the in-process queue in a temporary DATA_DIR. The fake
Brevo runs in the test's event loop, so a test reads its recorded messages directly.

Chromium is Debian's `/usr/bin/chromium`, never a browser that Playwright downloads. Without
it the tests skip, or fail when `CI=true`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Generator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import msgspec
import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect
from playwright.async_api import Error as PlaywrightError

from backend.core.config import Settings
from tests.conftest import IN_CI, ROOT
from tests.fakes.brevo import FakeBrevo

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
OUTPUT_DIR = ROOT / "test-output" / "e2e"
FRONTEND_INDEX = ROOT / "frontend" / "dist" / "index.html"

# A fresh random key per run, so a test can check that no page or response ever contains it.
API_KEY = f"xkeysib-e2e{secrets.token_hex(24)}"
SENDER_EMAIL = "news@example.com"
SENDER_NAME = "Example"

SERVER_START_SECONDS = 30
SERVER_STOP_SECONDS = 15
# Lines of the server log printed at teardown. The whole log is kept in OUTPUT_DIR.
SERVER_LOG_TAIL_LINES = 200
# Playwright's default for actions and expectations, in milliseconds.
DEFAULT_TIMEOUT_MS = 15_000

_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


def _failed(request: pytest.FixtureRequest) -> bool:
    reports = request.node.stash.get(_REPORTS, {})
    return any(report.failed for report in reports.values())


def _output_dir(request: pytest.FixtureRequest) -> Path:
    name: str = request.node.name
    path = OUTPUT_DIR / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def require_chromium() -> None:
    if CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK):
        return
    message = (
        f"{CHROMIUM} is missing; install Debian's chromium package (apt-get install chromium)."
    )
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class AppServer:
    base_url: str
    data_dir: Path
    log_path: Path
    process: subprocess.Popen[bytes]

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def server_environment(data_dir: Path, port: int, brevo_url: str) -> dict[str, str]:
    """Build the environment of `make run` with the test's settings and no other app setting.

    Every app setting inherited from the caller's environment is dropped, so a DATABASE_URL or
    REDIS_URL set for the production-mode tests cannot move the app off the embedded default.
    """
    app_variables = {field.name.upper() for field in msgspec.structs.fields(Settings)}
    environment = {
        name: value for name, value in os.environ.items() if name.upper() not in app_variables
    }
    environment.update(
        DATA_DIR=str(data_dir),
        HOST="127.0.0.1",
        PORT=str(port),
        WEB_ORIGIN=f"http://127.0.0.1:{port}",
        BREVO_SMTP_API_KEY=API_KEY,
        BREVO_API_BASE_URL=brevo_url,
        SENDER_EMAIL=SENDER_EMAIL,
        SENDER_NAME=SENDER_NAME,
        ARGON2_TIME_COST="1",
        ARGON2_MEMORY_KIB="1024",
        PYTHONUNBUFFERED="1",
    )
    return environment


async def wait_until_serving(server: AppServer) -> None:
    """Poll the dashboard's index page until the app returns it, or fail with the server log."""
    deadline = time.monotonic() + SERVER_START_SECONDS
    async with aiohttp.ClientSession() as session:
        while True:
            if server.process.poll() is not None:
                pytest.fail(f"The app exited with {server.process.returncode}:\n{server.log()}")
            try:
                async with session.get(server.base_url + "/") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"The app did not answer within {SERVER_START_SECONDS} s:\n{server.log()}"
                )
            await asyncio.sleep(0.1)


async def stop_server(server: AppServer) -> None:
    server.process.terminate()
    try:
        await asyncio.to_thread(server.process.wait, SERVER_STOP_SECONDS)
    except subprocess.TimeoutExpired:
        server.process.kill()
        await asyncio.to_thread(server.process.wait)


def report_server_log(server: AppServer, request: pytest.FixtureRequest) -> None:
    """Keep the whole log in OUTPUT_DIR and print its tail into the test's captured output."""
    text = server.log()
    log_copy = _output_dir(request) / "server.log"
    log_copy.write_text(text, encoding="utf-8")
    lines = text.splitlines()
    tail = lines[-SERVER_LOG_TAIL_LINES:]
    print(f"----- app server log, exit code {server.process.returncode} -----")
    if len(tail) < len(lines):
        print(f"({len(lines) - len(tail)} earlier lines in {log_copy})")
    print("\n".join(tail))


@pytest.fixture
async def fake_brevo() -> AsyncIterator[FakeBrevo]:
    fake = FakeBrevo([API_KEY])
    await fake.start("127.0.0.1", 0)
    yield fake
    await fake.stop()


@pytest.fixture
async def app_server(
    fake_brevo: FakeBrevo, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[AppServer]:
    """The app as `make run` starts it: `migrate`, then `serve` on a free port."""
    if not FRONTEND_INDEX.is_file():
        pytest.fail(f"{FRONTEND_INDEX} is missing; build the dashboard with `make setup`.")
    assert fake_brevo.base_url is not None
    # Screenshots and a trace from an earlier failed run would look like this run's.
    shutil.rmtree(_output_dir(request))

    port = free_port()
    data_dir = tmp_path / "data"
    environment = server_environment(data_dir, port, fake_brevo.base_url)
    # The interpreter running the tests: .venv/bin/python under `make test-e2e`.
    python = sys.executable

    # The working directory is the temporary folder, so a developer's .env in the repository
    # cannot change the settings under test.
    migrated = await asyncio.to_thread(
        subprocess.run,
        [python, "-m", "backend", "migrate"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=SERVER_START_SECONDS,
    )
    assert migrated.returncode == 0, f"migrate failed:\n{migrated.stdout}\n{migrated.stderr}"

    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [python, "-m", "backend", "serve", "--port", str(port)],
            cwd=tmp_path,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = AppServer(f"http://127.0.0.1:{port}", data_dir, log_path, process)
    try:
        await wait_until_serving(server)
        yield server
    finally:
        await stop_server(server)
        report_server_log(server, request)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    require_chromium()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        await launched.close()


@pytest.fixture
def page_errors() -> list[str]:
    """Uncaught exceptions thrown in the page, which a test asserts to be empty."""
    return []


@pytest.fixture
async def context(
    browser: Browser, app_server: AppServer, request: pytest.FixtureRequest
) -> AsyncIterator[BrowserContext]:
    """A fresh browser profile pointed at the app and traced. A failed test keeps the trace."""
    created = await browser.new_context(
        base_url=app_server.base_url, viewport={"width": 1366, "height": 900}
    )
    created.set_default_timeout(DEFAULT_TIMEOUT_MS)
    await created.tracing.start(screenshots=True, snapshots=True)
    yield created
    if _failed(request):
        folder = _output_dir(request)
        for index, open_page in enumerate(created.pages):
            # A crashed or closed page cannot be captured, and the trace still can.
            with contextlib.suppress(PlaywrightError):
                await open_page.screenshot(path=folder / f"failure-{index}.png", full_page=True)
        await created.tracing.stop(path=folder / "trace.zip")
        print(f"Screenshots and trace in {folder} (open with `playwright show-trace`).")
    else:
        await created.tracing.stop()
    await created.close()


@pytest.fixture
async def page(context: BrowserContext, page_errors: list[str]) -> Page:
    expect.set_options(timeout=DEFAULT_TIMEOUT_MS)
    opened = await context.new_page()
    opened.on("pageerror", lambda error: page_errors.append(f"{error.name}: {error.message}"))
    return opened
