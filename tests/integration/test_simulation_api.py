"""POST /api/v1/admin/simulations: admins get the command line's report, an invalid
candidate is a 422 listing every problem, everyone else a 403. SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from router.vocabulary import Channel, Direction
from tests.support.staff import StaffDesk, staff_desk

pytestmark = pytest.mark.integration

URL = "/api/v1/admin/simulations"
# billing's tickets go to sales, where nobody works; the first response tightens
CANDIDATE = """
[helpdesk]
default_team = "support"
[[teams]]
name = "support"
[[teams]]
name = "billing"
[[teams]]
name = "sales"
[categories]
billing = "sales"
[[rules.first_match]]
name = "invoices"
when = { keywords = ["invoice"] }
set = { category = "billing" }
[[agents]]
name = "ana"
email = "ana@x.test"
teams = ["support"]
status = "online"
[[agents]]
name = "root"
email = "root@x.test"
role = "admin"
capacity = 0
[[sla.policies]]
name = "quick"
first_response = "1h"
"""


@pytest.fixture
def desk(database_url: str) -> Iterator[StaffDesk]:
    with staff_desk(database_url) as staff:
        for team, text in (("support", "my invoice is wrong"), ("support", "hello")):
            number = staff.ticket(team, None)
            with staff.runtime.db.unit_of_work() as uow:
                uow.messages.add(
                    number,
                    direction=Direction.INBOUND,
                    channel=Channel.EMAIL,
                    author="jo@x.test",
                    body_text=text,
                    now=staff.clock(),
                )
        yield staff


def test_an_admin_gets_what_the_candidate_would_change(desk: StaffDesk) -> None:
    root = desk.with_token("root")
    answer = root.post(URL, json={"candidate": CANDIDATE, "since": "today"})
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["tickets"] == 2
    changes = {(c["field"], c["from"], c["to"]): c["count"] for c in report["changes"]}
    # the desk's configuration sends the invoice to billing (the shipped rule), where kim
    # lacks the skill; the candidate sends it to sales, where nobody works
    assert changes[("team", "billing", "sales")] == 1
    routing = report["routing"]
    assert routing["assigned"] == {"current": 1, "candidate": 1}
    assert [(u["reason"], u["current"], u["candidate"]) for u in routing["unrouted"]] == [
        ("no_agent_in_team", 0, 1),
        ("no_skill", 1, 0),
    ]
    assert {a["name"]: a["candidate"] for a in routing["agents"]} == {"ana": 1}
    sla = report["sla"]
    assert sla["policy_changes"] == [{"from": "standard", "to": "quick", "count": 2}]
    assert sla["first_response"]["moves"]["earlier_1h_to_1d"] == 2


def test_an_invalid_candidate_is_refused_with_every_problem(desk: StaffDesk) -> None:
    root = desk.with_token("root")
    broken = CANDIDATE.replace("capacity = 0", "capacity = -1").replace(
        'first_response = "1h"', 'first_response = "soon"'
    )
    answer = root.post(URL, json={"candidate": broken})
    assert answer.status_code == 422, answer.text
    problems = answer.json()["detail"]
    assert len(problems) >= 2
    text = " ".join(p["msg"] for p in problems)
    assert "soon" in text and "greater than or equal to 0" in text
    assert all(p["loc"][:2] == ["body", "candidate"] for p in problems)
    not_toml = root.post(URL, json={"candidate": "[helpdesk\n"})
    assert not_toml.status_code == 422 and "not valid TOML" in not_toml.text
    period = root.post(URL, json={"candidate": CANDIDATE, "since": "7d", "from": "2026-01-01"})
    assert period.status_code == 422 and "not both" in period.text


def test_only_admins_may_simulate(desk: StaffDesk) -> None:
    for name in ("ana", "sam", "kim"):
        answer = desk.signed_in(name).post(URL, json={"candidate": CANDIDATE})
        assert answer.status_code == 403, (name, answer.text)
