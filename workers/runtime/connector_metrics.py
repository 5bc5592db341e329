"""Prometheus figures of the connectors' health, kept in the connector processes (and
seen on the web app's /metrics in multiprocess mode): the inbound SMTP server's
messages by the answer they got and its sessions open, the Telegram poller's rounds
and last update, each IMAP mailbox's last successful poll. The same events go to the
process's ``ConnectorHealth``, which its heartbeat writes to the store for
``relaydesk status``.

The counting wraps what a connector is given (its sink, its Bot API client, its
mailbox state), so the connectors themselves stay free of metrics.
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import Counter, Gauge

from router.errors import PermanentError, TransientError
from workers.runtime.connector_health import ConnectorHealth

SMTP_MESSAGES = Counter(
    "relaydesk_smtp_messages_total",
    "Messages the inbound SMTP server was given (DATA), by its answer",
    ("outcome",),  # accepted (250), deferred (451: try again), refused (5xx)
)
SMTP_SESSIONS = Gauge(
    "relaydesk_smtp_sessions_open",
    "SMTP sessions the inbound server has open now",
    multiprocess_mode="livesum",
)
TELEGRAM_POLLS = Counter(
    "relaydesk_telegram_polls_total", "getUpdates rounds of the Telegram poller", ("outcome",)
)
TELEGRAM_UPDATES = Counter("relaydesk_telegram_updates_total", "Telegram updates taken in")
TELEGRAM_WEBHOOK = Counter(
    "relaydesk_telegram_webhook_posts_total",
    "Posts to the Telegram webhook, by answer",
    ("outcome",),  # ok (200), forbidden (403: no secret token), invalid (400), unavailable (503)
)
TELEGRAM_LAST_UPDATE = Gauge(
    "relaydesk_telegram_last_update_timestamp_seconds",
    "When the last Telegram update was taken in (Unix time; 0: none yet)",
    multiprocess_mode="max",
)
IMAP_LAST_POLL = Gauge(
    "relaydesk_imap_last_poll_timestamp_seconds",
    "When the mailbox was last polled without an error (Unix time)",
    ("mailbox",),
    multiprocess_mode="max",
)


class CountedMailSink:
    """``connectors.email.smtp_inbound.MailSink`` that counts each message's answer."""

    def __init__(self, inner: Any, health: ConnectorHealth) -> None:
        self.inner = inner
        self.health = health

    def deliver(self, raw: bytes, *, mail_from: str, recipients: tuple[str, ...]) -> None:
        try:
            self.inner.deliver(raw, mail_from=mail_from, recipients=recipients)
        except PermanentError:
            SMTP_MESSAGES.labels("refused").inc()
            raise
        except Exception as exc:  # TransientError or anything else: the server answers 451
            SMTP_MESSAGES.labels("deferred").inc()
            self.health.failed("smtp", f"answered 451: {exc}")
            raise
        SMTP_MESSAGES.labels("accepted").inc()
        self.health.succeeded("smtp")

    def sessions(self, open_now: int) -> None:
        """The inbound server's sessions changed (``SmtpInboundServer``'s ``on_sessions``)."""
        self.inner.sessions(open_now)  # first: the group commit's expectation never goes stale
        SMTP_SESSIONS.set(open_now)
        self.health.sessions("smtp", open_now)


class CountedUpdatesApi:
    """The poller's Bot API (``connectors.telegram.poller.UpdatesApi``), its rounds counted."""

    def __init__(self, api: Any, health: ConnectorHealth) -> None:
        self.api = api
        self.health = health

    def get_updates(
        self, offset: int | None, timeout_s: int, allowed_updates: list[str]
    ) -> list[dict[str, Any]]:
        try:
            updates: list[dict[str, Any]] = self.api.get_updates(offset, timeout_s, allowed_updates)
        except (TransientError, PermanentError, OSError) as exc:
            TELEGRAM_POLLS.labels("error").inc()
            self.health.failed("telegram", f"getUpdates: {exc}")
            raise
        TELEGRAM_POLLS.labels("ok").inc()
        return updates

    def delete_webhook(self) -> None:
        self.api.delete_webhook()


class CountedUpdateSink:
    """The poller's sink: an update taken in is counted, and its time kept."""

    def __init__(self, inner: Any, health: ConnectorHealth) -> None:
        self.inner = inner
        self.health = health

    def __call__(self, update: dict[str, Any]) -> object:
        result = self.inner(update)
        TELEGRAM_UPDATES.inc()
        TELEGRAM_LAST_UPDATE.set(time.time())
        self.health.succeeded("telegram")
        return result


class CountedWebhook:
    """The Telegram webhook's ``connectors.ports.WebhookHealth``: the updates it took in
    (counted, their time kept, as the poller's) and its refusals, under ``telegram webhook``."""

    NAME = "telegram webhook"

    def __init__(self, health: ConnectorHealth) -> None:
        self.health = health

    def taken(self) -> None:
        TELEGRAM_WEBHOOK.labels("ok").inc()
        TELEGRAM_UPDATES.inc()
        TELEGRAM_LAST_UPDATE.set(time.time())
        self.health.succeeded(self.NAME)

    def failed(self, outcome: str, error: str) -> None:
        TELEGRAM_WEBHOOK.labels(outcome).inc()
        self.health.failed(self.NAME, error)


class CountedMailboxState:
    """The IMAP pollers' ``MailboxState``: each poll's outcome kept per mailbox."""

    def __init__(self, inner: Any, health: ConnectorHealth) -> None:
        self.inner = inner
        self.health = health

    def load(self, mailbox: str) -> tuple[int, int] | None:
        loaded: tuple[int, int] | None = self.inner.load(mailbox)
        return loaded

    def save(self, mailbox: str, uidvalidity: int, last_uid: int) -> None:
        self.inner.save(mailbox, uidvalidity, last_uid)

    def report(self, mailbox: str, error: str | None) -> None:
        if error is None:
            IMAP_LAST_POLL.labels(mailbox).set(time.time())
            self.health.succeeded(f"imap {mailbox}")
        else:
            self.health.failed(f"imap {mailbox}", error)
        self.inner.report(mailbox, error)
