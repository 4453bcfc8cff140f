"""Import benchmark: upload -> validated -> staged on Postgres + Redis, API and worker apart.

    .venv/bin/python bench/imports.py --rows 100000 --format csv --json bench/output/imports.json

It writes a contact file with realistic columns and about 1 % faulty rows (bad addresses,
missing first names, repeated addresses), starts the API (uvicorn) and one Taskiq worker
against a fresh Postgres database, then drives the REST API as an operator would: sign up,
upload, confirm the suggested mapping, validate, stage. It samples both processes' memory
the whole time. In the same run, a framework-free baseline reads the same file (csv module,
or python-calamine for XLSX), checks each row with the same address parser, drops repeats
and COPYs contacts (with the same name and attributes) and recipients into the same tables.
Needs Postgres on 127.0.0.1:5432 (BENCH_POSTGRES_ADMIN_URL) and Redis on 127.0.0.1:6379
(BENCH_REDIS_URL, database 11 by default). `--profile FILE` attaches py-spy to the worker.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import psutil
from uuid_utils import uuid7

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backend.core.errors import ValidationError  # noqa: E402
from backend.imports.validation import parse_email  # noqa: E402
from bench.common import free_port, recreate_database  # noqa: E402

# Not database 0: bench/delivery.py uses it, and its worker, in the same consumer group of the
# same task stream, would take this benchmark's import jobs when both run at once.
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")
DATABASE = "cca_bench_imports"
SECRET_KEY = "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
OUTPUT = ROOT / "bench" / "output"
# The product's DATA_DIR: this benchmark's own, because bench/delivery.py uses bench/output/data.
DATA_DIR = OUTPUT / "imports-data"
HEADERS = ["Email Address", "First Name", "Last Name", "Company", "Phone", "City", "Signup Date"]
FIRST_NAMES = ["Jörg", "Ana", "Chloé", "Mei", "Oluwaseun", "Sven", "Priya", "Mateo", "Aoife"]
LAST_NAMES = ["Müller", "Silva", "Dubois", "Wang", "Adeyemi", "Larsen", "Patel", "García"]
CITIES = ["Berlin", "Lisbon", "Lyon", "Shanghai", "Lagos", "Oslo", "Pune", "Madrid", "Cork"]
BASELINE_CHUNK = 10_000
# Part of the generated files' names, changed whenever contact_rows() changes, so a file
# written by an older generator is not reused.
GENERATOR_VERSION = "g2"
# A deadline against a hung run, not a measurement.
STEP_DEADLINE_SECONDS = 1800


def contact_rows(count: int) -> Iterator[list[str]]:
    """Yield rows with about 1 % faults: a bad address, no first name, or a repeat."""
    chosen = random.Random(20261204)
    first_day = date(2019, 1, 1)
    for number in range(count):
        email = f"reader.{number}@mail{number % 97}.example.com"
        first = chosen.choice(FIRST_NAMES)
        fault = chosen.random()
        if fault < 0.004:
            email = f"reader.{number}-at-mail.example.com"
        elif fault < 0.007:
            first = ""
        elif fault < 0.01 and number:
            # An earlier row's address in other letter case, which dedupe must catch.
            repeated = chosen.randrange(number)
            email = f"READER.{repeated}@MAIL{repeated % 97}.example.com"
        yield [
            email,
            first,
            chosen.choice(LAST_NAMES),
            f"Company {number % 5000}",
            f"4477009{number:05d}"[-12:],
            chosen.choice(CITIES),
            (first_day + timedelta(days=number % 2000)).isoformat(),
        ]


def write_csv(path: Path, rows: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        writer.writerows(contact_rows(rows))


def write_xlsx(path: Path, rows: int) -> None:
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("Contacts")
    sheet.append(HEADERS)
    for row in contact_rows(rows):
        sheet.append(row)
    workbook.save(path)


def contact_file(rows: int, file_format: str) -> Path:
    """Return the generated file for this size and format, writing it on first use."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / f"contacts-{rows}-{GENERATOR_VERSION}.{file_format}"
    if not path.exists():
        print(f"writing {path.name}", flush=True)
        partial = path.with_suffix(".partial")
        (write_csv if file_format == "csv" else write_xlsx)(partial, rows)
        partial.rename(path)
    return path


def product_environment(database_url: str) -> dict[str, str]:
    return dict(
        os.environ,
        DATABASE_URL=database_url.replace("postgresql://", "postgresql+asyncpg://"),
        REDIS_URL=REDIS_URL,
        QUEUE_BACKEND="redis",
        SECRET_KEY=SECRET_KEY,
        DATA_DIR=str(DATA_DIR),
        UPLOAD_MAX_MB="1000",
        LOG_LEVEL="WARNING",
    )


class PeakMemory:
    """Samples the resident memory of a process and its children until stopped."""

    def __init__(self, process: psutil.Process) -> None:
        self.process = process
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            total = 0
            for member in [self.process, *self._children()]:
                try:
                    total += member.memory_info().rss
                except psutil.NoSuchProcess:
                    continue
            self.peak_mb = max(self.peak_mb, total / 1024 / 1024)

    def _children(self) -> list[psutil.Process]:
        try:
            return self.process.children(recursive=True)
        except psutil.NoSuchProcess:
            return []


def start_processes(database_url: str, port: int) -> tuple[subprocess.Popen[bytes], ...]:
    env = product_environment(database_url)
    subprocess.run(
        [sys.executable, "-m", "backend", "migrate"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    api = subprocess.Popen(
        [sys.executable, "-m", "backend", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=dict(env, WEB_ORIGIN=f"http://127.0.0.1:{port}"),
        stdout=subprocess.DEVNULL,
    )
    worker = subprocess.Popen(
        [str(ROOT / ".venv/bin/taskiq"), "worker", "workers.broker:broker", "--workers", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return api, worker


def start_profiler(worker: subprocess.Popen[bytes], profile: Path) -> subprocess.Popen[bytes]:
    """Attach py-spy (pip install py-spy) to the worker process that runs the tasks.

    It samples into raw collapsed stacks until interrupted.
    """
    deadline = time.monotonic() + 30
    while not (children := psutil.Process(worker.pid).children()):
        if time.monotonic() > deadline:
            raise SystemExit("the taskiq worker started no worker process within 30 s")
        time.sleep(0.2)
    time.sleep(2)  # let the worker process finish starting
    command = [str(ROOT / ".venv/bin/py-spy"), "record", "--format", "raw", "--rate", "200",
               "--pid", str(children[0].pid), "-o", str(profile)]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def wait_until_up(http: aiohttp.ClientSession, base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            async with http.get(f"{base}/api/v1/health") as response:
                if response.status < 500:
                    return
        except aiohttp.ClientConnectionError:
            pass
        await asyncio.sleep(0.2)
    raise SystemExit("the API did not start within 60 s")


async def call(
    http: aiohttp.ClientSession, method: str, url: str, expected: int, **kwargs: Any
) -> dict[str, Any]:
    headers = {"X-CSRF-Token": csrf_token(http)}
    async with http.request(method, url, headers=headers, **kwargs) as response:
        if response.status != expected:
            raise SystemExit(f"{method} {url} returned {response.status}: {await response.text()}")
        body: dict[str, Any] = await response.json()
        return body


def csrf_token(http: aiohttp.ClientSession) -> str:
    for cookie in http.cookie_jar:
        if cookie.key == "csrf_token":
            return cookie.value
    return ""


async def wait_for_import(
    http: aiohttp.ClientSession, url: str, wanted: str, progress: str
) -> dict[str, Any]:
    deadline = time.monotonic() + STEP_DEADLINE_SECONDS
    shown = 0.0
    while time.monotonic() < deadline:
        body = await call(http, "GET", url, 200)
        if body["status"] == wanted:
            return body
        if body["status"] in {"failed", "cancelled"}:
            raise SystemExit(f"the import ended {body['status']}: {body.get('error')}")
        if time.monotonic() - shown > 5:
            print(f"  {progress}: {body.get('progress')}", flush=True)
            shown = time.monotonic()
        await asyncio.sleep(0.1)
    raise SystemExit(f"the import did not reach {wanted} within {STEP_DEADLINE_SECONDS} s")


async def run_product(path: Path, database_url: str, profile: Path | None) -> dict[str, float]:
    """Time upload -> validated -> staged through the API; return seconds and peak memory."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    api, worker = start_processes(database_url, port)
    profiler: subprocess.Popen[bytes] | None = None
    try:
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as http:
            await wait_until_up(http, base)
            await call(
                http,
                "POST",
                f"{base}/api/v1/auth/signup",
                201,
                json={"email": "bench@example.com", "password": "bench password 1", "name": "B"},
            )
            templates: Any = await call(http, "GET", f"{base}/api/v1/templates", 200)
            if profile is not None:
                profiler = start_profiler(worker, profile)
            version_id = templates[0]["latest_version"]["id"]
            with (
                PeakMemory(psutil.Process(api.pid)) as api_memory,
                PeakMemory(psutil.Process(worker.pid)) as worker_memory,
            ):
                started = time.perf_counter()
                with path.open("rb") as handle:
                    form = aiohttp.FormData()
                    form.add_field("file", handle, filename=path.name)
                    created = await call(http, "POST", f"{base}/api/v1/imports", 201, data=form)
                uploaded = time.perf_counter()
                url = f"{base}/api/v1/imports/{created['id']}"
                await call(
                    http, "PUT", f"{url}/mapping", 200, json={"template_version_id": version_id}
                )
                await call(http, "POST", f"{url}/validate", 202)
                await wait_for_import(http, url, "validated", "validating")
                validated = time.perf_counter()
                await call(http, "POST", f"{url}/stage", 202, json={"name": "Bench"})
                staged = await wait_for_import(http, url, "staged", "staging")
                finished = time.perf_counter()
            validation = await call(http, "GET", f"{url}/validation", 200)
    finally:
        for process in (api, worker):
            process.terminate()
            process.wait(timeout=30)
        if profiler is not None:
            profiler.send_signal(signal.SIGINT)
            profiler.wait(timeout=60)
    print(f"  product counts: {validation.get('counts', validation)}", flush=True)
    if not staged.get("batch_id"):
        raise SystemExit("staging finished without a batch")
    return {
        "seconds": finished - started,
        "upload_seconds": uploaded - started,
        "validate_seconds": validated - uploaded,
        "stage_seconds": finished - validated,
        "api_peak_rss_mb": api_memory.peak_mb,
        "worker_peak_rss_mb": worker_memory.peak_mb,
    }


def read_rows(path: Path) -> Iterator[list[str]]:
    if path.suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            next(reader)
            yield from reader
        return
    from python_calamine import CalamineWorkbook

    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
    rows = iter(sheet.to_python())
    next(rows)
    for row in rows:
        yield [cell if isinstance(cell, str) else str(cell) for cell in row]


async def run_baseline(path: Path, database_url: str) -> tuple[float, int]:
    """Read, check, dedupe and COPY the same file with no framework; return seconds, rows."""
    connection = await asyncpg.connect(database_url)
    account_id, batch_id = uuid7(), uuid7()
    now = datetime.now(UTC)
    await connection.execute(
        "INSERT INTO users (id, email, name, password_hash, created_at, updated_at) "
        "VALUES ($1, 'baseline@example.com', 'Baseline', 'not-a-hash', $2, $2)",
        account_id,
        now,
    )
    template_id, version_id = await connection.fetchrow(
        "SELECT template_id, id FROM template_versions WHERE published_at IS NOT NULL LIMIT 1"
    )
    await connection.execute(
        "INSERT INTO batches (id, account_id, name, status, template_id, template_version_id, "
        "subject, sender_email, sender_name, transport, total, pause_reason, created_at, "
        "updated_at) VALUES ($1, $2, 'Baseline', 'staged', $3, $4, 'Hi', '', '', 'outbox', 0, "
        "'', $5, $5)",
        batch_id,
        account_id,
        template_id,
        version_id,
        now,
    )
    started = time.perf_counter()
    seen: set[str] = set()
    contacts: list[tuple[Any, ...]] = []
    recipients: list[tuple[Any, ...]] = []
    rows = 0
    for row_number, row in enumerate(read_rows(path), start=2):
        rows += 1
        try:
            address, key = parse_email(row[0])
        except ValidationError:
            continue
        first_name = row[1].strip()
        if not first_name or key in seen:
            continue
        seen.add(key)
        # The same contact name and attributes as the product writes for this mapping.
        last_name = row[2].strip()
        name = f"{first_name} {last_name}" if last_name else first_name
        attributes = {"first_name": first_name, "last_name": last_name}
        contact_id = uuid7()
        contacts.append(
            (contact_id, account_id, address, key, name, json.dumps(attributes), "subscribed",
             "", 0, now, now)
        )  # fmt: skip
        fields = json.dumps({"email": address, **attributes})
        recipients.append(
            (uuid7(), batch_id, account_id, contact_id, address, row_number, fields, "staged",
             "", "", 0, now, now)
        )  # fmt: skip
        if len(contacts) >= BASELINE_CHUNK:
            await copy_chunk(connection, contacts, recipients)
            contacts, recipients = [], []
    await copy_chunk(connection, contacts, recipients)
    seconds = time.perf_counter() - started
    await connection.close()
    return seconds, rows


async def copy_chunk(
    connection: asyncpg.Connection, contacts: list[tuple[Any, ...]], recipients: list[Any]
) -> None:
    if not contacts:
        return
    async with connection.transaction():
        await connection.copy_records_to_table(
            "contacts",
            records=contacts,
            columns=["id", "account_id", "email", "email_key", "name", "attributes", "status",
                     "last_status", "send_count", "created_at", "updated_at"],
        )  # fmt: skip
        await connection.copy_records_to_table(
            "recipients",
            records=recipients,
            columns=["id", "batch_id", "account_id", "contact_id", "email", "row_number",
                     "fields", "status", "error", "provider_message_id", "attempts",
                     "created_at", "updated_at"],
        )  # fmt: skip


async def main(
    rows: int, file_format: str, output: Path | None, profile: Path | None
) -> dict[str, Any]:
    path = contact_file(rows, file_format)
    # The uploads and rows files of earlier runs (a 1M-row run leaves about 200 MB).
    shutil.rmtree(DATA_DIR, ignore_errors=True)
    database_url = await recreate_database(DATABASE)
    print(f"importing {path.name} ({path.stat().st_size / 1e6:.1f} MB) through the API", flush=True)
    product = await run_product(path, database_url, profile)
    print("running the framework-free baseline", flush=True)
    baseline_seconds, baseline_rows = await run_baseline(path, database_url)
    if baseline_rows != rows:
        raise SystemExit(f"the baseline read {baseline_rows} rows, not {rows}")
    result: dict[str, Any] = {
        "rows": rows,
        "format": file_format,
        "seconds": round(product["seconds"], 2),
        "rows_per_s": round(rows / product["seconds"]),
        "baseline_rows_per_s": round(rows / baseline_seconds),
        "ratio": round(baseline_seconds / product["seconds"], 3),
        "api_peak_rss_mb": round(product["api_peak_rss_mb"], 1),
        "worker_peak_rss_mb": round(product["worker_peak_rss_mb"], 1),
        "upload_seconds": round(product["upload_seconds"], 2),
        "validate_seconds": round(product["validate_seconds"], 2),
        "stage_seconds": round(product["stage_seconds"], 2),
    }
    print(json.dumps(result, indent=2))
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="data rows in the file")
    parser.add_argument("--format", choices=["csv", "xlsx"], default="csv", help="file format")
    parser.add_argument("--json", type=Path, help="write the result to this file")
    parser.add_argument(
        "--profile",
        type=Path,
        help="record the worker with py-spy (collapsed stacks) into this file",
    )
    arguments = parser.parse_args()
    asyncio.run(main(arguments.rows, arguments.format, arguments.json, arguments.profile))
