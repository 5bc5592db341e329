"""Configuration changes without a restart, in one process on both databases: a reload
decides the next message, every decision's audit event names its version, an invalid
file changes nothing, a rollback returns to a version; ``config history`` lists them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from config import EXAMPLE_PATH
from router.vocabulary import AuditAction, ConfigAction
from tests.conftest import make_settings
from tests.support.desk import Desk, desk_for
from workers.cli.main import main
from workers.desk.config_changes import apply_at_start, apply_settings, config_history, roll_back
from workers.runtime.build import build_runtime

DECISIONS = {AuditAction.TICKET_CREATED, AuditAction.SLA_POLICY, AuditAction.TICKET_ASSIGNED}


@pytest.fixture
def desk(database_url: str) -> Iterator[Desk]:
    yield from desk_for(make_settings(database_url))


def decisions(desk: Desk, number: int) -> dict[str, tuple[str | None, dict[str, object]]]:
    """Each decision's audit event of ticket ``number``: its version and data."""
    with desk.runtime.db.unit_of_work() as uow:
        return {
            e.action: (e.config_version, e.data)
            for e in uow.audit.for_ticket(number)
            if e.action in DECISIONS
        }


def test_a_reload_decides_the_next_message_and_each_decision_names_its_version(
    desk: Desk, database_url: str
) -> None:
    first = apply_at_start(desk.runtime, "test").version
    one = desk.submit("before")
    assert desk.ticket(one).priority == "normal"
    assert {v for v, _ in decisions(desk, one).values()} == {first}
    assert decisions(desk, one)[AuditAction.SLA_POLICY][1]["policy"] == "standard"

    # another process (an operator's CLI) applies a candidate: urgent by default
    candidate = make_settings(database_url, relaydesk_helpdesk__default_priority="urgent")
    operator = build_runtime(candidate, pool_size=1)
    try:
        applied = apply_settings(
            operator, candidate, action=ConfigAction.RELOAD, applied_by="lead@desk"
        )
        assert applied.changed and applied.previous == first and applied.restart_keys == ()
        two = desk.submit("after")  # the running desk was not restarted
        assert desk.ticket(two).priority == "urgent"
        made = decisions(desk, two)
        assert set(made) == DECISIONS
        assert {v for v, _ in made.values()} == {applied.version}
        assert made[AuditAction.SLA_POLICY][1]["policy"] == "urgent"
        assert desk.runtime.config_version == applied.version

        back = roll_back(operator, first[:6], applied_by="lead@desk")
        assert back.version == first and back.previous == applied.version
        three = desk.submit("rolled back")
        assert desk.ticket(three).priority == "normal"
        assert {v for v, _ in decisions(desk, three).values()} == {first}
        history = config_history(operator)
    finally:
        operator.close()
    assert [(c.version, c.action, c.applied_by) for c in history] == [
        (first, ConfigAction.ROLLBACK, "lead@desk"),
        (applied.version, ConfigAction.RELOAD, "lead@desk"),
        (first, ConfigAction.START, "test"),
    ]


def invoke(database_url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        main, list(args), env={"RELAYDESK_DATABASE_URL": database_url, "LANG": "C"}
    )
    return result.exit_code, result.output


def test_an_invalid_file_is_refused_whole_with_every_problem_and_changes_nothing(
    desk: Desk, database_url: str, tmp_path: Path
) -> None:
    first = apply_at_start(desk.runtime, "test").version
    bad = tmp_path / "bad.toml"
    text = EXAMPLE_PATH.read_text()
    text = text.replace('default_priority = "normal"', 'default_priority = "whenever"')
    text = text.replace('email = "ben@relaydesk.localhost"', 'email = "ben"')
    text = text.replace("capacity = 3", "capacity = -1")
    bad.write_text(text)
    code, output = invoke(database_url, "config", "reload", str(bad))
    assert code == 2
    assert "3 problems; nothing changed" in output
    for key in ("helpdesk.default_priority", "agents.1.email", "agents.1.capacity"):
        assert key in output
    assert [c.version for c in config_history(desk.runtime)] == [first]
    number = desk.submit("still the same")
    assert desk.ticket(number).priority == "normal"
    assert {v for v, _ in decisions(desk, number).values()} == {first}


def test_the_command_line_reloads_lists_and_rolls_back(
    desk: Desk, database_url: str, tmp_path: Path
) -> None:
    first = apply_at_start(desk.runtime, "test").version
    good = tmp_path / "good.toml"
    good.write_text(
        EXAMPLE_PATH.read_text().replace('default_priority = "normal"', 'default_priority = "low"')
        + '\n[[agents]]\nname = "kim"\nemail = "kim@relaydesk.localhost"\nteams = ["billing"]\n'
    )
    code, output = invoke(database_url, "config", "reload", str(good), "--by", "lead")
    assert code == 0, output
    assert f"applied (was {first})" in output and "roster: agent kim created" in output
    code, output = invoke(database_url, "config", "reload", str(good))
    assert code == 0 and "nothing changed" in output
    code, output = invoke(database_url, "config", "history", "--json")
    assert code == 0, output
    listed = json.loads(output)
    assert [(c["action"], c["applied_by"], c["current"]) for c in listed] == [
        ("reload", "lead", True),
        ("start", "test", False),
    ]
    assert desk.ticket(desk.submit("low now")).priority == "low"
    with desk.runtime.db.unit_of_work() as uow:
        assert uow.agents.by_name("kim") is not None  # the roster came with the version
    code, output = invoke(database_url, "config", "rollback", first[:8])
    assert code == 0 and f"Configuration {first} applied" in output
    code, output = invoke(database_url, "config", "rollback", "0000")
    assert code == 1 and "no configuration version '0000'" in output
    assert desk.ticket(desk.submit("normal again")).priority == "normal"
