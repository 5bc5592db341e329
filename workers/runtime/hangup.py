"""SIGHUP: a process reads its configuration file again and, if it validates, applies it
for the whole fleet (as ``relaydesk config reload`` does); if not, every problem is
logged and nothing changes."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from types import FrameType

from config.loader import ConfigError, load_settings
from router.vocabulary import ConfigAction
from workers.desk.config_changes import apply_settings
from workers.runtime.config_follow import follow_store
from workers.runtime.context import Runtime

log = logging.getLogger(__name__)


def reload_file(runtime: Runtime, path: Path, applied_by: str) -> bool:
    """Validate ``path`` and apply it; True when it became (or already was) the desk's."""
    try:
        settings = load_settings(path)
    except ConfigError as exc:
        log.error(
            "SIGHUP: %s refused, nothing changed (%d problems): %s",
            path,
            len(exc.problems),
            "; ".join(f"{key}: {message}" for key, message in exc.problems),
        )
        return False
    try:
        applied = apply_settings(
            runtime, settings, action=ConfigAction.RELOAD, applied_by=applied_by
        )
    except Exception:
        log.exception("SIGHUP: %s could not be applied", path)
        return False
    follow_store(runtime)
    log.warning("SIGHUP: configuration %s from %s", applied.version, path)
    return True


def reload_on_hangup(runtime: Runtime, path: Path, kind: str) -> None:
    """On SIGHUP, ``reload_file`` on a thread of its own (never inside the handler)."""

    def handler(_signum: int, _frame: FrameType | None) -> None:
        threading.Thread(
            target=reload_file,
            args=(runtime, path, f"SIGHUP to {kind} {runtime.holder}"),
            name="config-reload",
            daemon=True,
        ).start()

    signal.signal(signal.SIGHUP, handler)
