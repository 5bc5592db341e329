"""Fixtures for a test Dovecot; import them where needed (``conftest.py`` or a test module)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.dovecot import Dovecot, ImapAccount


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    """One private Dovecot for the session (skipped without Dovecot, unless ``CI`` is set)."""
    with Dovecot() as server:
        yield server


@pytest.fixture
def imap_mailbox(dovecot: Dovecot) -> ImapAccount:
    """A new user with an empty INBOX on the session's Dovecot (restarted if a test stopped it)."""
    dovecot.start()
    return dovecot.new_account()
