"""Running the Telegram channel: the Bot API client, the sender, the update intake.

``relaydesk serve`` polls (or registers the webhook) when Telegram is enabled;
``relaydesk connector telegram`` runs the poller on its own (distributed mode).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from config.settings import Settings
from connectors.ports import Intake
from connectors.telegram.bot_api import BotApi
from connectors.telegram.intake import UpdateSink, bot_id
from connectors.telegram.poller import ALLOWED_UPDATES, TelegramPoller
from connectors.telegram.sender import TelegramSender
from workers.channels.chat_throttle import ChatThrottle, rate_limiter_backend
from workers.runtime.connector_metrics import CountedUpdatesApi, CountedUpdateSink
from workers.runtime.context import Runtime

log = logging.getLogger(__name__)


def make_bot_api(settings: Settings, *, pool_size: int | None = None) -> BotApi:
    telegram = settings.telegram
    return BotApi(
        telegram.resolved_token(),
        base_url=telegram.base_url,
        base_file_url=telegram.base_file_url,
        timeout_s=telegram.timeout_s,
        pool_size=pool_size or settings.worker.threads + 2,
    )


def make_telegram_sender(
    settings: Settings, api: BotApi, read_file: Callable[[str], bytes] | None = None
) -> TelegramSender:
    telegram = settings.telegram
    throttle = ChatThrottle(
        rate_limiter_backend(settings),
        per_bot=telegram.messages_per_s,
        per_chat=telegram.messages_per_chat_s,
        namespace=settings.broker.namespace,
    )
    return TelegramSender(
        api,
        throttle=throttle.wait_turn,
        max_retry_after_s=telegram.max_retry_after_s,
        read_file=read_file,
    )


class TelegramConnector:
    """Polling mode: one poller thread. Webhook mode: register the webhook (the web app
    receives the updates)."""

    def __init__(self, runtime: Runtime, intake: Intake) -> None:
        self.runtime = runtime
        self.intake = intake
        self.api = make_bot_api(runtime.settings, pool_size=2)
        self.poller: TelegramPoller | None = None

    def start(self) -> list[str]:
        telegram = self.runtime.settings.telegram
        me = self.api.get_me()
        bot = f"@{me.get('username') or me.get('id')}"
        if telegram.mode == "webhook":
            self.api.set_webhook(telegram.webhook_url, telegram.resolved_secret(), ALLOWED_UPDATES)
            return [f"Telegram {bot}: webhook {telegram.webhook_url} (secret token checked)"]
        health = self.runtime.connector_health
        self.poller = TelegramPoller(
            CountedUpdatesApi(self.api, health),
            CountedUpdateSink(
                UpdateSink(
                    self.intake, source="telegram:polling", bot=bot_id(telegram.resolved_token())
                ),
                health,
            ),
            timeout_s=telegram.poll_timeout_s,
        )
        self.poller.start()
        return [f"Telegram {bot}: polling {telegram.base_url.rsplit('/', 1)[0]}"]

    def stop(self) -> None:
        if self.poller is not None:
            self.poller.stop()
            self.poller.join(self.runtime.settings.telegram.timeout_s + 30)
            self.poller = None
        self.api.close()


def run_telegram_connector(runtime: Runtime, intake: Intake, stop: threading.Event) -> None:
    connector = TelegramConnector(runtime, intake)
    for line in connector.start():
        print(f"relaydesk connector: {line}", flush=True)
    try:
        stop.wait()
    finally:
        connector.stop()
