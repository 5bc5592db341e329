"""Long-poll the Bot API for updates; confirm each only once its inbox row is committed.

Telegram forgets an update when a later ``getUpdates`` passes an offset past
it. The poller advances its offset past an update only after ``sink`` returned
(the row is committed), so an update whose commit failed is fetched again,
and one committed twice (after a crash before the next poll) is a no-op by its
idempotency key.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

from router.errors import PermanentError, TransientError

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]


class UpdatesApi(Protocol):
    def get_updates(
        self, offset: int | None, timeout_s: int, allowed_updates: list[str]
    ) -> list[dict[str, Any]]: ...

    def delete_webhook(self) -> None: ...


class TelegramPoller:
    def __init__(
        self,
        api: UpdatesApi,
        sink: Callable[[dict[str, Any]], object],
        *,
        timeout_s: int = 25,
        stop: threading.Event | None = None,
        max_backoff_s: float = 30.0,
    ) -> None:
        self.api = api
        self.sink = sink
        self.timeout_s = timeout_s
        self.stop_event = stop or threading.Event()
        self.max_backoff_s = max_backoff_s
        self.offset: int | None = None
        self.last_error: str | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="telegram-poller", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.stop_event.set()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def run(self) -> None:
        backoff = 0.5
        webhook_cleared = False
        while not self.stop_event.is_set():
            try:
                if not webhook_cleared:  # polling and a webhook exclude each other
                    self.api.delete_webhook()
                    webhook_cleared = True
                self.poll_once()
                backoff = 0.5
                self.last_error = None
            except Exception as exc:  # never let the thread die: serve would go on deaf
                self.last_error = str(exc)
                if isinstance(exc, (TransientError, PermanentError)):
                    log.warning("telegram polling: %s; again in %.1f s", exc, backoff)
                else:
                    log.exception("telegram polling failed; again in %.1f s", backoff)
                self.stop_event.wait(backoff)
                backoff = min(backoff * 2, self.max_backoff_s)

    def poll_once(self, timeout_s: int | None = None) -> int:
        """One getUpdates round; returns how many updates were committed."""
        timeout = self.timeout_s if timeout_s is None else timeout_s
        updates = self.api.get_updates(self.offset, timeout, ALLOWED_UPDATES)
        done = 0
        for update in sorted(updates, key=_update_id):
            try:
                self.sink(update)  # raises TransientError when the row could not be committed
            except ValueError as exc:  # not an update at all: it can never be kept
                log.error("telegram polling: skipped a malformed update: %s", exc)
            else:
                done += 1
            self.offset = _update_id(update) + 1  # confirmed by the next getUpdates
        return done


def _update_id(update: dict[str, Any]) -> int:
    try:
        return int(update.get("update_id", 0))
    except (TypeError, ValueError):
        return 0
