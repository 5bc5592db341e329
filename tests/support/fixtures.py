"""Reusable pytest fixtures; ``conftest.py`` imports the ones it wants."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.smtp_sink import SmtpSink


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """A running SMTP server on loopback that collects what it receives."""
    with SmtpSink() as sink:
        yield sink
