"""Prometheus figures of the connectors' health, kept in the connector processes (and
seen on the web app's /metrics in multiprocess mode): the inbound SMTP server's
messages by the answer they got, and the Telegram poller's rounds and last update.

The counting wraps what a connector is given (its sink, its Bot API client), so the
connectors themselves stay free of metrics.
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import Counter, Gauge

from router.errors import PermanentError, TransientError

SMTP_MESSAGES = Counter(
    "relaydesk_smtp_messages_total",
    "Messages the inbound SMTP server was given (DATA), by its answer",
    ("outcome",),  # accepted (250), deferred (451: try again), refused (5xx)
)
TELEGRAM_POLLS = Counter(
    "relaydesk_telegram_polls_total", "getUpdates rounds of the Telegram poller", ("outcome",)
)
TELEGRAM_UPDATES = Counter("relaydesk_telegram_updates_total", "Telegram updates taken in")
TELEGRAM_LAST_UPDATE = Gauge(
    "relaydesk_telegram_last_update_timestamp_seconds",
    "When the last Telegram update was taken in (Unix time; 0: none yet)",
    multiprocess_mode="max",
)


class CountedMailSink:
    """``connectors.email.smtp_inbound.MailSink`` that counts each message's answer."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def deliver(self, raw: bytes, *, mail_from: str, recipients: tuple[str, ...]) -> None:
        try:
            self.inner.deliver(raw, mail_from=mail_from, recipients=recipients)
        except PermanentError:
            SMTP_MESSAGES.labels("refused").inc()
            raise
        except Exception:  # TransientError or anything else: the server answers 451
            SMTP_MESSAGES.labels("deferred").inc()
            raise
        SMTP_MESSAGES.labels("accepted").inc()


class CountedUpdatesApi:
    """The poller's Bot API (``connectors.telegram.poller.UpdatesApi``), its rounds counted."""

    def __init__(self, api: Any) -> None:
        self.api = api

    def get_updates(
        self, offset: int | None, timeout_s: int, allowed_updates: list[str]
    ) -> list[dict[str, Any]]:
        try:
            updates: list[dict[str, Any]] = self.api.get_updates(offset, timeout_s, allowed_updates)
        except (TransientError, PermanentError, OSError):
            TELEGRAM_POLLS.labels("error").inc()
            raise
        TELEGRAM_POLLS.labels("ok").inc()
        return updates

    def delete_webhook(self) -> None:
        self.api.delete_webhook()


class CountedUpdateSink:
    """The poller's sink: an update taken in is counted, and its time kept."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __call__(self, update: dict[str, Any]) -> object:
        result = self.inner(update)
        TELEGRAM_UPDATES.inc()
        TELEGRAM_LAST_UPDATE.set(time.time())
        return result
