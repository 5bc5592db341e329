"""``relaydesk webhooks ...`` on SQLite and PostgreSQL: the command line's rows are delivered
by the running desk (here: a desk in the test, as `relaydesk serve` would be)."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import load_settings
from tests.integration.test_cli import CONFIG, cli, cli_json, write_config
from tests.support.desk import desk_for
from tests.support.webhook_receiver import webhook_receiver
from workers.runtime.scheduler import Scheduler

pytestmark = pytest.mark.integration

ALLOWED = CONFIG + "\n[webhooks]\nallow_private_networks = true\n"


@pytest.fixture
def config(database_url: str, tmp_path: Path) -> Path:
    path = write_config(tmp_path, database_url, ALLOWED)
    cli(path, "migrate")
    return path


def test_an_admin_adds_tests_reads_pauses_resumes_and_removes_a_webhook(config: Path) -> None:
    secret = "whsec_" + "c2VjcmV0IHNlY3JldCBzZWNyZXQgc2VjcmV0IQ=="
    with webhook_receiver(secret) as receiver:
        made = cli_json(
            config, "webhooks", "add", receiver.url, "--event", "ticket.created",
            "--event", "sla.breached", "--secret", secret, "--description", "crm",
        )  # fmt: skip
        assert made["secret"] == secret and made["events"] == ["ticket.created", "sla.breached"]
        hook = str(made["id"])
        [listed] = cli_json(config, "webhooks", "list")
        assert "secret" not in listed and listed["active"] is True
        assert "queued" in cli(config, "webhooks", "test", hook).output
        [pending] = cli_json(config, "webhooks", "deliveries", hook)
        assert (pending["event_type"], pending["state"]) == ("webhook.test", "pending")
        refused = cli(config, "webhooks", "redeliver", str(pending["id"]), ok=False)
        assert "under way" in refused.output

        # the running desk's scheduler finds the row the command line left for it
        for desk in desk_for(load_settings(str(config))):
            Scheduler(desk.runtime).sweep()
            desk.settle()
        [got] = receiver.wait_for(1)
        assert got.verified and got.payload["type"] == "webhook.test"
        [done] = cli_json(config, "webhooks", "deliveries", hook, "--state", "done")
        assert (done["attempts"], done["last_status"]) == (1, 204)
        assert "queued again" in cli(config, "webhooks", "redeliver", str(done["id"])).output

    cli(config, "webhooks", "pause", hook, "--reason", "CRM upgrade")
    [paused] = cli_json(config, "webhooks", "list")
    assert paused["active"] is False and "CRM upgrade" in paused["paused_reason"]
    cli(config, "webhooks", "resume", hook)
    assert cli_json(config, "webhooks", "list")[0]["active"] is True
    cli(config, "webhooks", "remove", hook)
    assert cli_json(config, "webhooks", "list") == []
    assert "no webhook" in cli(config, "webhooks", "test", hook, ok=False).output


def test_a_generated_secret_is_printed_once_and_bad_subscriptions_are_refused(
    config: Path, tmp_path: Path, database_url: str
) -> None:
    made = cli(config, "webhooks", "add", "https://93.184.216.34/h", "--event", "ticket.created")
    secret = made.stdout.splitlines()[1]
    assert secret.startswith("whsec_") and "shown this once" in made.stderr
    assert secret not in cli(config, "webhooks", "list").output
    bad_event = cli(config, "webhooks", "add", "https://93.184.216.34/", "--event", "x", ok=False)
    assert "ticket.created" in bad_event.output
    bad_secret = cli(
        config, "webhooks", "add", "https://93.184.216.34/", "--event", "ticket.created",
        "--secret", "hunter2", ok=False,
    )  # fmt: skip
    assert "whsec_" in bad_secret.output
    strict = write_config(tmp_path, database_url, CONFIG)  # no private networks allowed
    inside = cli(
        strict, "webhooks", "add", "http://127.0.0.1/", "--event", "ticket.created", ok=False
    )
    assert "loopback" in inside.output
