"""The pipeline and the desk ask the channel registry, never name a channel: a member of
``Channel`` (``Channel.TELEGRAM``) written in ``workers/steps``, ``workers/desk`` or
``workers/runtime`` fails here, outside the modules that are one channel's own."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NEUTRAL = ("workers/steps", "workers/desk", "workers/runtime")
# one channel's own code, beside the steps that call it through its adapter
OWN: dict[str, str] = {
    "workers/steps/ingest_email.py": "email's reader",
    "workers/steps/ingest_telegram.py": "Telegram's reader",
    "workers/steps/ingest_telegram_batch.py": "Telegram's batch look-ups, by chat id",
    "workers/desk/outgoing.py": "queue_email and queue_chat build their channel's message",
    "workers/desk/languages.py": "a chat's requester by their chat id",
    "workers/steps/deliver.py": "the channel of rows queued before payloads named it",
}


def _members_named(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return [
        f"{path.relative_to(ROOT)}:{node.lineno}: Channel.{node.attr}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "Channel"
        and node.attr.isupper()
    ]


def test_steps_desk_and_runtime_name_no_channel() -> None:
    named = [
        found
        for folder in NEUTRAL
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path.relative_to(ROOT).as_posix() not in OWN
        for found in _members_named(path)
    ]
    assert named == []


def test_each_module_allowed_a_channel_still_names_one() -> None:
    """An allowance outlives no module that needs it."""
    stale = [name for name in OWN if not _members_named(ROOT / name)]
    assert stale == []
