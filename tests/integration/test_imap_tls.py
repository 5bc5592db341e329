"""IMAP over TLS against a real Dovecot: IMAPS (port 993's way), STARTTLS, and a
certificate that cannot be verified reported clearly instead of trusted."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from connectors.email.imap import ImapPoller
from router.errors import PermanentError, TransientError
from tests.support.dovecot import Dovecot, ImapAccount
from tests.support.imap_fakes import MemoryState, RecordingSink
from tests.support.mail_samples import email_bytes
from tests.support.tls import self_signed

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def tls_dovecot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Dovecot, str]]:
    cert, key = self_signed(tmp_path_factory.mktemp("imap-tls"))
    with Dovecot(tls=(cert, key)) as server:
        yield server, cert


@pytest.fixture
def account(tls_dovecot: tuple[Dovecot, str]) -> ImapAccount:
    server, _cert = tls_dovecot
    return server.new_account()


def _poll(account: ImapAccount, **settings: Any) -> tuple[RecordingSink, MemoryState, int]:
    sink, state = RecordingSink(), MemoryState()
    poller = ImapPoller(account.settings(**settings), sink, state)
    try:
        return sink, state, poller.poll_once()
    finally:
        poller.stop()


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_a_mailbox_is_read_over_tls_verified_against_its_ca_file(
    tls_dovecot: tuple[Dovecot, str], account: ImapAccount, security: str
) -> None:
    server, cert = tls_dovecot
    account.append(email_bytes(subject="over TLS"))
    port = server.tls_port if security == "ssl" else server.port
    sink, state, delivered = _poll(account, security=security, port=port, ca_file=cert)
    assert delivered == 1 and b"over TLS" in sink.delivered[0][3]
    assert state.last_report("support") is None


def test_a_certificate_that_cannot_be_verified_is_reported_and_nothing_is_read(
    tls_dovecot: tuple[Dovecot, str], account: ImapAccount
) -> None:
    server, _cert = tls_dovecot
    account.append(email_bytes(subject="not over a forged connection"))
    sink, state = RecordingSink(), MemoryState()
    settings = account.settings(security="ssl", port=server.tls_port)  # the system's CAs only
    poller = ImapPoller(settings, sink, state)
    with pytest.raises((TransientError, PermanentError)):
        poller.poll_once()
    assert sink.delivered == []
    report = state.last_report("support") or ""
    assert "certificate" in report.lower() and "verif" in report.lower(), report


def test_verify_tls_off_reads_a_self_signed_server_without_its_ca(
    tls_dovecot: tuple[Dovecot, str], account: ImapAccount
) -> None:
    server, _cert = tls_dovecot
    account.append(email_bytes(subject="trusted by configuration"))
    sink, _state, delivered = _poll(account, security="ssl", port=server.tls_port, verify_tls=False)
    assert delivered == 1 and b"trusted by configuration" in sink.delivered[0][3]


def test_a_missing_ca_file_is_a_clear_error_naming_it(account: ImapAccount) -> None:
    with pytest.raises(PermanentError, match=r"cannot load ca_file '/nowhere/ca\.pem'"):
        _poll(account, security="ssl", ca_file="/nowhere/ca.pem")
