"""Email in distributed mode, as an operator runs it: `relaydesk connector smtp`,
`relaydesk connector imap` and `relaydesk worker` processes on Redis and PostgreSQL,
a real Dovecot, smtplib as the sending MTA and an aiosmtpd sink as the relay."""

from __future__ import annotations

import re
import signal
import smtplib
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.dovecot import ImapAccount
from tests.support.mail_samples import email_bytes
from tests.support.processes import Background, migrated_env, run, wait_until
from tests.support.services import fresh_postgres_database
from tests.support.smtp_sink import SmtpSink

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SEEN = b"\\Seen"

CONFIG = """
[helpdesk]
name = "relaydesk test"
address = "support@desk.test"
default_team = "support"

[smtp]
transport = "smtp"
host = "127.0.0.1"
port = {relay_port}

[broker]
namespace = "{namespace}"

[email]
attachments_dir = "{files}"

[email.inbound_smtp]
host = "127.0.0.1"
port = 0
addresses = ["support@desk.test"]

[[email.mailboxes]]
name = "support"
host = "127.0.0.1"
port = {imap_port}
security = "none"
username = "{imap_user}"
password_env = "TEST_IMAP_PASSWORD"
address = "support@desk.test"
poll_interval_s = 0.5
reconnect_min_s = 0.2
reconnect_max_s = 2

[[teams]]
name = "support"

[[agents]]
name = "ana"
email = "ana@desk.test"
teams = ["support"]
status = "online"
"""


@pytest.fixture
def deployment(
    redis_url: str, tmp_path: Path, smtp_sink: SmtpSink, imap_mailbox: ImapAccount
) -> Iterator[dict[str, str]]:
    config = tmp_path / "relaydesk.toml"
    config.write_text(
        CONFIG.format(
            relay_port=smtp_sink.port,
            namespace=f"m{uuid.uuid4().hex[:8]}",
            files=tmp_path / "files",
            imap_port=imap_mailbox.server.port,
            imap_user=imap_mailbox.user,
        )
    )
    with fresh_postgres_database() as pg_url:
        env, _ = migrated_env(config, pg_url, redis_url, TEST_IMAP_PASSWORD=imap_mailbox.password)
        yield env


def _acknowledgement_to(sink: SmtpSink, address: str) -> str:
    """The subject of the acknowledgement the relay got for ``address``."""
    found = wait_until(
        lambda: [
            m for m in sink.messages if address in m.rcpt_tos and "[#" in m.message["Subject"]
        ],
        timeout=30,
        describe=lambda: f"no acknowledgement to {address}: {len(sink.messages)} mails",
    )
    assert isinstance(found, list) and found
    return str(found[0].message["Subject"])


def test_the_mail_connectors_and_a_worker_run_as_processes_and_stop_cleanly(
    deployment: dict[str, str], smtp_sink: SmtpSink, imap_mailbox: ImapAccount
) -> None:
    env = deployment
    worker = Background(["worker", "--processes", "1", "--threads", "2"], env)
    smtp = Background(["connector", "smtp"], env)
    imap = Background(["connector", "imap"], env)
    try:
        worker.wait_for_output("1 processes x 2 threads")
        smtp.wait_for_output("inbound SMTP on")
        listening = re.search(
            r"inbound SMTP on 127\.0\.0\.1:(\d+) for support@desk\.test", smtp.output()
        )
        assert listening is not None, smtp.output()
        imap.wait_for_output(f"IMAP support: {imap_mailbox.user}@127.0.0.1")

        by_smtp = email_bytes(sender="Jo <jo@example.org>", to="support@desk.test")
        with smtplib.SMTP("127.0.0.1", int(listening.group(1)), timeout=10) as client:
            assert client.sendmail("jo@example.org", ["support@desk.test"], by_smtp) == {}
            with pytest.raises(smtplib.SMTPRecipientsRefused):  # never an open relay
                client.sendmail("jo@example.org", ["someone@elsewhere.example"], by_smtp)
        assert "Printer on fire" in _acknowledgement_to(smtp_sink, "jo@example.org")

        imap_mailbox.append(
            email_bytes(sender="Kim <kim@example.org>", to="support@desk.test", subject="VPN")
        )
        assert "VPN" in _acknowledgement_to(smtp_sink, "kim@example.org")
        assert wait_until(lambda: SEEN in imap_mailbox.flags().get(1, ()), timeout=10)

        listed = run(["tickets", "list"], env)
        assert listed.returncode == 0 and "Printer on fire" in listed.stdout, listed.stderr
        assert "VPN" in listed.stdout
        status = run(["connector", "status"], env)
        assert status.returncode == 0 and "support" in status.stdout, status.stderr

        assert smtp.stop(signal.SIGTERM) == 0, smtp.output()
        assert imap.stop(signal.SIGTERM) == 0, imap.output()
        assert "Traceback" not in smtp.output() + imap.output()
        assert imap_mailbox.password not in imap.output()
    finally:
        smtp.kill_group()
        imap.kill_group()
        worker.stop()
