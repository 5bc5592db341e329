"""A small desk's week worked through the use cases, for the reports' tests.

The week (UTC, the office open Monday to Friday 09:00-17:00; SLA 1 h to the first
response and 4 h to the resolution, in business time):

- #1 Mon 09:00 by Jo (Acme), support, tags vpn and login: ana answers 09:30, resolves
  11:00.
- #2 Mon 10:00 by Kim, an invoice (billing, cy's): nobody answers; its first response
  is breached at 11:00 and the sweep at 11:05 tells cy (escalation step 1).
- #3 Mon 16:00 by Jo, tag vpn: ana answers Tue 10:00, resolves Tue 12:00, reopens it
  Wed 09:00, answers 09:30 and resolves 10:00.
- #4 Tue 09:00 by Lee: routed to ana, given to ben, who answers 10:00 and sets it
  pending.

The report covers Mon 23 to Wed 25 November 2026 and is made on Wed at 12:00.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import update

from config import load_settings
from router.report_period import Period
from router.vocabulary import Status
from store.dialect import insert_row
from store.models import Customer, Organisation, Ticket
from tests.support.desk import Desk, desk_for
from workers.desk.assignments import assign_ticket
from workers.desk.replies import answer_ticket
from workers.desk.ticket_status import set_ticket_status
from workers.steps.sla_sweep import sweep_sla

MONDAY = datetime(2026, 11, 23, tzinfo=UTC)
WEEK = Period(date(2026, 11, 23), date(2026, 11, 25), "UTC")
H = 3600.0
CONFIG = """
database_url = "{url}"
[helpdesk]
default_team = "support"
[reports]
timezone = "UTC"
[sla]
[[sla.calendars]]
name = "office"
timezone = "UTC"
[sla.calendars.hours]
mon = "09:00-17:00"
tue = "09:00-17:00"
wed = "09:00-17:00"
thu = "09:00-17:00"
fri = "09:00-17:00"
[[sla.policies]]
name = "standard"
calendar = "office"
first_response = "1h"
resolution = "4h"
[[sla.escalation]]
to = "assignee"
after = "0m"
[[rules.first_match]]
name = "billing"
when = {{ keywords = ["invoice"] }}
set = {{ category = "billing", team = "billing" }}
[[teams]]
name = "support"
[[teams]]
name = "billing"
[[agents]]
name = "ana"
email = "ana@desk.test"
teams = ["support"]
status = "online"
[[agents]]
name = "ben"
email = "ben@desk.test"
teams = ["support"]
status = "away"
[[agents]]
name = "cy"
email = "cy@desk.test"
teams = ["billing"]
status = "online"
"""


class Clock:
    def __init__(self) -> None:
        self.now = MONDAY

    def __call__(self) -> datetime:
        return self.now

    def at(self, day: int, hour: int, minute: int = 0) -> None:
        self.now = MONDAY + timedelta(days=day, hours=hour, minutes=minute)


def worked_week(
    database_url: str, tmp_path: Path, *, next_response: str | None = None
) -> Iterator[Desk]:
    """The week above, worked through the desk's use cases; its config in
    ``tmp_path / "relaydesk.toml"`` (the SLA policy with a ``next_response`` target when
    given: the week has no customer message that starts it)."""
    path = tmp_path / "relaydesk.toml"
    config = CONFIG.format(url=database_url)
    if next_response is not None:
        config = config.replace(
            'resolution = "4h"', f'resolution = "4h"\nnext_response = "{next_response}"'
        )
    path.write_text(config)
    clock = Clock()
    for desk in desk_for(load_settings(path, environ={})):
        runtime = desk.runtime
        runtime.clock = clock
        clock.at(0, 9)
        t1 = desk.submit("w1", sender="jo@example.org", name="Jo")
        clock.at(0, 9, 30)
        answer_ticket(runtime, t1, "ana", "Try again now.")
        clock.at(0, 10)
        t2 = desk.submit("w3", sender="kim@example.org", name="Kim", body="my invoice")
        clock.at(0, 11)
        set_ticket_status(runtime, t1, Status.RESOLVED)
        clock.at(0, 11, 5)
        sweep_sla(runtime)  # the breach
        sweep_sla(runtime)  # its escalation's first step
        clock.at(0, 16)
        t3 = desk.submit("w2", sender="jo@example.org", name="Jo")
        clock.at(1, 9)
        t4 = desk.submit("w4", sender="lee@example.org", name="Lee")
        assign_ticket(runtime, t4, "ben", force=True)
        clock.at(1, 10)
        answer_ticket(runtime, t3, "ana", "Looking.")
        answer_ticket(runtime, t4, "ben", "Which version?", status=Status.PENDING)
        clock.at(1, 12)
        set_ticket_status(runtime, t3, Status.RESOLVED)
        clock.at(2, 9)
        set_ticket_status(runtime, t3, Status.OPEN, actor="agent:ana", reason="not fixed")
        clock.at(2, 9, 30)
        answer_ticket(runtime, t3, "ana", "Fixed for good.")
        clock.at(2, 10)
        set_ticket_status(runtime, t3, Status.RESOLVED)
        assert (t1, t2, t3, t4) == (1, 2, 3, 4)
        with runtime.db.unit_of_work() as uow:
            acme = insert_row(
                uow.session,
                Organisation,
                {"name": "Acme", "created_at": clock(), "updated_at": clock()},
            )
            jo = update(Customer).where(Customer.name == "Jo").values(organisation_id=acme)
            uow.session.execute(jo)
            uow.session.execute(update(Ticket).where(Ticket.id == 1).values(tags=["vpn", "login"]))
            uow.session.execute(update(Ticket).where(Ticket.id == 3).values(tags=["vpn"]))
        clock.at(2, 12)
        yield desk
