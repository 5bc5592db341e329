"""A configuration file's version: its content hash, the same on every machine.

A desk's configuration is the data of its TOML file. Its canonical form (JSON, keys
sorted, dates and times as ISO text) is what the store keeps for each version, and
the first twelve hex digits of its SHA-256 are the version's name. Each process puts
its own ``RELAYDESK_*`` environment on top (``loader.settings_of``), so the database
and broker URLs of a machine never travel with a version.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

VERSION_DIGITS = 12

# read once when a process starts: a new value in these takes effect at its restart
RESTART_KEYS = (
    "database_url",
    "broker_url",
    "log_format",
    "broker",
    "worker",
    "retries",
    "smtp",
    "web.host",
    "web.port",
    "email.inbound_smtp",
    "email.mailboxes",
    "email.attachments_dir",
    "telegram",
)


def _iso(value: object) -> str:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    raise TypeError(f"cannot keep {type(value).__name__} in a configuration version")


@dataclass(frozen=True)
class DeskFile:
    """A configuration file's data in its canonical form, and its version."""

    content: str

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> DeskFile:
        return cls(
            json.dumps(
                data, sort_keys=True, separators=(",", ":"), default=_iso, ensure_ascii=False
            )
        )

    @property
    def version(self) -> str:
        return hashlib.sha256(self.content.encode()).hexdigest()[:VERSION_DIGITS]

    @property
    def data(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.content)
        return loaded


def _at(data: Mapping[str, Any], dotted: str) -> object:
    node: object = data
    for part in dotted.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


def restart_keys(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """The keys read only at a process's start whose value differs between two files."""
    return [key for key in RESTART_KEYS if _at(old, key) != _at(new, key)]
