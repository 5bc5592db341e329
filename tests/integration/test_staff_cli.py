"""Staff accounts from the command line: passwords, API tokens, and ``--as`` in the audit log,
on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from store.db import Database
from store.models import Agent, ApiToken, AuditEvent
from tests.integration.test_cli import CONFIG, Customers, cli, cli_json, write_config
from workers.cli import main

# cheap hashes: the tests sign in often; the costs are the settings', not the code's
STAFF_CONFIG = (
    CONFIG
    + """
[staff]
argon2_time_cost = 1
argon2_memory_kib = 1024

[[agents]]
name = "sam"
email = "sam@desk.test"
role = "admin"
"""
)


@pytest.fixture
def config(database_url: str, tmp_path: Path) -> Path:
    path = write_config(tmp_path, database_url, STAFF_CONFIG)
    cli(path, "migrate")
    return path


def password_of(database_url: str, name: str) -> str | None:
    db = Database(database_url)
    with db.unit_of_work() as uow:
        found = uow.session.scalar(select(Agent.password_hash).where(Agent.name == name))
    db.dispose()
    return found


def events(database_url: str, action: str) -> list[AuditEvent]:
    db = Database(database_url)
    with db.unit_of_work() as uow:
        found = list(uow.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))
    db.dispose()
    return found


def test_a_password_read_from_stdin_is_kept_only_as_an_argon2_hash(
    config: Path, database_url: str
) -> None:
    result = CliRunner().invoke(
        main, ["--config", str(config), "agents", "password", "ana"], input="correct horse\n"
    )
    assert result.exit_code == 0, result.output
    assert "ana: password set" in result.output
    assert "correct horse" not in result.output
    stored = password_of(database_url, "ana")
    assert stored is not None and stored.startswith("$argon2id$")
    assert "correct horse" not in stored
    [event] = events(database_url, "agent.password_set")
    assert event.actor == "cli"


def test_a_short_password_or_an_unknown_agent_is_refused_clearly(
    config: Path, database_url: str
) -> None:
    short = CliRunner().invoke(
        main, ["--config", str(config), "agents", "password", "ana"], input="short\n"
    )
    assert short.exit_code == 1
    assert "at least 10 characters" in short.output
    assert password_of(database_url, "ana") is None
    unknown = CliRunner().invoke(
        main, ["--config", str(config), "agents", "password", "zed"], input="long enough pw\n"
    )
    assert unknown.exit_code == 1
    assert "no agent named 'zed'" in unknown.output


def test_a_token_is_printed_once_stored_hashed_listed_by_hint_and_revoked(
    config: Path, database_url: str
) -> None:
    made = cli_json(
        config, "tokens", "create", "--agent", "ana", "--expires", "30d", "--name", "crm"
    )
    secret = made["token"]
    assert secret.startswith("rdk_") and len(secret) > 40
    assert (made["agent"], made["role"], made["name"]) == ("ana", "agent", "crm")
    assert made["expires_at"] is not None
    listed = cli(config, "tokens", "list").stdout
    assert made["hint"] in listed and secret not in listed
    assert "never" in listed  # never used yet
    db = Database(database_url)
    with db.unit_of_work() as uow:
        row = uow.session.scalars(select(ApiToken)).one()
        assert secret not in (row.secret_hash, row.hint)
    db.dispose()
    assert "revoked" in cli(config, "tokens", "revoke", str(made["id"])).stdout
    [entry] = cli_json(config, "tokens", "list")
    assert entry["revoked_at"] is not None
    assert [e.detail for e in events(database_url, "token.revoked")] == [
        f"token {made['id']} revoked"
    ]


def test_a_token_wider_than_its_agent_or_with_a_bad_lifetime_is_refused(config: Path) -> None:
    wider = cli(config, "tokens", "create", "--agent", "ana", "--role", "admin", ok=False)
    assert "ana is agent: a token for them may not be admin" in wider.output
    bad = cli(config, "tokens", "create", "--agent", "ana", "--expires", "soon", ok=False)
    assert "e.g. 90m, 12h, 30d" in bad.output
    narrower = cli_json(config, "tokens", "create", "--agent", "sam", "--role", "supervisor")
    assert narrower["role"] == "supervisor"
    assert cli_json(config, "tokens", "create", "--agent", "sam")["role"] == "admin"


def test_the_command_lines_as_is_recorded_as_a_claim_in_the_audit_log(
    config: Path, database_url: str
) -> None:
    desk = Customers(config)
    try:
        number = desk.write("vpn")
    finally:
        desk.runtime.close()
    cli(config, "tickets", "reply", str(number), "On it.", "--as", "ana", "--status", "pending")
    [replied] = events(database_url, "message.replied")
    assert replied.actor == "agent:ana"
    assert replied.data["origin"] == {"via": "cli", "claimed_as": "ana"}
    status_moves = [e for e in events(database_url, "ticket.status") if e.ticket_id == number]
    assert status_moves[-1].data["origin"]["claimed_as"] == "ana"
    shown = cli(config, "tickets", "show", str(number)).stdout
    assert "agent:ana (cli --as)" in shown
