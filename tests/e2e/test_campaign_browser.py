"""The whole campaign in Chromium: sign up, template, suppression list, import, launch, delivery.

The app runs as a separate process and sends through the fake Brevo, whose recorded messages
are checked against the contact file read with the app's own import code.
"""

from __future__ import annotations

import asyncio
import html
import json
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Page, expect

from backend.imports.reading import analyze_file, iter_rows
from backend.imports.validation import FieldRule, RowValidator, ValidRow
from tests.conftest import FIXTURES
from tests.e2e.conftest import API_KEY, OUTPUT_DIR, SENDER_EMAIL, SENDER_NAME, AppServer
from tests.fakes.brevo import AcceptedMessage, FakeBrevo

pytestmark = pytest.mark.e2e

CONTACTS = FIXTURES / "contacts"
MAILCHIMP_EXPORT = CONTACTS / "mailchimp-export.csv"
UNSUBSCRIBED = CONTACTS / "unsubscribed.csv"
EXPECTED = json.loads((CONTACTS / "expected.json").read_text())["mailchimp-export.csv"]
LEEMUNROE = FIXTURES / "templates" / "leemunroe" / "email.html"

PASSWORD = "correct horse battery staple"
TEMPLATE_NAME = "October newsletter"
SUBJECT = "October news for {{ first_name }}"
BATCH_NAME = "October news"

# Seconds the fake Brevo waits before each response, so that a batch of 4,925 messages takes
# a few seconds and the progress bar shows values below 100 on the way.
BREVO_LATENCY = 0.05
SEND_TIMEOUT_MS = 90_000
VALIDATE_TIMEOUT_MS = 60_000

UNSUBSCRIBE_LINK = re.compile(r"^<(?P<url>https?://[^>]+/unsubscribe/[A-Za-z0-9_-]+)>$")

# Records every value of the batch progress bar's aria-valuenow in window.__progressValues,
# from the first render on, so a test gets the values that polling could miss.
RECORD_PROGRESS = """
window.__progressValues = [];
new MutationObserver(() => {
  const bar = document.querySelector('[data-testid="batch-progress"]');
  if (bar === null) return;
  const value = Number(bar.getAttribute('aria-valuenow'));
  const values = window.__progressValues;
  if (values[values.length - 1] !== value) values.push(value);
}).observe(document, {
  subtree: true, childList: true, attributes: true, attributeFilter: ['aria-valuenow'],
});
"""

# Records the label and rows read of the import job's progress bar in window.__importJobs
# each time either changes. Recording starts at the first render, because a job on a small
# file can end before a poll would see the bar.
RECORD_IMPORT_JOBS = """
window.__importJobs = [];
new MutationObserver(() => {
  const bar = document.querySelector('[data-testid="import-progress"]');
  if (bar === null) return;
  const label = bar.getAttribute('aria-label');
  const rowsRead = document.querySelector('[data-testid="job-rows-read"]');
  const rows = Number(rowsRead === null ? 0 : rowsRead.getAttribute('data-value'));
  const jobs = window.__importJobs;
  const last = jobs[jobs.length - 1];
  if (last === undefined || last.label !== label || last.rows !== rows) jobs.push({label, rows});
}).observe(document, {subtree: true, childList: true, attributes: true});
"""

# CodeMirror reads a paste from the event's clipboardData, as it does for Ctrl+V.
PASTE = """(element, text) => {
  const data = new DataTransfer();
  data.setData('text/plain', text);
  element.dispatchEvent(
    new ClipboardEvent('paste', {clipboardData: data, bubbles: true, cancelable: true}),
  );
}"""


def newsletter_html() -> str:
    """The leemunroe template with a first-name greeting and an unsubscribe link in the footer."""
    source = LEEMUNROE.read_text(encoding="utf-8")
    greeting = "<p>Hi there</p>"
    footer_link = '<a href="http://htmlemail.io/blog">Unsubscribe</a>'
    assert source.count(greeting) == 1
    assert source.count(footer_link) == 1
    return source.replace(greeting, "<p>Hi {{ first_name }},</p>").replace(
        footer_link, '<a href="{{ unsubscribe_url }}">Unsubscribe</a>'
    )


def valid_rows(path: Path, mapping: dict[str, str], rules: list[FieldRule]) -> list[ValidRow]:
    analysis = analyze_file(path, path.name)
    full_mapping: dict[str, str | None] = dict.fromkeys(analysis.columns)
    full_mapping.update(mapping)
    validator = RowValidator(analysis.columns, full_mapping, rules)
    verdicts = (validator.check(number, cells) for number, cells in iter_rows(path, analysis))
    return [verdict for verdict in verdicts if isinstance(verdict, ValidRow)]


def expected_recipients() -> tuple[dict[str, str], set[str]]:
    """Return (address to first name for every recipient, the suppressed addresses).

    Both files are read with the app's import code, so the expectation follows its rules for
    trimming, duplicates and case.
    """
    rows = valid_rows(
        MAILCHIMP_EXPORT,
        {"Email Address": "email", "First Name": "first_name"},
        [FieldRule("email"), FieldRule("first_name")],
    )
    suppressed = valid_rows(UNSUBSCRIBED, {"email": "email"}, [FieldRule("email")])
    suppressed_keys = {row.email_key for row in suppressed}
    recipients = {
        row.email: row.fields["first_name"] for row in rows if row.email_key not in suppressed_keys
    }
    return recipients, {row.email for row in suppressed}


async def stat_value(page: Page, test_id: str) -> int:
    value = await page.get_by_test_id(test_id).get_attribute("data-value")
    assert value is not None, f"{test_id} has no data-value"
    return int(value)


async def dismiss_toasts(page: Page) -> None:
    """Close the notifications, which would cover part of a full-page screenshot."""
    dismiss = page.get_by_role("button", name="Dismiss notification")
    while await dismiss.count() > 0:
        await dismiss.first.click()


async def sign_up(page: Page, email: str) -> None:
    await page.goto("/signup")
    await page.get_by_label("Name (optional)").fill("Ops")
    await page.get_by_label("Email", exact=True).fill(email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Create account").click()
    await expect(page).to_have_url(re.compile(r"/$"))
    await expect(page.get_by_test_id("live-status")).to_have_attribute("data-state", "open")


async def check_settings(page: Page) -> None:
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()

    # The request the page makes, sent with the browser's cookies.
    response = await page.request.get("/api/v1/settings")
    assert response.ok, await response.text()
    assert API_KEY not in await response.text()
    settings = await response.json()
    assert settings["transport"] == "brevo"
    assert settings["env_key_available"] is True

    transport = page.get_by_test_id("transport")
    await expect(transport).to_contain_text("Brevo")
    await expect(transport).to_contain_text("with the API key from .env")
    await expect(transport).to_contain_text(f"Sender: {SENDER_NAME} <{SENDER_EMAIL}>, from .env")
    await expect(page.get_by_test_id("brevo-key-state")).to_have_text("Stored key: not configured")
    assert API_KEY[-12:] not in await page.content()


async def create_template(page: Page) -> None:
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Templates").click()
    await page.get_by_label("Template name").fill(TEMPLATE_NAME)
    await page.get_by_role("button", name="Create template").click()
    await expect(page.get_by_role("heading", name=TEMPLATE_NAME)).to_be_visible()

    await page.get_by_label("Subject", exact=True).fill(SUBJECT)
    editor = page.get_by_role("textbox", name="HTML", exact=True)
    await editor.click()
    await editor.evaluate(PASTE, newsletter_html())
    # unsubscribe_url is filled in by the app, so first_name is the only merge field.
    merge_fields = page.get_by_role("table", name="Merge fields").get_by_role("code")
    await expect(merge_fields).to_have_text(["first_name"])

    await page.get_by_role("button", name="Save draft").click()
    await expect(page.get_by_text("Draft saved.")).to_be_visible()
    await page.get_by_role("button", name="Publish").click()
    await expect(page.get_by_test_id("published-version")).to_have_text("Published version 1")


async def import_suppression_list(page: Page) -> None:
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Contacts").click()
    await page.get_by_label("Suppression list file").set_input_files(UNSUBSCRIBED)
    result = page.get_by_role("status", name="Suppression import result")
    suppressed = result.locator(".stat").filter(has=page.get_by_text("Suppressed", exact=True))
    await expect(suppressed).to_contain_text("40")


async def validate_import(page: Page) -> None:
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    await page.get_by_role("link", name="New import").click()
    await page.get_by_label("Contact file").set_input_files(MAILCHIMP_EXPORT)
    await page.get_by_role("button", name="Continue to mapping").click()

    await page.get_by_label("Template", exact=True).select_option(label=TEMPLATE_NAME)
    version = page.get_by_label("Published version")
    await expect(version).to_be_enabled()
    await version.select_option(label=f"Version 1: {SUBJECT}")
    await expect(page.get_by_label("Map column Email Address")).to_have_value("email")
    await expect(page.get_by_label("Map column First Name")).to_have_value("first_name")

    await expect(
        page.get_by_role("switch", name="Keep other columns as contact attributes")
    ).not_to_be_checked()
    await page.screenshot(path=OUTPUT_DIR / "import-mapping.png", full_page=True)

    await page.get_by_role("button", name="Validate rows").click()
    # Validation runs in the background: the progress bar shows until the results replace it.
    total = page.get_by_test_id("validation-total")
    await expect(total).to_have_attribute(
        "data-value", re.compile(r"\d"), timeout=VALIDATE_TIMEOUT_MS
    )
    assert await stat_value(page, "validation-total") == EXPECTED["data_rows"]
    assert await stat_value(page, "validation-valid") == EXPECTED["valid"]
    assert (
        await stat_value(page, "validation-invalid")
        == EXPECTED["invalid_email"] + EXPECTED["missing_required"]
    )
    assert await stat_value(page, "validation-duplicates") == EXPECTED["duplicates"]
    assert await stat_value(page, "validation-suppressed") == EXPECTED["suppressed_among_valid"]

    await expect(page.get_by_test_id("row-errors").get_by_role("row").nth(1)).to_be_visible()
    await expect(page.get_by_test_id("import-progress")).to_have_count(0)
    check_job_progress(await page.evaluate("window.__importJobs"), "Validation progress")

    await page.get_by_label("Preset name").fill("Mailchimp export")
    await page.get_by_role("button", name="Save as preset").click()
    await expect(page.get_by_text("Saved as preset 'Mailchimp export'.")).to_be_visible()
    await dismiss_toasts(page)
    await page.screenshot(path=OUTPUT_DIR / "import-validation.png", full_page=True)


def check_job_progress(jobs: list[dict[str, Any]], label: str) -> None:
    """Check that the job's progress bar showed, with rows read rising up to the file's rows."""
    rows = [job["rows"] for job in jobs if job["label"] == label]
    assert rows, f"no '{label}' bar was shown: {jobs}"
    assert rows == sorted(rows), rows
    assert rows[-1] <= EXPECTED["data_rows"], rows


async def stage_and_launch(page: Page, fake: FakeBrevo) -> None:
    await page.get_by_role("button", name="Continue to staging").click()
    await page.get_by_label("Batch name").fill(BATCH_NAME)
    await page.get_by_role("button", name="Stage batch").click()
    # Best effort: the staging card shows only until the job ends, so this may show the batch.
    await page.screenshot(path=OUTPUT_DIR / "import-staging.png")
    # Staging runs in the background and ends on the staged batch, ready to launch.
    await expect(page.get_by_role("button", name="Launch")).to_be_visible(
        timeout=VALIDATE_TIMEOUT_MS
    )
    check_job_progress(await page.evaluate("window.__importJobs"), "Staging progress")
    recipients = await page.get_by_role("definition").first.inner_text()
    assert int(re.sub(r"\D", "", recipients)) == EXPECTED["valid"], recipients

    fake.faults.latency = BREVO_LATENCY
    await page.get_by_role("button", name="Launch").click()
    await expect(page).to_have_url(re.compile(r"/batches/[0-9a-f-]{36}$"))


async def watch_batch_finish(page: Page, sent: int) -> list[int]:
    """Wait on the batch page, without reloading it, until every recipient is finished.

    Returns the progress values the page showed.
    """
    await expect(page.get_by_test_id("live-status")).to_have_attribute("data-state", "open")
    await expect(page.get_by_test_id("batch-transport")).to_have_text("Brevo")
    # A reload would replace the window and lose this marker.
    await page.evaluate("window.__sameDocument = true")

    progress = page.get_by_test_id("batch-progress")
    await expect(progress).to_have_attribute("aria-valuenow", "100", timeout=SEND_TIMEOUT_MS)
    status = page.get_by_test_id("batch-status")
    await expect(status).to_have_attribute("data-status", "completed")
    await expect(status).to_have_text("Completed")
    assert await page.evaluate("window.__sameDocument") is True

    await expect(page.get_by_test_id("count-sent")).to_have_attribute("data-value", str(sent))
    await expect(page.get_by_test_id("count-unsubscribed")).to_have_attribute(
        "data-value", str(EXPECTED["suppressed_among_valid"])
    )
    await expect(page.get_by_test_id("count-failed")).to_have_attribute("data-value", "0")

    values: list[int] = await page.evaluate("window.__progressValues")
    return values


def check_messages(
    fake: FakeBrevo, base_url: str, recipients: dict[str, str], suppressed: set[str]
) -> None:
    by_address: dict[str, AcceptedMessage] = {}
    for message in fake.messages:
        assert len(message.to) == 1, message.to
        assert not message.cc
        assert not message.bcc
        by_address[message.to[0].email] = message
    assert len(fake.messages) == len(recipients)
    assert set(by_address) == set(recipients)
    assert all(fake.accepted_count(address) == 1 for address in recipients)
    assert [address for address in suppressed if fake.accepted_count(address)] == []

    links: set[str] = set()
    for address, first_name in recipients.items():
        message = by_address[address]
        assert message.sender.email == SENDER_EMAIL
        assert message.subject == f"October news for {first_name}", address
        assert message.html is not None
        assert f"Hi {html.escape(first_name)}," in message.html, address

        match = UNSUBSCRIBE_LINK.match(message.headers.get("List-Unsubscribe", ""))
        assert match is not None, f"{address}: {message.headers}"
        link = match["url"]
        assert link.startswith(base_url + "/unsubscribe/"), link
        assert f'href="{html.escape(link)}"' in message.html, address
        assert message.headers.get("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
        links.add(link)
    assert len(links) == len(recipients)


async def test_campaign_reaches_every_subscribed_contact(
    page: Page,
    app_server: AppServer,
    fake_brevo: FakeBrevo,
    page_errors: list[str],
) -> None:
    recipients, suppressed = expected_recipients()
    assert len(recipients) == EXPECTED["valid"] - EXPECTED["suppressed_among_valid"]
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    await page.add_init_script(RECORD_PROGRESS)
    await page.add_init_script(RECORD_IMPORT_JOBS)

    await sign_up(page, "ops@example.com")
    await check_settings(page)
    await create_template(page)
    await import_suppression_list(page)
    await validate_import(page)
    await stage_and_launch(page, fake_brevo)
    progress_values = await watch_batch_finish(page, sent=len(recipients))

    assert progress_values[-1] == 100
    assert min(progress_values) < 100, progress_values
    assert progress_values == sorted(progress_values), progress_values

    await expect(page.get_by_test_id("recipients-table").get_by_role("row").nth(1)).to_be_visible()
    await dismiss_toasts(page)
    await page.screenshot(path=OUTPUT_DIR / "batch-finished.png", full_page=True)

    check_messages(fake_brevo, app_server.base_url, recipients, suppressed)
    assert page_errors == []


class OperatorApi:
    """The operator's REST client: its own cookies and the CSRF header, apart from the browser."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str) -> None:
        self.session = session
        self.base_url = base_url

    async def request(self, method: str, path: str, expected: int = 200, **kwargs: Any) -> Any:
        csrf = next(
            (cookie.value for cookie in self.session.cookie_jar if cookie.key == "csrf_token"), ""
        )
        async with self.session.request(
            method, self.base_url + "/api/v1" + path, headers={"X-CSRF-Token": csrf}, **kwargs
        ) as response:
            text = await response.text()
            assert response.status == expected, f"{method} {path}: {response.status} {text}"
            return json.loads(text) if text else None

    async def contact_status(self, email: str) -> str:
        found = await self.request("GET", "/contacts", params={"search": email})
        matches = [item for item in found["items"] if item["email"] == email]
        assert len(matches) == 1, found
        status: str = matches[0]["status"]
        return status


async def wait_for_import(api: OperatorApi, import_path: str, status: str) -> dict[str, Any]:
    """Poll an import until its background job ends, and check that it reached `status`."""
    deadline = time.monotonic() + VALIDATE_TIMEOUT_MS / 1000
    imported = await api.request("GET", import_path)
    while imported["status"] in ("validating", "staging"):
        assert time.monotonic() < deadline, f"import still {imported['status']}: {imported}"
        await asyncio.sleep(0.1)
        imported = await api.request("GET", import_path)
    assert imported["status"] == status, imported
    return dict(imported)


async def send_small_batch(api: OperatorApi, csv_text: str) -> dict[str, Any]:
    """Sign up, import a small file against the starter template, launch it and wait."""
    await api.request(
        "POST",
        "/auth/signup",
        201,
        json={"email": "owner@example.com", "password": PASSWORD, "name": "Owner"},
    )
    templates = await api.request("GET", "/templates")
    version = templates[0]["latest_version"]

    form = aiohttp.FormData()
    form.add_field("file", csv_text.encode(), filename="small.csv", content_type="text/csv")
    created = await api.request("POST", "/imports", 201, data=form)
    import_path = f"/imports/{created['id']}"
    await api.request("PUT", import_path + "/mapping", json={"template_version_id": version["id"]})
    await api.request("POST", import_path + "/validate", 202)
    await wait_for_import(api, import_path, "validated")
    await api.request("POST", import_path + "/stage", 202, json={"name": "Small"})
    staged = await wait_for_import(api, import_path, "staged")
    batch = await api.request("GET", f"/batches/{staged['batch_id']}")
    await api.request("POST", f"/batches/{batch['id']}/launch")

    deadline = time.monotonic() + SEND_TIMEOUT_MS / 1000
    while batch["status"] != "completed":
        assert time.monotonic() < deadline, f"batch still {batch['status']}: {batch['counts']}"
        await asyncio.sleep(0.1)
        batch = await api.request("GET", f"/batches/{batch['id']}")
    return dict(batch)


async def test_unsubscribe_link_needs_confirmation(
    page: Page, app_server: AppServer, fake_brevo: FakeBrevo, page_errors: list[str]
) -> None:
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        api = OperatorApi(session, app_server.base_url)
        batch = await send_small_batch(
            api, "email,first_name\nada@example.com,Ada\ngrace@example.org,Grace\n"
        )
        assert batch["counts"]["sent"] == 2
        assert Counter(message.to[0].email for message in fake_brevo.messages) == {
            "ada@example.com": 1,
            "grace@example.org": 1,
        }
        message = next(m for m in fake_brevo.messages if m.to[0].email == "ada@example.com")
        match = UNSUBSCRIBE_LINK.match(message.headers["List-Unsubscribe"])
        assert match is not None, message.headers

        await page.goto(match["url"])
        await expect(page.get_by_role("heading", name="Unsubscribe")).to_be_visible()
        await expect(page.get_by_text("ad•@example.com")).to_be_visible()
        button = page.get_by_role("button", name="Unsubscribe")
        await expect(button).to_be_visible()
        assert await api.contact_status("ada@example.com") == "subscribed"

        await button.click()
        confirmation = page.get_by_role("status").filter(has_text="You are unsubscribed")
        await expect(confirmation).to_be_visible()
        assert await api.contact_status("ada@example.com") == "unsubscribed"
        assert await api.contact_status("grace@example.org") == "subscribed"
    assert page_errors == []
