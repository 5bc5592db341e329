"""Embedded mode end to end: `relaydesk serve` as a real process, HTTP in, SMTP out."""

from __future__ import annotations

import json
import signal
import smtplib
import subprocess
import sys
from email import message_from_bytes, policy
from pathlib import Path

import httpx
import pytest

from tests.support.mail_samples import email_bytes
from tests.support.processes import Background, relaydesk_env, run, wait_until
from tests.support.services import free_port
from tests.support.smtp_sink import SmtpSink
from tests.support.web_fakes import form_fields

pytestmark = pytest.mark.integration

CONFIG = """
database_url = "sqlite:///{db}"

[helpdesk]
name = "Acme Support"
address = "support@acme.test"

[web]
port = {port}

[smtp]
transport = "smtp"
host = "127.0.0.1"
port = {smtp_port}

[[teams]]
name = "support"

[[agents]]
name = "ana"
display_name = "Ana Lima"
email = "ana@acme.test"
teams = ["support"]
capacity = 2
status = "online"
"""


def test_serve_takes_a_web_request_to_an_acknowledged_assigned_ticket_and_stops_cleanly(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    port = free_port()
    config = tmp_path / "relaydesk.toml"
    config.write_text(CONFIG.format(db=tmp_path / "desk.db", port=port, smtp_port=smtp_sink.port))
    env = relaydesk_env(config)
    serve = Background(["serve"], env, cwd=tmp_path)
    try:
        serve.wait_for_output("Press Ctrl-C to stop.")
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: _healthy(base), 15, serve.output)
        response = httpx.post(
            f"{base}/api/v1/tickets",
            json={
                "requester": {"name": "Jo Park", "email": "jo@example.org"},
                "subject": "Cannot log in",
                "body": "The login page says my password expired.",
                "priority": "high",
            },
            timeout=10,
        )
        assert response.status_code == 201, response.text
        created = response.json()
        number = created["ticket_number"]
        mails = smtp_sink.wait_for(2, timeout=15)
        ticket = httpx.get(f"{base}{created['ticket_url']}", timeout=5).json()
        assert httpx.get(f"{base}/api/v1/tickets/{number}", timeout=5).status_code == 404
    finally:
        code = serve.stop(signal.SIGTERM)
    assert code == 0, serve.output()
    assert "web intake   http://127.0.0.1:" in serve.output()
    assert "relaydesk: stopped" in serve.output()
    by_rcpt = {m.rcpt_tos[0]: m.message for m in mails}
    ack, notice = by_rcpt["jo@example.org"], by_rcpt["ana@acme.test"]
    assert f"[#{number}]" in ack["Subject"] and ack["Auto-Submitted"] == "auto-replied"
    assert f"[#{number}]" in notice["Subject"] and "(high)" in notice["Subject"]
    body = notice.get_body(("plain",))
    assert body is not None and "password expired" in body.get_content()
    assert ticket["status"] == "open" and ticket["assignee"] == "ana"
    assert ticket["priority"] == "high"

    listed = run(["tickets", "list", "--json"], env)
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)[0]["number"] == number


def _healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_serve_without_a_config_file_runs_the_demo_and_writes_mail_to_files(
    tmp_path: Path,
) -> None:
    port, smtp_port = free_port(), free_port()
    env = relaydesk_env(
        tmp_path / "unused.toml",
        RELAYDESK_WEB__PORT=str(port),
        RELAYDESK_EMAIL__INBOUND_SMTP__PORT=str(smtp_port),
    )
    del env["RELAYDESK_CONFIG"]
    serve = Background(["serve"], env, cwd=tmp_path)
    try:
        serve.wait_for_output("Press Ctrl-C to stop.")
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: _healthy(base), 15, serve.output)
        browser = httpx.Client(timeout=10)  # keeps the form's cookie, as a browser does
        form = browser.get(base)
        assert form.status_code == 200 and "<form" in form.text
        response = browser.post(
            base,
            data={
                "name": "Jo",
                "email": "jo@example.org",
                "subject": "Invoice twice",
                "category": "billing",
                "priority": "normal",
                "message": "I was charged twice.",
                **form_fields(form.text),
            },
        )
        browser.close()
        assert response.status_code == 201, response.text
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as client:
            client.sendmail(
                "kim@example.org",
                ["support@relaydesk.localhost"],
                email_bytes(sender="Kim <kim@example.org>", subject="Mail works too"),
            )
        readme_mail = subprocess.run(
            [sys.executable, "-c", _readme_mail_snippet(smtp_port)], timeout=30, check=False
        )
        assert readme_mail.returncode == 0
        outbox = tmp_path / "relaydesk-outbox"
        wait_until(lambda: len(list(outbox.glob("*.eml"))) >= 6, 15, serve.output)
    finally:
        assert serve.stop(signal.SIGINT) == 0, serve.output()
    assert f"inbound SMTP on 127.0.0.1:{smtp_port}" in serve.output()
    assert (tmp_path / "relaydesk.db").exists()
    mails = [
        message_from_bytes(p.read_bytes(), policy=policy.default) for p in outbox.glob("*.eml")
    ]
    subjects = [m["Subject"] for m in mails]
    assert any(s.startswith("Assigned: [#1] Invoice twice") for s in subjects), subjects
    assert "[#2] Mail works too" in subjects, subjects
    (ack,) = [m for m in mails if m["Subject"] == "[#3] VPN down"]
    assert ack["In-Reply-To"].endswith("@example.org>"), "the README's mail threads as it says"
    assert ack["References"] == ack["In-Reply-To"]


def _readme_mail_snippet(port: int) -> str:
    """The README's mail example, as a user runs it, sent to ``port``."""
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    code = readme.split("python3 - <<'MAIL'\n", 1)[1].split("\nMAIL\n", 1)[0]
    assert '("127.0.0.1", 2525)' in code
    return code.replace('("127.0.0.1", 2525)', f'("127.0.0.1", {port})')
