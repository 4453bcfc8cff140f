"""Delivery benchmark: one batch on Postgres + Redis, one worker, the fake Brevo on loopback.

    .venv/bin/python bench/delivery.py --recipients 100000 --json bench/output/delivery.json

It seeds an account and a staged batch straight into a fresh Postgres database, launches the
batch the way the API does, and times launch -> completed while sampling the worker's
memory. In the same run, a framework-free baseline (asyncpg claims with SKIP LOCKED, the
same renderer, msgspec-encoded messageVersions posted with aiohttp, one bulk UPDATE per
chunk) sends the same recipients again, as the ceiling to compare with. Needs Postgres on
127.0.0.1:5432 (BENCH_POSTGRES_ADMIN_URL) and Redis on 127.0.0.1:6379 (BENCH_REDIS_URL).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import msgspec
import psutil
from uuid_utils.compat import uuid7

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backend.accounts.service import AccountSettingsService, SettingsUpdate  # noqa: E402
from backend.batches.service import BatchService  # noqa: E402
from backend.core.config import load_settings  # noqa: E402
from backend.core.database import Database, create_engine  # noqa: E402
from backend.core.models import metadata  # noqa: E402, F401
from backend.core.queue import TaskQueue, build_broker  # noqa: E402
from backend.templates.models import Template, TemplateVersion  # noqa: E402
from backend.templates.rendering import compile_template  # noqa: E402
from backend.templates.service import build_field_schema, fields_to_json  # noqa: E402
from bench.common import free_port, recreate_database  # noqa: E402

# A database of its own, so that no other worker on this Redis (another bench, a developer's
# worker) consumes the batch's send task.
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
DATABASE = "cca_bench_delivery"
API_KEY = "xkeysib-" + "b" * 64 + "-BenchDelivery001"
SECRET_KEY = "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
CHUNK_SIZE = 500


def bench_template() -> str:
    """Return the leemunroe inlined template (7.7 KB) with a greeting and an unsubscribe link."""
    html = (ROOT / "tests/fixtures/templates/leemunroe/email-inlined.html").read_text()
    html = html.replace("Hi there", "Hi {{ first_name }}", 1)
    return html.replace('href="http://htmlemail.io/blog"', 'href="{{ unsubscribe_url }}"', 1)


def migrate(database_url: str) -> None:
    env = dict(os.environ, DATABASE_URL=database_url, SECRET_KEY=SECRET_KEY)
    subprocess.run(
        [sys.executable, "-m", "backend", "migrate"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )


async def seed(database_url: str, fake_url: str, recipients: int) -> tuple[uuid.UUID, uuid.UUID]:
    """Create an account with a Brevo key, a published version and a staged batch."""
    settings = msgspec.structs.replace(
        load_settings(environ={}, env_file=None),
        database_url=database_url.replace("postgresql://", "postgresql+asyncpg://"),
        secret_key=SECRET_KEY,
        brevo_api_base_url=fake_url,
    )
    account_id, template_id, version_id, batch_id = uuid7(), uuid7(), uuid7(), uuid7()
    now = datetime.now(UTC)
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(
            "INSERT INTO users (id, email, name, password_hash, created_at, updated_at) "
            "VALUES ($1, 'bench@example.com', 'Bench', 'not-a-hash', $2, $2)",
            account_id,
            now,
        )
    finally:
        await connection.close()

    database = Database(create_engine(settings))
    html = bench_template()
    subject = "News for {{ first_name }}"
    async with database.session() as session:
        await AccountSettingsService(session, settings, account_id).update(
            # Brevo allows 1,000 send requests per second on every plan; the account default
            # of 10 would measure the rate limiter instead of the pipeline.
            SettingsUpdate(
                brevo_api_key=API_KEY,
                sender_email="news@example.com",
                sender_name="Bench",
                provider_rate_per_second=1000,
                # The baseline runs 4 chunk loops; the account default of 2 would compare
                # half the parallelism with it.
                send_concurrency=4,
            )
        )
        fields = fields_to_json(build_field_schema(subject, html, "", None))
        session.add(Template(id=template_id, account_id=account_id, name="Bench"))
        await session.flush()
        session.add(
            TemplateVersion(
                id=version_id,
                template_id=template_id,
                account_id=account_id,
                number=1,
                subject=subject,
                html=html,
                text="",
                fields=fields,
                published_at=now,
            )
        )
        await session.commit()
    await database.dispose()

    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(
            "INSERT INTO batches (id, account_id, name, status, template_id, "
            "template_version_id, subject, sender_email, sender_name, transport, total, "
            "pause_reason, created_at, updated_at) VALUES ($1, $2, 'Bench', 'staged', $3, $4, "
            "$5, 'news@example.com', 'Bench', 'brevo', $6, '', $7, $7)",
            batch_id,
            account_id,
            template_id,
            version_id,
            subject,
            recipients,
            now,
        )
        contacts = []
        rows = []
        for number in range(recipients):
            email = f"reader{number}@example.com"
            contact_id = uuid7()
            contacts.append(
                (contact_id, account_id, email, email, "", "{}", "subscribed", "", 0, now, now)
            )
            fields_json = json.dumps({"email": email, "first_name": f"Reader {number}"})
            rows.append(
                (
                    uuid7(),
                    batch_id,
                    account_id,
                    contact_id,
                    email,
                    number + 2,
                    fields_json,
                    "staged",
                    "",
                    "",
                    0,
                    now,
                    now,
                )
            )
        await connection.copy_records_to_table(
            "contacts",
            records=contacts,
            columns=[
                "id",
                "account_id",
                "email",
                "email_key",
                "name",
                "attributes",
                "status",
                "last_status",
                "send_count",
                "created_at",
                "updated_at",
            ],
        )
        await connection.copy_records_to_table(
            "recipients",
            records=rows,
            columns=[
                "id",
                "batch_id",
                "account_id",
                "contact_id",
                "email",
                "row_number",
                "fields",
                "status",
                "error",
                "provider_message_id",
                "attempts",
                "created_at",
                "updated_at",
            ],
        )
    finally:
        await connection.close()
    return account_id, batch_id


def worker_rss_mb(process: psutil.Process) -> float:
    total = 0
    for member in [process, *process.children(recursive=True)]:
        try:
            total += member.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total / 1024 / 1024


async def run_product(
    database_url: str,
    fake_url: str,
    account_id: uuid.UUID,
    batch_id: uuid.UUID,
    profile: Path | None,
) -> tuple[float, float]:
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        REDIS_URL=REDIS_URL,
        SECRET_KEY=SECRET_KEY,
        BREVO_API_BASE_URL=fake_url,
        SEND_CHUNK_SIZE=str(CHUNK_SIZE),
        LOG_LEVEL="WARNING",
        DATA_DIR=str(ROOT / "bench" / "output" / "data"),
    )
    command = [
        str(ROOT / ".venv/bin/taskiq"),
        "worker",
        "workers.broker:broker",
        "--workers",
        "1",
        "--log-level",
        "WARNING",
    ]
    worker = subprocess.Popen(command, cwd=ROOT, env=env)
    process = psutil.Process(worker.pid)
    spy: subprocess.Popen[bytes] | None = None
    if profile is not None:
        # py-spy (pip install py-spy) attaches to the running supervisor and its worker
        # process, and writes collapsed stacks when they exit.
        spy = subprocess.Popen(
            [
                str(ROOT / ".venv/bin/py-spy"),
                "record",
                "--pid",
                str(worker.pid),
                "--subprocesses",
                "--format",
                "raw",
                "-o",
                str(profile),
            ]
        )
    settings = msgspec.structs.replace(
        load_settings(environ={}, env_file=None),
        database_url=database_url.replace("postgresql://", "postgresql+asyncpg://"),
        redis_url=REDIS_URL,
        secret_key=SECRET_KEY,
    )
    broker = build_broker(settings)
    await broker.startup()
    database = Database(create_engine(settings))
    connection = await asyncpg.connect(database_url)
    peak = 0.0
    try:
        await asyncio.sleep(3)  # let the worker connect and create its consumer group
        started = time.perf_counter()
        async with database.session() as session:
            await BatchService(session, account_id).launch(batch_id, TaskQueue(broker), CHUNK_SIZE)
        while True:
            peak = max(peak, worker_rss_mb(process))
            status = await connection.fetchval("SELECT status FROM batches WHERE id = $1", batch_id)
            if status == "completed":
                break
            if worker.poll() is not None:
                raise RuntimeError("the worker exited during the benchmark")
            await asyncio.sleep(0.1)
        seconds = time.perf_counter() - started
    finally:
        await connection.close()
        await database.dispose()
        await broker.shutdown()
        worker.terminate()
        worker.wait(timeout=30)
        if spy is not None:
            spy.wait(timeout=60)
    return seconds, peak


async def run_baseline(
    database_url: str, fake_url: str, batch_id: uuid.UUID, concurrency: int = 4
) -> float:
    """Send the same batch with no framework, as the ceiling the product is compared with."""
    pool = await asyncpg.create_pool(database_url, min_size=concurrency, max_size=concurrency)
    await pool.execute("UPDATE recipients SET status = 'queued' WHERE batch_id = $1", batch_id)
    html = compile_template(bench_template(), part="html")
    subject = compile_template("News for {{ first_name }}", part="subject")
    encoder = msgspec.json.Encoder()
    # The same reads and writes as the product, written directly: claim, re-check
    # suppression, render with a signed unsubscribe link and the per-message headers, post,
    # then record each recipient and count the send on its contact.
    claim = (
        "WITH c AS MATERIALIZED (SELECT id FROM recipients "
        "WHERE batch_id = $1 AND status = 'queued' LIMIT $2 FOR UPDATE SKIP LOCKED) "
        "UPDATE recipients r SET status = 'processing' FROM c WHERE r.id = c.id "
        "RETURNING r.id, r.contact_id, r.email, r.fields"
    )
    suppressed = "SELECT id FROM contacts WHERE id = ANY($1::uuid[]) AND status <> 'subscribed'"
    record = (
        "UPDATE recipients r SET status = 'sent', provider_message_id = v.mid, sent_at = now() "
        "FROM unnest($1::uuid[], $2::text[]) AS v(id, mid) WHERE r.id = v.id"
    )
    count_send = (
        "UPDATE contacts c SET last_sent_at = now(), last_status = 'sent', "
        "send_count = c.send_count + 1, updated_at = now() "
        "FROM unnest($1::uuid[]) AS v(id) WHERE c.id = v.id"
    )
    mac_key = hashlib.sha256(("unsubscribe:" + SECRET_KEY).encode()).digest()

    def unsubscribe_link(contact_id: uuid.UUID, recipient_id: uuid.UUID) -> str:
        payload = contact_id.bytes + recipient_id.bytes
        mac = hmac.new(mac_key, payload, hashlib.sha256).digest()[:16]
        token = base64.urlsafe_b64encode(payload + mac).decode().rstrip("=")
        return f"https://example.com/unsubscribe/{token}"

    async def loop(http: aiohttp.ClientSession) -> None:
        while True:
            async with pool.acquire() as connection:
                rows = await connection.fetch(claim, batch_id, CHUNK_SIZE)
                skipped = {
                    row["id"]
                    for row in await connection.fetch(
                        suppressed, [row["contact_id"] for row in rows]
                    )
                }
            if not rows:
                return
            versions = []
            sent = [row for row in rows if row["contact_id"] not in skipped]
            for row in sent:
                values = json.loads(row["fields"])
                link = unsubscribe_link(row["contact_id"], row["id"])
                values["unsubscribe_url"] = link
                versions.append(
                    {
                        "to": [{"email": row["email"]}],
                        "subject": subject.render(values),
                        "htmlContent": html.render(values),
                        "headers": {
                            "List-Unsubscribe": f"<{link}>",
                            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                            "X-Mailin-custom": str(row["id"]),
                        },
                    }
                )
            body = encoder.encode(
                {
                    "sender": {"email": "news@example.com"},
                    "subject": "News",
                    "htmlContent": "<p>News</p>",
                    "messageVersions": versions,
                    "headers": {"Idempotency-Key": str(uuid.uuid4())},
                }
            )
            async with http.post(
                f"{fake_url}/v3/smtp/email",
                data=body,
                headers={"api-key": API_KEY, "content-type": "application/json"},
            ) as response:
                ids = (await response.json())["messageIds"]
            async with pool.acquire() as connection, connection.transaction():
                await connection.execute(record, [row["id"] for row in sent], ids)
                await connection.execute(count_send, [row["contact_id"] for row in sent])

    started = time.perf_counter()
    async with aiohttp.ClientSession() as http:
        await asyncio.gather(*(loop(http) for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    await pool.close()
    return seconds


async def fake_stats(http: aiohttp.ClientSession, fake_url: str) -> dict[str, Any]:
    async with http.get(f"{fake_url}/_fake/stats") as response:
        stats: dict[str, Any] = await response.json()
        return stats


async def main(recipients: int, output: Path | None, profile: Path | None) -> dict[str, Any]:
    port = free_port()
    fake_url = f"http://127.0.0.1:{port}"
    fake = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.fakes.brevo",
            "--port",
            str(port),
            "--api-key",
            API_KEY,
            "--no-bodies",
            "--quiet",
        ],
        cwd=ROOT,
    )
    try:
        database_url = await recreate_database(DATABASE)
        migrate(database_url)
        print(f"seeding {recipients} recipients", flush=True)
        account_id, batch_id = await seed(database_url, fake_url, recipients)

        seconds, peak = await run_product(database_url, fake_url, account_id, batch_id, profile)
        async with aiohttp.ClientSession() as http:
            product = await fake_stats(http, fake_url)
            await http.post(f"{fake_url}/_fake/reset")
            baseline_seconds = await run_baseline(database_url, fake_url, batch_id)
            baseline = await fake_stats(http, fake_url)
    finally:
        fake.terminate()
        fake.wait(timeout=30)

    if product["accepted"] != recipients or product["max_per_recipient"] != 1:
        raise SystemExit(f"delivery was wrong: {product}")
    if baseline["accepted"] != recipients:
        raise SystemExit(f"the baseline did not send everything: {baseline}")
    result = {
        "recipients": recipients,
        "seconds": round(seconds, 2),
        "recipients_per_s": round(recipients / seconds),
        "baseline_per_s": round(recipients / baseline_seconds),
        "ratio": round(baseline_seconds / seconds, 3),
        "worker_peak_rss_mb": round(peak, 1),
    }
    print(json.dumps(result, indent=2))
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=100_000, help="recipients in the batch")
    parser.add_argument("--json", type=Path, help="write the result to this file")
    parser.add_argument(
        "--profile",
        type=Path,
        help="record the worker with py-spy (collapsed stacks) into this file",
    )
    arguments = parser.parse_args()
    asyncio.run(main(arguments.recipients, arguments.json, arguments.profile))
