"""Telegram's webhook: updates posted to the web app, checked by their secret token.

A request without the configured ``X-Telegram-Bot-Api-Secret-Token`` gets 403
and is not read. A valid update is committed to the inbox before the 200;
when the store is down the answer is 503, and Telegram posts it again. Each update
kept and each refusal is told to ``health`` (``relaydesk status``, ``/metrics``).
"""

from __future__ import annotations

import hmac
import json

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from config.telegram_settings import TelegramSettings
from connectors.ports import Intake, WebhookHealth
from connectors.telegram.intake import UpdateSink, bot_id
from router.errors import TransientError

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class _Untold:
    def taken(self) -> None:
        pass

    def failed(self, outcome: str, error: str) -> None:
        pass


def webhook_router(
    settings: TelegramSettings, intake: Intake, health: WebhookHealth | None = None
) -> APIRouter:
    told = health or _Untold()
    router = APIRouter()
    secret = settings.resolved_secret().encode()
    sink = UpdateSink(intake, source="telegram:webhook", bot=bot_id(settings.resolved_token()))

    @router.post(settings.webhook_path, include_in_schema=False)
    async def telegram_update(request: Request) -> JSONResponse:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not secret or not hmac.compare_digest(given, secret):
            told.failed("forbidden", "webhook: a post without the secret token (403)")
            return JSONResponse({"detail": "forbidden"}, status_code=403)
        try:
            update = json.loads(await request.body())
            await run_in_threadpool(sink, update)
        except (ValueError, TypeError) as exc:
            # Telegram never sends these; answering 200 would drop it, 400 says why
            told.failed("invalid", f"webhook: not an update (400): {exc}")
            return JSONResponse({"detail": f"not an update: {exc}"}, status_code=400)
        except TransientError as exc:  # not committed: Telegram posts it again
            told.failed("unavailable", f"webhook: update not kept (503): {exc}")
            return JSONResponse(
                {"detail": "the store is unavailable; try again later"},
                status_code=503,
                headers={"Retry-After": "5"},
            )
        told.taken()
        return JSONResponse({"ok": True})

    return router
