from __future__ import annotations

from typing import Any

from litestar import Controller, Request, post
from litestar.params import FromPath

from backend.accounts.service import find_webhook_account
from backend.core.dependencies import DbSession
from backend.core.errors import AuthenticationError
from backend.webhooks.events import parse_webhook_body
from backend.webhooks.service import BrevoWebhookService, WebhookResult


class BrevoWebhookController(Controller):
    """Brevo's transactional webhook. The token in the path is the only credential."""

    tags = ["webhooks"]

    # 500 batched events of up to 10 KB each, with room to spare.
    @post(
        "/api/v1/webhooks/brevo/{account_token:str}",
        status_code=200,
        request_max_body_size=8 * 1024 * 1024,
    )
    async def brevo_events(
        self, request: Request[Any, Any, Any], db_session: DbSession, account_token: FromPath[str]
    ) -> WebhookResult:
        account_id = await find_webhook_account(db_session, account_token)
        if account_id is None:
            raise AuthenticationError(
                "The webhook token is not valid. Copy the webhook URL from Settings into "
                "Brevo's transactional webhook settings again."
            )

        events, ignored = parse_webhook_body(await request.body())

        return await BrevoWebhookService(db_session, account_id).ingest(events, ignored=ignored)
