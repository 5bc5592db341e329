"""The ``relaydesk`` command line."""

from __future__ import annotations

from workers.cli.main import main

__all__ = ["main"]
