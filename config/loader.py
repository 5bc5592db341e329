"""Load settings: a TOML file, then ``RELAYDESK_*`` environment variables on top.

``RELAYDESK_DATABASE_URL`` sets ``database_url``; a double underscore goes one
level down: ``RELAYDESK_SMTP__PORT=2525`` sets ``smtp.port``; a list is given as
JSON: ``RELAYDESK_EMAIL__INBOUND_SMTP__DOMAINS='["example.com"]'``. Validation runs
once; every problem is reported with its key path.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from config.settings import Settings

EXAMPLE_PATH = Path(__file__).with_name("example.toml")
ENV_PREFIX = "RELAYDESK_"
_NOT_SETTINGS = {"RELAYDESK_CONFIG"}


class ConfigError(Exception):
    """The configuration cannot be used; ``problems`` lists ``(key path, message)``."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("\n".join(f"{path}: {msg}" for path, msg in problems))


def _env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name in _NOT_SETTINGS:
            continue
        if name.startswith(ENV_PREFIX + "TEST_"):  # the test suite's own knobs, not settings
            continue
        path = name[len(ENV_PREFIX) :].lower().split("__")
        node = data
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = _list_or_text(value)
    return data


def _list_or_text(value: str) -> Any:
    """A JSON list (``'["a@x", "b@x"]'``) for settings that are lists; else the text."""
    if value.lstrip().startswith("["):
        try:
            parsed = json.loads(value)
        except ValueError:
            return value
        if isinstance(parsed, list):
            return parsed
    return value


def _merge(base: dict[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def problems_of(error: ValidationError) -> list[tuple[str, str]]:
    """Flatten a pydantic error into ``(key path, message)`` pairs."""
    problems = []
    for item in error.errors():
        path = ".".join(str(p) for p in item["loc"]) or "(top level)"
        message = item["msg"].removeprefix("Value error, ")
        for line in message.splitlines():
            if ": " in line and path == "(top level)":
                key, _, msg = line.partition(": ")
                problems.append((key, msg))
            else:
                problems.append((path, line))
    return problems


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError([(str(path), "no such file")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([(str(path), f"not valid TOML: {exc}")]) from None


def chosen_path(path: str | Path | None, environ: Mapping[str, str] | None = None) -> Path:
    """The file ``path`` names, else ``$RELAYDESK_CONFIG``, else the shipped example."""
    environ = os.environ if environ is None else environ
    chosen = path or environ.get("RELAYDESK_CONFIG")
    return Path(chosen) if chosen else EXAMPLE_PATH


def settings_of(data: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> Settings:
    """A configuration file's data with the environment's ``RELAYDESK_*`` on top, validated."""
    environ = os.environ if environ is None else environ
    merged = _merge(dict(data), _env_overrides(environ))
    try:
        return Settings.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(problems_of(exc)) from None


def load_settings(
    path: str | Path | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Read ``path`` (or ``$RELAYDESK_CONFIG``, or the shipped example) and the environment."""
    return settings_of(read_toml(chosen_path(path, environ)), environ)
