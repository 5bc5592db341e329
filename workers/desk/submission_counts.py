"""Count a web submission of a client address in the store, shared by every web process
(``router.submission_limits``): the answer is how long the address must wait, 0 when it
may submit now."""

from __future__ import annotations

import logging
from datetime import datetime

from router.errors import TransientError
from router.sign_in_limits import retry_after_seconds
from router.submission_limits import (
    KEY_PREFIX,
    SUBMISSION_WINDOW,
    submission_key,
    submission_wait,
)
from store.errors import store_errors
from workers.runtime.context import Runtime

log = logging.getLogger(__name__)


def count_submission(runtime: Runtime, address: str | None) -> int:
    """Count this try of ``address``; the seconds it must wait (0: it may submit now).
    With the store unavailable, 0: the submission itself then fails as unavailable."""
    now = runtime.now()
    per_minute = runtime.settings.web.submissions_per_minute
    try:
        with store_errors("counting a submission"), runtime.db.unit_of_work() as uow:
            count = uow.sign_in_failures.record(
                submission_key(address), now=now, window_opened_after=now - SUBMISSION_WINDOW
            )
    except TransientError as exc:
        log.warning("a submission could not be counted: %s", exc)
        return 0
    if count.failures == 1:  # a new window: forget the addresses whose window closed
        _forget_closed(runtime, now)
    wait = submission_wait(count, per_minute, now)
    return 0 if wait is None else retry_after_seconds(wait)


def _forget_closed(runtime: Runtime, now: datetime) -> None:
    try:
        with store_errors("forgetting old submission counts"), runtime.db.unit_of_work() as uow:
            uow.sign_in_failures.prune(opened_before=now - SUBMISSION_WINDOW, prefix=KEY_PREFIX)
    except TransientError as exc:  # another process pruning at once: they will do
        log.info("old submission counts not forgotten now: %s", exc)
