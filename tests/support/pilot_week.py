"""A small desk's week with a pilot, worked through the use cases, for the reports'
comparison of configuration versions.

The desk is ``tests.support.report_week``'s (UTC office Monday to Friday 09:00-17:00;
SLA 1 h to the first response, 4 h to the resolution, in business time) with a second
billing agent, dee, and an admin, root. On Monday at 08:00 its configuration is applied (the *desk*
version); at 08:30 a candidate whose first-response target is 2 h is piloted on
billing (the *pilot* version). Then:

- #1 Mon 09:00 by Jo, support (desk): ana answers 09:30, resolves 11:00; rated good.
- #2 Mon 10:00 by Kim, an invoice, billing (pilot): its agent answers 11:30 (1.5 h: met
  under the pilot's 2 h), resolves 12:00; reopened Wed 09:00, resolved 10:00; rated bad.
- #3 Mon 13:00 by Lee, an invoice, billing (pilot): transferred 14:00 to the other
  billing agent, who answers 16:00 (3 h: breached) and resolves Tue 11:00 (6 h of
  business time: breached); rated good.
- #4 Tue 09:00 by Max, support (desk): routed to ana, assigned to ben (a reassignment),
  who answers 10:00 (1 h: met) and resolves 12:00; rated good.

The report covers Mon 23 to Wed 25 November 2026 and is made on Wed at 12:00.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from config import load_settings
from router.ratings import RatedVia
from router.vocabulary import Status
from tests.support.desk import Desk, desk_for
from tests.support.report_week import CONFIG, Clock
from workers.desk.assignments import assign_ticket, transfer_ticket
from workers.desk.config_changes import apply_at_start
from workers.desk.config_pilots import start_pilot
from workers.desk.ratings import rate_ticket
from workers.desk.replies import answer_ticket
from workers.desk.ticket_status import set_ticket_status

MORE = """
[[agents]]
name = "dee"
email = "dee@desk.test"
teams = ["billing"]
status = "online"
[[agents]]
name = "root"
email = "root@desk.test"
role = "admin"
capacity = 0
"""


@dataclass
class PilotWeek:
    desk: Desk
    version: str  # the desk's: support's tickets
    candidate: str  # the pilot's: billing's tickets


def pilot_week(database_url: str, tmp_path: Path) -> Iterator[PilotWeek]:
    """The week above; the desk's config in ``tmp_path / "relaydesk.toml"``, the
    candidate's in ``tmp_path / "candidate.toml"``."""
    text = CONFIG.format(url=database_url) + MORE
    path, candidate = tmp_path / "relaydesk.toml", tmp_path / "candidate.toml"
    path.write_text(text)
    candidate.write_text(text.replace('first_response = "1h"', 'first_response = "2h"'))
    clock = Clock()
    for desk in desk_for(load_settings(path, environ={})):
        runtime = desk.runtime
        runtime.clock = clock
        clock.at(0, 8)
        version = apply_at_start(runtime, "lead").version
        clock.at(0, 8, 30)
        started = start_pilot(
            runtime, load_settings(candidate, environ={}), ["billing"], applied_by="lead"
        )
        clock.at(0, 9)
        t1 = desk.submit("p1", sender="jo@example.org", name="Jo")
        clock.at(0, 9, 30)
        answer_ticket(runtime, t1, "ana", "Try again now.")
        clock.at(0, 10)
        t2 = desk.submit("p2", sender="kim@example.org", name="Kim", body="my invoice")
        clock.at(0, 11)
        set_ticket_status(runtime, t1, Status.RESOLVED)
        clock.at(0, 11, 30)
        answer_ticket(runtime, t2, desk.ticket(t2).assignee, "Corrected.")
        clock.at(0, 12)
        set_ticket_status(runtime, t2, Status.RESOLVED)
        clock.at(0, 13)
        t3 = desk.submit("p3", sender="lee@example.org", name="Lee", body="invoice again")
        clock.at(0, 14)
        other = "dee" if desk.ticket(t3).assignee == "cy" else "cy"
        transfer_ticket(runtime, t3, to_agent=other, reason="knows this customer")
        clock.at(0, 16)
        answer_ticket(runtime, t3, other, "On it.")
        clock.at(1, 9)
        t4 = desk.submit("p4", sender="max@example.org", name="Max")
        assign_ticket(runtime, t4, "ben", force=True)
        clock.at(1, 10)
        answer_ticket(runtime, t4, "ben", "Which version?")
        clock.at(1, 11)
        set_ticket_status(runtime, t3, Status.RESOLVED)
        clock.at(1, 12)
        set_ticket_status(runtime, t4, Status.RESOLVED)
        clock.at(2, 9)
        set_ticket_status(runtime, t2, Status.OPEN, actor="agent:cy", reason="still wrong")
        clock.at(2, 10)
        set_ticket_status(runtime, t2, Status.RESOLVED)
        clock.at(2, 11)
        for number, good in ((t1, True), (t2, False), (t3, True), (t4, True)):
            rate_ticket(runtime, number, good=good, via=RatedVia.PAGE, actor="cli")
        assert (t1, t2, t3, t4) == (1, 2, 3, 4)
        clock.at(2, 12)
        yield PilotWeek(desk, version, started.candidate)
