"""The ``relaydesk`` command line, in-process through click, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import shlex
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from config import load_settings
from router.envelopes import InboundMessage
from router.vocabulary import Channel, RowState
from store.db import Database
from store.models import AuditEvent, Message
from tests.support.services import fresh_postgres_database
from workers.channels.intake import StoreIntake
from workers.channels.mail_intake import InboundMail
from workers.cli import main
from workers.runtime.build import build_runtime
from workers.runtime.context import Runtime
from workers.steps.deliver import deliver
from workers.steps.ingest import ingest
from workers.steps.route import route

CONFIG = """\
database_url = "{url}"
broker_url = "stub://"

[smtp]
transport = "file"
file_dir = "{outbox}"

[[teams]]
name = "support"

[[teams]]
name = "billing"

[[agents]]
name = "ana"
email = "ana@desk.test"
teams = ["support"]
capacity = 2
status = "online"
"""


def write_config(tmp_path: Path, url: str, text: str = CONFIG) -> Path:
    path = tmp_path / "relaydesk.toml"
    path.write_text(text.format(url=url, outbox=tmp_path / "outbox"))
    return path


def cli(config: Path, *args: str, ok: bool = True) -> Result:
    result = CliRunner().invoke(main, ["--config", str(config), *args])
    assert (result.exit_code == 0) is ok, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def cli_json(config: Path, *args: str) -> Any:
    return json.loads(cli(config, *args, "--json").stdout)


def agent(config: Path, name: str) -> dict[str, Any]:
    return next(a for a in cli_json(config, "agents", "list") if a["name"] == name)


def ticket(config: Path, number: int) -> dict[str, Any]:
    return cli_json(config, "tickets", "show", str(number))


@pytest.fixture
def config(database_url: str, tmp_path: Path) -> Path:
    """A new user's setup: a config file, then ``relaydesk migrate``."""
    path = write_config(tmp_path, database_url)
    cli(path, "migrate")
    return path


@pytest.fixture
def unmigrated_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'new.db'}"
    else:
        with fresh_postgres_database() as url:
            yield url


class Customers:
    """Customers writing in through the real intake, ingest, route and deliver steps."""

    def __init__(self, config: Path) -> None:
        self.runtime: Runtime = build_runtime(load_settings(config), pool_size=2)
        self.intake = StoreIntake(self.runtime)

    def write(self, subject: str = "help", body: str = "it is broken", **more: Any) -> int:
        sender = f"{subject.replace(' ', '-')}@example.org"
        message = InboundMessage(Channel.WEB, uuid.uuid4().hex, sender, body, subject, "Cy", **more)
        receipt = self.intake.accept(message)
        ingest(self.runtime, receipt.inbox_id)
        done = self.intake.receipt(receipt.inbox_id)
        assert done is not None and done.ticket_number is not None
        route(self.runtime, done.ticket_number)
        with self.runtime.db.unit_of_work() as uow:
            pending = [o.id for o in uow.outbox.recent(state=RowState.PENDING, limit=1000)]
        for outbox_id in pending:
            deliver(self.runtime, outbox_id)
        return done.ticket_number


@pytest.fixture
def customers(config: Path) -> Iterator[Customers]:
    desk = Customers(config)
    yield desk
    desk.runtime.close()


def audit_details(database_url: str, action: str) -> list[str]:
    db = Database(database_url)
    with db.engine.connect() as conn:
        details = list(conn.scalars(select(AuditEvent.detail).where(AuditEvent.action == action)))
    db.dispose()
    return details


def test_a_command_on_an_unmigrated_database_says_to_run_migrate(
    unmigrated_url: str, tmp_path: Path
) -> None:
    result = cli(write_config(tmp_path, unmigrated_url), "agents", "list", ok=False)
    assert result.exit_code == 1
    assert "run `relaydesk migrate`" in result.stderr


def test_migrate_applies_the_schema_and_creates_the_configured_team_and_agents_once(
    unmigrated_url: str, tmp_path: Path
) -> None:
    path = write_config(tmp_path, unmigrated_url)
    first = cli(path, "migrate").stdout
    assert "database at revision" in first
    assert "team support created" in first and "agent ana created" in first
    assert agent(path, "ana")["status"] == "online"
    cli(path, "agents", "status", "ana", "away")
    again = cli(path, "migrate").stdout
    assert "database at revision" in again and "created" not in again
    assert [a["name"] for a in cli_json(path, "agents", "list")] == ["ana"]
    assert agent(path, "ana")["status"] == "away"  # the agent's own status is kept


def test_an_added_agent_is_listed_with_load_capacity_teams_and_skills(config: Path) -> None:
    added = cli(config, "agents", "add", "bo", "--email", "bo@desk.test", "--team", "support")
    assert "agent bo added" in added.stdout
    add_cy = "agents add cy --email cy@desk.test --team support --team billing --capacity 3"
    cli(config, *shlex.split(add_cy + " --skill billing=3 --skill english=5 --status online"))
    cy = agent(config, "cy")
    assert (cy["status"], cy["load"], cy["capacity"]) == ("online", 0, 3)
    assert cy["teams"] == ["billing", "support"]
    assert cy["skills"] == {"billing": 3, "english": 5}
    assert agent(config, "bo")["status"] == "offline"
    table = cli(config, "agents", "list").stdout
    assert "cy" in table and "0/3" in table and "billing,support" in table


def test_adding_an_agent_whose_name_is_taken_fails_clearly(config: Path) -> None:
    result = cli(config, "agents", "add", "ana", "--email", "a2@desk.test", ok=False)
    assert result.exit_code == 1
    assert "'ana' exists already" in result.stderr


def test_adding_an_agent_to_an_unknown_team_or_with_a_bad_name_is_refused(config: Path) -> None:
    typo = cli(
        config, "agents", "add", "dee", "--email", "d@desk.test", "--team", "suport", ok=False
    )
    assert typo.exit_code == 1 and "unknown team(s) suport" in typo.stderr
    spaced = cli(config, "agents", "add", "d e", "--email", "d@desk.test", ok=False)
    assert spaced.exit_code == 1 and "name" in spaced.stderr
    assert "dee" not in cli(config, "agents", "list").stdout


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--skill", "billing"),
        ("--skill", "billing=9"),
        ("--skill", "=3"),
        ("--email", "nobody"),
        ("--email", "Zed <zed@desk.test>"),  # what config rejects, the command line rejects
    ],
)
def test_a_bad_skill_or_email_is_rejected_naming_the_option(
    config: Path, option: str, value: str
) -> None:
    args = ["--email", "x@desk.test"] if option == "--skill" else []
    result = cli(config, "agents", "add", "zed", *args, option, value, ok=False)
    assert result.exit_code == 2
    assert option in result.stderr and repr(value) in result.stderr
    assert "zed" not in [a["name"] for a in cli_json(config, "agents", "list")]


def test_agent_status_is_shown_then_changed_with_an_audit_event(
    config: Path, database_url: str
) -> None:
    assert cli(config, "agents", "status", "ana").stdout.strip() == "ana: online, load 0/2"
    assert cli(config, "agents", "status", "ana", "away").stdout.strip() == "ana: online -> away"
    assert "ana: away" in cli(config, "agents", "status", "ana").stdout
    assert audit_details(database_url, "agent.status") == ["ana: online -> away"]


def test_the_status_of_an_unknown_agent_is_a_clear_error(config: Path) -> None:
    for args in (["nobody"], ["nobody", "online"]):
        result = cli(config, "agents", "status", *args, ok=False)
        assert result.exit_code == 1 and "no agent named 'nobody'" in result.stderr


def test_tickets_are_listed_filtered_and_shown_with_messages_deliveries_and_audit(
    config: Path, customers: Customers
) -> None:
    cli(config, *shlex.split("agents add bo --email bo@desk.test --team support"))  # offline
    first = customers.write("Printer on fire", "smoke everywhere")
    second = customers.write("Lost password")
    table = cli(config, "tickets", "list").stdout
    assert "Printer on fire" in table and "Lost password" in table
    listed = cli_json(config, "tickets", "list", "--status", "open")
    assert [t["number"] for t in listed] == [second, first]
    assert {t["assignee"] for t in listed} == {"ana"}
    assert "Printer on fire" in cli(config, "tickets", "list", "--assignee", "ana").stdout
    assert cli_json(config, "tickets", "list", "--assignee", "bo") == []

    text = cli(config, "tickets", "show", str(first)).stdout
    assert f"Ticket #{first}: Printer on fire" in text and "assignee ana" in text
    assert "smoke everywhere" in text
    assert "acknowledgement" in text and "ana@desk.test" in text  # deliveries
    assert "ticket.created" in text and "ticket.assigned" in text  # audit log

    shown = ticket(config, first)
    assert shown["ticket"]["status"] == "open" and shown["ticket"]["assignee"] == "ana"
    assert "access_key" not in shown["ticket"] and "access_key" not in listed[0]  # requester's
    assert shown["ticket"]["messages"][0]["body_text"] == "smoke everywhere"
    assert {o["state"] for o in shown["outbox"]} == {"done"}
    assert {o["kind"] for o in shown["outbox"]} >= {"assignment"}
    assert "ticket.assigned" in [e["action"] for e in shown["audit"]]


def test_a_tickets_form_and_fields_are_shown_whatever_its_first_message_says(
    config: Path, customers: Customers
) -> None:
    details = "\n".join(f"line {i}" for i in range(30))  # more than the message shows
    fields = {"device": "printer", "reasons": ["late", "broken"], "amount": 12.5}
    number = customers.write("IT fault", details, template="it-fault", custom_fields=fields)
    plain = customers.write("Lost password")

    text = cli(config, "tickets", "show", str(number)).stdout
    shown = text[text.index("Fields (form it-fault):") : text.index("Messages:")]
    assert shown.splitlines()[1:4] == ["  amount: 12.5", "  device: printer",
                                       "  reasons: late, broken"]  # fmt: skip
    assert ticket(config, number)["ticket"]["form"] == "it-fault"
    assert ticket(config, number)["ticket"]["custom_fields"] == fields
    assert "Fields" not in cli(config, "tickets", "show", str(plain)).stdout
    assert ticket(config, plain)["ticket"]["form"] is None


def test_a_tickets_times_say_their_zone_and_show_in_the_readers_zone_when_given(
    config: Path, customers: Customers
) -> None:
    number = customers.write("Clock check")
    created = datetime.fromisoformat(ticket(config, number)["ticket"]["created_at"])
    text = cli(config, "tickets", "show", str(number)).stdout
    assert f"created {created.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC," in text
    berlin = created.astimezone(ZoneInfo("Europe/Berlin"))
    offset = f"{berlin:%z}"
    local = f"{berlin:%Y-%m-%d %H:%M:%S} {berlin.tzname()} (UTC{offset[:3]}:{offset[3:]})"
    shown = cli(config, "tickets", "show", str(number), "--tz", "Europe/Berlin").stdout
    assert f"created {local}," in shown and f"[{local}]" in shown  # messages and audit too
    refused = cli(config, "tickets", "show", str(number), "--tz", "Mars/Olympus", ok=False)
    assert refused.exit_code == 2 and "unknown time zone 'Mars/Olympus'" in refused.stderr


def test_showing_or_moving_an_unknown_ticket_is_a_clear_error(config: Path) -> None:
    for args in (["show", "999"], ["show", "999", "--json"], ["status", "999", "resolved"]):
        result = cli(config, "tickets", *args, ok=False)
        assert result.exit_code == 1 and "no ticket #999" in result.stderr


def test_resolving_a_ticket_frees_the_agents_slot_and_keeps_the_reason(
    config: Path, customers: Customers
) -> None:
    number = customers.write("Refund please")
    assert agent(config, "ana")["load"] == 1
    moved = cli(config, "tickets", "status", str(number), "resolved", "--reason", "refund sent")
    assert moved.stdout.strip() == f"#{number}: open -> resolved"
    assert agent(config, "ana")["load"] == 0
    shown = ticket(config, number)
    assert shown["ticket"]["status"] == "resolved" and shown["ticket"]["resolved_at"]
    moves = [e["detail"] for e in shown["audit"] if e["action"] == "ticket.status"]
    assert moves[-1] == "open -> resolved: refund sent"


def test_a_transition_the_lifecycle_forbids_fails_with_its_message(
    config: Path, customers: Customers
) -> None:
    number = customers.write()
    cli(config, "tickets", "status", str(number), "closed")
    result = cli(config, "tickets", "status", str(number), "open", ok=False)
    assert result.exit_code == 1
    assert "a closed ticket cannot become open (allowed: none)" in result.stderr
    assert ticket(config, number)["ticket"]["status"] == "closed"


def test_a_waiting_ticket_is_assigned_inline_when_a_slot_frees(
    config: Path, customers: Customers
) -> None:
    taken = [customers.write("one"), customers.write("two")]  # ana: 2/2
    waiting = customers.write("three")
    assert ticket(config, waiting)["ticket"]["assignee"] is None
    cli(config, "tickets", "status", str(taken[0]), "resolved")
    assert ticket(config, waiting)["ticket"]["assignee"] == "ana"
    assert agent(config, "ana")["load"] == 2


def test_a_waiting_ticket_is_assigned_inline_when_its_agent_comes_online(
    config: Path, customers: Customers
) -> None:
    cli(config, "agents", "status", "ana", "offline")
    waiting = customers.write()
    actions = [e["action"] for e in ticket(config, waiting)["audit"]]
    assert "ticket.waiting" in actions and "ticket.assigned" not in actions
    cli(config, "agents", "status", "ana", "online")
    shown = ticket(config, waiting)
    assert shown["ticket"]["assignee"] == "ana" and shown["ticket"]["status"] == "open"


def test_a_failed_inbox_row_is_listed_with_its_error_and_can_be_retried_once(
    config: Path, customers: Customers
) -> None:
    runtime = customers.runtime
    message = InboundMessage(Channel.WEB, "bad", "x@y.z", body_text="")
    with runtime.db.unit_of_work() as uow:
        accepted = uow.inbox.accept(message, now=runtime.now(), redrive_after=runtime.redrive_after)
        inbox_id = accepted.inbox_id
        uow.inbox.get(inbox_id).payload = {"channel": "web"}  # type: ignore[union-attr]
    runtime.ingest_actors[Channel.WEB].fn(inbox_id)  # the actor's body: unreadable, failed
    customers.write("fine")  # a done row, not listed as failed

    (row,) = cli_json(config, "inbox", "list", "--state", "failed")
    assert row["id"] == inbox_id and "unreadable inbox payload" in row["error"]
    table = cli(config, "inbox", "list", "--state", "failed").stdout
    assert "failed" in table and "unreadable inbox payload" in table

    retried = cli(config, "inbox", "retry", str(inbox_id)).stdout
    assert f"inbox row {inbox_id} queued again" in retried
    assert cli_json(config, "inbox", "list", "--state", "failed") == []
    assert [r["id"] for r in cli_json(config, "inbox", "list", "--state", "pending")] == [inbox_id]
    for again in (str(inbox_id), "999"):
        result = cli(config, "inbox", "retry", again, ok=False)
        assert result.exit_code == 1 and f"inbox row {again} is not a failed row" in result.stderr


def test_a_quiet_inbox_row_is_listed_with_why_it_is_quiet(
    config: Path, customers: Customers
) -> None:
    runtime = customers.runtime
    vacation = (
        b"From: Bo <bo@example.org>\r\nTo: support@relaydesk.localhost\r\n"
        b"Subject: Out of office\r\nMessage-ID: <oof-1@example.org>\r\n"
        b"Auto-Submitted: auto-replied\r\n\r\nBack on Monday.\r\n"
    )
    inbox_id = InboundMail(runtime).accept(vacation, recipients=(), source="smtp")
    ingest(runtime, inbox_id)

    (row,) = cli_json(config, "inbox", "list", "--state", "quiet")
    assert row["id"] == inbox_id and row["why"] == "Auto-Submitted: auto-replied"
    assert row["error"] is None
    table = cli(config, "inbox", "list", "--state", "quiet").stdout
    assert "quiet" in table and "Auto-Submitted: auto-replied" in table


def test_a_failed_delivery_is_listed_with_its_error_and_can_be_sent_again(
    config: Path, customers: Customers
) -> None:
    number = customers.write("bounced")
    runtime = customers.runtime
    with runtime.db.unit_of_work() as uow:
        outbox_id = uow.outbox.recent(ticket_id=number)[-1].id  # the acknowledgement
        uow.outbox.get(outbox_id).state = "sending"  # type: ignore[union-attr]
    with runtime.db.unit_of_work() as uow:
        uow.outbox.mark_failed_attempt(
            outbox_id,
            error="550 mailbox unavailable",
            permanent=True,
            max_attempts=8,
            now=runtime.now(),
            retry_after=runtime.redrive_after,
        )

    (row,) = cli_json(config, "outbox", "list", "--state", "failed")
    assert row["id"] == outbox_id and row["error"] == "550 mailbox unavailable"
    assert (
        "550 mailbox unavailable" in cli(config, "outbox", "list", "--ticket", str(number)).stdout
    )

    assert (
        f"outbox row {outbox_id} queued again"
        in cli(config, "outbox", "retry", str(outbox_id)).stdout
    )
    assert cli_json(config, "outbox", "list", "--state", "failed") == []
    (again,) = [r for r in cli_json(config, "outbox", "list", "--state", "pending")]
    assert again["id"] == outbox_id and again["attempts"] == 0
    assert "outbox.retry" in cli(config, "tickets", "show", str(number)).stdout
    result = cli(config, "outbox", "retry", str(outbox_id), ok=False)
    assert result.exit_code == 1 and "is not a failed row" in result.stderr


SECRETS = ("hunter2", "s3cret", "dbpass")
WITH_SECRETS = """\
database_url = "{database}"
broker_url = "{broker}"

[smtp]
host = "mail.example.org"
password = "hunter2"
{extra}
"""
IN_USERINFO = {
    "database": "postgresql+psycopg://desk:dbpass@127.0.0.1:5432/desk",
    "broker": "redis://:s3cret@127.0.0.1:6379/0",
}
IN_QUERY = {  # libpq and redis-py take the password as a query parameter too
    "database": "postgresql+psycopg://desk@127.0.0.1:5432/desk?password=dbpass",
    "broker": "redis://127.0.0.1:6379/0?password=s3cret",
}


@pytest.mark.parametrize("urls", [IN_USERINFO, IN_QUERY], ids=["in-userinfo", "in-query"])
def test_config_check_on_a_good_file_says_ok_without_echoing_secrets(
    tmp_path: Path, urls: dict[str, str]
) -> None:
    path = tmp_path / "good.toml"
    path.write_text(WITH_SECRETS.format(extra="", **urls))
    result = CliRunner().invoke(main, ["config", "check", str(path)])
    assert result.exit_code == 0, result.output
    assert f"{path}: ok" in result.stdout and "mail.example.org" in result.stdout
    assert "127.0.0.1:5432/desk" in result.stdout and "127.0.0.1:6379/0" in result.stdout
    assert not any(secret in result.output for secret in SECRETS)


def test_config_check_names_the_outbox_directory_of_mail_written_to_files(
    tmp_path: Path,
) -> None:
    path = tmp_path / "files.toml"
    path.write_text(CONFIG.format(url="sqlite:///x.db", outbox=tmp_path))
    result = CliRunner().invoke(main, ["config", "check", str(path)])
    assert result.exit_code == 0, result.output
    assert f"smtp      file: .eml files in {tmp_path}/" in result.stdout
    assert "127.0.0.1:25" not in result.stdout  # no relay is used


def test_config_check_warns_when_answers_to_our_mail_would_not_come_back(
    tmp_path: Path,
) -> None:
    mailbox = (
        '[[email.mailboxes]]\nname = "support"\nusername = "u"\naddress = "help@example.com"\n'
    )
    path = tmp_path / "mailbox.toml"
    path.write_text(CONFIG.format(url="sqlite:///x.db", outbox=tmp_path) + mailbox)
    result = CliRunner().invoke(main, ["config", "check", str(path)])
    assert result.exit_code == 0, result.output  # a warning, not a problem
    assert "warning   helpdesk.address support@relaydesk.localhost" in result.stdout
    assert "(help@example.com)" in result.stdout
    fixed = path.read_text().replace("[smtp]", '[helpdesk]\naddress = "help@example.com"\n\n[smtp]')
    path.write_text(fixed)
    assert "warning" not in CliRunner().invoke(main, ["config", "check", str(path)]).stdout


def test_config_check_on_a_bad_file_exits_2_with_each_problem_and_its_key_path(
    tmp_path: Path,
) -> None:
    bad = '[web]\nport = 70000\n[helpdesk]\ndefault_priority = "asap"\n'
    bad += '[[agents]]\nname = "ana"\nemail = "nope"\n'
    path = tmp_path / "bad.toml"
    path.write_text(WITH_SECRETS.format(extra=bad, **IN_USERINFO))
    result = CliRunner().invoke(main, ["--config", str(path), "config", "check"])
    assert result.exit_code == 2 and result.stdout == ""
    assert f"{path}: 3 problem(s)" in result.stderr
    for key in ("web.port:", "helpdesk.default_priority:", "agents.0.email: not an email"):
        assert f"  {key}" in result.stderr
    assert not any(secret in result.output for secret in SECRETS)


def test_migrate_on_a_postgres_database_that_does_not_exist_says_so_clearly(
    tmp_path: Path,
) -> None:
    from tests.support.services import require

    require("PostgreSQL", "127.0.0.1", 5432)
    config = tmp_path / "missing.toml"
    config.write_text(
        'database_url = "postgresql+psycopg://postgres:pw@127.0.0.1:5432/relaydesk_nowhere"\n'
    )
    result = cli(config, "migrate", ok=False)
    assert result.exit_code == 1
    assert "cannot reach the database" in result.stderr and "createdb" in result.stderr
    assert "relaydesk_nowhere" in result.stderr and ":pw@" not in result.stderr


def test_an_agent_replies_and_notes_from_the_command_line(
    config: Path, customers: Customers, tmp_path: Path
) -> None:
    number = customers.write("Refund please")
    done = cli(
        config,
        "tickets",
        "reply",
        str(number),
        "Refund sent.",
        "--as",
        "ana",
        "--status",
        "pending",
    )
    assert done.stdout.strip() == f"#{number}: reply by ana queued to the requester"
    cli(config, "tickets", "note", str(number), "Checked with billing.", "--as", "ana")
    shown = ticket(config, number)
    messages = shown["ticket"]["messages"]
    assert [m["direction"] for m in messages] == ["inbound", "outbound", "internal"]
    assert messages[0]["channel"] == "web" and messages[1]["channel"] == "email"  # went by mail
    plain = cli(config, "tickets", "show", str(number)).stdout
    assert "outbound email agent:ana" in plain and "outbound web" not in plain
    assert (
        messages[1]["body_text"].startswith("Refund sent.") and messages[1]["author"] == "agent:ana"
    )
    assert shown["ticket"]["status"] == "pending" and shown["ticket"]["first_response_at"]
    assert [o["kind"] for o in shown["outbox"] if o["kind"] == "reply"] == ["reply"]
    actions = [e["action"] for e in shown["audit"]]
    assert "message.replied" in actions and "note.added" in actions
    unknown = cli(config, "tickets", "reply", str(number), "x", "--as", "nobody", ok=False)
    assert "no agent 'nobody'" in unknown.stderr
    empty = cli(config, "tickets", "reply", str(number), "  ", "--as", "ana", ok=False)
    assert "empty answer" in empty.stderr


def test_tickets_are_assigned_transferred_unassigned_and_claimed_from_the_command_line(
    config: Path, customers: Customers
) -> None:
    cli(config, *shlex.split("agents add bo --email bo@desk.test --team support --status online"))
    number = customers.write("Printer jam")
    holder = ticket(config, number)["ticket"]["assignee"]
    other = "bo" if holder == "ana" else "ana"
    moved = cli(config, "tickets", "assign", str(number), other, "--reason", "expert")
    assert moved.stdout.strip() == f"#{number}: {holder} -> {other}"
    assert agent(config, holder)["load"] == 0 and agent(config, other)["load"] == 1
    taken = cli(config, "tickets", "claim", str(number), "--as", holder, ok=False)
    assert f"taken by {other}" in taken.stderr
    cli(config, "tickets", "transfer", str(number), "--team", "billing", "--reason", "invoice")
    shown = ticket(config, number)["ticket"]
    assert shown["team"] == "billing" and shown["assignee"] is None  # nobody in billing
    no_reason = cli(config, "tickets", "transfer", str(number), "--team", "support", ok=False)
    assert "--reason" in no_reason.stderr
    cli(config, "tickets", "claim", str(number), "--as", "ana", ok=False)  # not in billing
    cli(config, "tickets", "transfer", str(number), "--agent", "ana", "--reason", "back")
    assert ticket(config, number)["ticket"]["assignee"] == "ana"
    back = cli(config, "tickets", "unassign", str(number), "--reason", "holiday")
    assert back.stdout.strip().startswith(f"#{number}: taken from ana")
    actions = [e["action"] for e in ticket(config, number)["audit"]]
    assert actions.count("ticket.transferred") == 2 and "ticket.unassigned" in actions


def _commands(group: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from _commands(command, (*path, name))
        else:
            yield (*path, name), command


def test_every_command_takes_config_after_it_as_well_as_before_it() -> None:
    missing = [
        " ".join(path)
        for path, command in _commands(main)
        if not any("--config" in p.opts for p in command.params)
    ]
    assert missing == []


def test_config_after_the_command_is_the_file_used(config: Path, tmp_path: Path) -> None:
    before = CliRunner().invoke(main, ["--config", str(config), "agents", "list", "--json"])
    after = CliRunner().invoke(main, ["agents", "list", "--json", "--config", str(config)])
    other = tmp_path / "other.toml"
    other.write_text('database_url = "sqlite:///nowhere/x.db"\n')
    winner = CliRunner().invoke(
        main, ["--config", str(other), "agents", "list", "--config", str(config)]
    )

    assert before.exit_code == after.exit_code == winner.exit_code == 0, after.output
    assert json.loads(after.stdout) == json.loads(before.stdout)
    assert "ana" in winner.stdout


def test_a_tickets_fields_are_edited_from_the_command_line_as_the_staff_api_does(
    config: Path, customers: Customers
) -> None:
    number = customers.write("Printer jam")
    edited = cli(
        config,
        *shlex.split(f"tickets edit {number} --priority high --tag vip --tag printer"),
        *("--field", "order=A-1", "--as", "ana", "--reason", "a big customer"),
    )
    assert edited.stdout.strip() == f"#{number}: changed priority, tags, custom_fields"
    shown = ticket(config, number)
    assert shown["ticket"]["priority"] == "high"
    [event] = [e for e in shown["audit"] if e["action"] == "ticket.edited"]
    assert event["actor"] == "agent:ana" and event["detail"].endswith(": a big customer")
    cli(config, "tickets", "edit", str(number), "--field", "order=", "--no-tags")
    assert (
        cli(config, "tickets", "edit", str(number), "--no-tags")
        .stdout.strip()
        .endswith("nothing changed")
    )
    refused = cli(config, "tickets", "edit", str(number), "--team", "nope", ok=False)
    assert "no team named 'nope'" in refused.stderr


def test_a_ticket_is_merged_into_another_from_the_command_line(
    config: Path, customers: Customers
) -> None:
    source = customers.write("Printer jam", "it jams")
    target = customers.write("Printer jam", "it still jams")
    other = customers.write("Scanner", "it scans nothing")
    refused = cli(config, "tickets", "merge", str(source), "--into", str(other), ok=False)
    assert "different requesters" in refused.stderr
    done = cli(config, "tickets", "merge", str(source), "--into", str(target), "--as", "ana")
    assert done.stdout.strip() == f"#{source}: merged into #{target}, 1 messages moved"
    shown = ticket(config, source)
    assert shown["ticket"]["status"] == "closed" and shown["ticket"]["messages"] == []
    merged = [e for e in shown["audit"] if e["action"] == "ticket.merged"]
    assert [e["actor"] for e in merged] == ["agent:ana"]  # as claimed by --as
    bodies = [m["body_text"] for m in ticket(config, target)["ticket"]["messages"]]
    assert "it jams" in bodies and "it still jams" in bodies
    again = cli(config, "tickets", "merge", str(source), "--into", str(target), ok=False)
    assert "merged into" in again.stderr
    with customers.runtime.db.unit_of_work() as uow:
        moved = uow.session.scalars(
            select(Message.id).where(Message.body_text == "it still jams")
        ).one()
    split = cli(config, "tickets", "split", str(target), str(moved), "--subject", "Jam again")
    new = int(split.stdout.strip().rsplit("#", 1)[1])
    assert split.stdout.strip() == f"#{target}: message {moved} split out into #{new}"
    assert ticket(config, new)["ticket"]["subject"] == "Jam again"
    first = cli(config, "tickets", "split", str(target), str(moved), ok=False)
    assert f"no message {moved} on ticket #{target}" in first.stderr
