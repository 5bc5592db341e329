"""POST /api/v1/admin/simulations: admins queue a job (202, its status at Location), a
worker runs it, its status says how far it got, and its report is the command line's;
an invalid candidate is a 422 listing every problem, everyone else a 403, a failed job
says why. SQLite and PostgreSQL, the job on the embedded broker's worker thread."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import dramatiq
import pytest
from sqlalchemy import event

from router.vocabulary import Channel, Direction, JobState
from store.simulation_jobs import SimulationJobs
from tests.support.desk import stub_broker
from tests.support.staff import StaffDesk, staff_desk
from workers.desk.simulation_jobs import (
    SimulationAsked,
    simulation_job,
    simulation_result,
    submit_simulation,
)
from workers.runtime.queues import SIMULATE
from workers.runtime.scheduler import Scheduler
from workers.steps.simulation_jobs import run_simulation_job

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


def seeded(staff: StaffDesk) -> StaffDesk:
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
    return staff


@pytest.fixture
def idle(database_url: str) -> Iterator[StaffDesk]:
    """A desk whose jobs wait: no worker consumes the simulations' queue."""
    with staff_desk(database_url) as staff:
        yield seeded(staff)


@pytest.fixture
def desk(idle: StaffDesk) -> Iterator[StaffDesk]:
    """A desk with a worker on the simulations' queue, as embedded mode runs one."""
    worker = dramatiq.Worker(idle.runtime.broker, queues={SIMULATE}, worker_threads=1)
    worker.start()
    try:
        yield idle
    finally:
        worker.stop()


def finished(desk: StaffDesk, client: Any, location: str) -> dict[str, Any]:
    stub_broker(desk.runtime).join(SIMULATE, fail_fast=True)
    status = client.get(location)
    assert status.status_code == 200, status.text
    return status.json()


def test_an_admin_gets_what_the_candidate_would_change(desk: StaffDesk) -> None:
    root = desk.with_token("root")
    answer = root.post(URL, json={"candidate": CANDIDATE, "since": "today"})
    assert answer.status_code == 202, answer.text
    location = answer.headers["Location"]
    assert location == f"{URL}/{answer.json()['id']}" == answer.json()["status_url"]
    assert answer.json()["result_url"] is None
    job = finished(desk, root, location)
    assert job["state"] == "done", job
    assert (job["tickets_done"], job["tickets_total"], job["attempts"]) == (2, 2, 1)
    assert job["requested_by"] == "agent:root" and job["error"] is None
    assert job["result_url"] == f"{location}/result"
    result = root.get(job["result_url"])
    assert result.status_code == 200, result.text
    report = result.json()
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


def test_a_pilot_changes_only_its_teams(desk: StaffDesk) -> None:
    root = desk.with_token("root")
    answer = root.post(
        URL, json={"candidate": CANDIDATE, "since": "today", "pilot_teams": ["support"]}
    )
    assert answer.status_code == 202, answer.text
    job = finished(desk, root, answer.headers["Location"])
    report = root.get(job["result_url"]).json()
    # the invoice stays with billing (not a pilot team); the other ticket is support's,
    # whose clocks the candidate plans
    assert [(c["field"], c["from"], c["to"]) for c in report["changes"]] == []
    assert report["sla"]["policy_changes"] == [{"from": "standard", "to": "quick", "count": 1}]
    refused = root.post(URL, json={"candidate": CANDIDATE, "pilot_teams": ["nobody"]})
    assert refused.status_code == 422 and "nobody" in refused.text


def test_a_job_waits_for_a_worker_and_its_result_until_it_is_done(idle: StaffDesk) -> None:
    root = idle.with_token("root")
    answer = root.post(URL, json={"candidate": CANDIDATE, "since": "today"})
    assert answer.status_code == 202, answer.text
    location = answer.headers["Location"]
    assert root.get(location).json()["state"] == "queued"
    early = root.get(f"{location}/result")
    assert early.status_code == 409 and "queued" in early.text
    assert root.get(f"{URL}/999999").status_code == 404
    assert root.get(f"{URL}/999999/result").status_code == 404
    assert root.get(f"{URL}/{2**40}").status_code == 404
    # quiet for redrive_after while its message waits in the queue (the workers are busy):
    # not sent again, however many sweeps pass
    quiet = idle.runtime.redrive_after.total_seconds() + 1
    for _ in range(3):
        idle.clock.advance(seconds=quiet)
        Scheduler(idle.runtime).sweep(drain=False)
        assert stub_broker(idle.runtime).queues[SIMULATE].qsize() == 1
    # the message was lost (a broker restarted empty): the scheduler sends it again once
    # the job has been quiet for redrive_after, and a worker runs it
    stub_broker(idle.runtime).flush_all()  # the test's in-process broker, never a Redis
    assert Scheduler(idle.runtime).sweep(drain=False) is not None
    assert stub_broker(idle.runtime).queues[SIMULATE].qsize() == 0  # not quiet long enough yet
    idle.clock.advance(seconds=quiet)
    Scheduler(idle.runtime).sweep(drain=False)
    assert stub_broker(idle.runtime).queues[SIMULATE].qsize() == 1
    worker = dramatiq.Worker(idle.runtime.broker, queues={SIMULATE}, worker_threads=1)
    worker.start()
    try:
        job = finished(idle, root, location)
    finally:
        worker.stop()
    assert job["state"] == "done" and job["tickets_done"] == 2


REQUEST = re.compile(r"\bsimulation_jobs\.request\b")  # not requested_by
RESULT = re.compile(r"\bsimulation_jobs\.result\b")


class Statements:
    """The statements run on ``desk``'s engine, and the transactions begun, while held."""

    def __init__(self, desk: StaffDesk) -> None:
        self.engine = desk.runtime.db.engine
        self.sql: list[str] = []
        self.begun = 0

    def _statement(self, _conn: object, _cursor: object, sql: str, *_: object) -> None:
        self.sql.append(" ".join(sql.split()))

    def _begin(self, _conn: object) -> None:
        self.begun += 1

    def on_jobs(self) -> list[str]:
        return [s for s in self.sql if "simulation_jobs" in s]

    def __enter__(self) -> Statements:
        event.listen(self.engine, "before_cursor_execute", self._statement)
        event.listen(self.engine, "begin", self._begin)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._statement)
        event.remove(self.engine, "begin", self._begin)


def test_polls_read_what_they_show_and_a_submission_is_one_transaction(idle: StaffDesk) -> None:
    """A job's request and report are up to a megabyte each: a status poll reads neither, a
    result poll reads the report with the status in one statement, and a submission reads
    its job back in the transaction that added it."""
    runtime = idle.runtime
    with Statements(idle) as submitting:
        job = submit_simulation(runtime, SimulationAsked(CANDIDATE), requested_by="t")
    assert job.state is JobState.QUEUED and job.requested_by == "t"
    assert submitting.begun == 1, submitting.sql
    with Statements(idle) as polling:
        assert simulation_job(runtime, job.id) == job
    (poll,) = polling.on_jobs()
    assert not REQUEST.search(poll) and not RESULT.search(poll), poll
    with Statements(idle) as reading:
        assert simulation_result(runtime, job.id) == (job, None)
    (read,) = reading.on_jobs()
    assert RESULT.search(read) and not REQUEST.search(read), read
    assert simulation_job(runtime, job.id + 1) is None
    assert simulation_result(runtime, job.id + 1) is None


def test_a_job_whose_worker_was_lost_runs_again_and_fails_after_every_attempt(
    idle: StaffDesk,
) -> None:
    runtime = idle.runtime
    stale = runtime.redrive_after + timedelta(seconds=1)
    with runtime.db.unit_of_work() as uow:
        jobs = SimulationJobs(uow.session)
        job_id = jobs.add(
            {"candidate": CANDIDATE, "since": "today"}, requested_by="t", now=idle.clock()
        )
    for attempt in (1, 2, 3):
        with runtime.db.unit_of_work() as uow:
            jobs = SimulationJobs(uow.session)
            assert jobs.claim(job_id, now=idle.clock(), stale=runtime.redrive_after, max_attempts=3)
            # a second worker given the same job while the first one beats: nothing
            assert not jobs.claim(
                job_id, now=idle.clock(), stale=runtime.redrive_after, max_attempts=3
            )
        idle.clock.advance(seconds=stale.total_seconds())  # the worker dies: no more beats
        with runtime.db.unit_of_work() as uow:
            due = SimulationJobs(uow.session).due_for_redrive(
                now=idle.clock(), stale=runtime.redrive_after, max_attempts=3, limit=10
            )
            view = SimulationJobs(uow.session).get(job_id)
        assert view is not None
        if attempt < 3:
            assert due == [job_id] and view.state is JobState.QUEUED
        else:
            assert due == [] and view.state is JobState.FAILED
            assert view.error == "its worker stopped during each of 3 attempts"
    run_simulation_job(runtime, job_id)  # a late message changes nothing
    status = idle.with_token("root").get(f"{URL}/{job_id}").json()
    assert (status["state"], status["attempts"]) == ("failed", 3)


def test_a_failed_job_says_why(desk: StaffDesk) -> None:
    """A request that no longer holds when the worker runs it (the configuration changed
    meanwhile: the pilot's team is gone): the job fails with the reason."""
    with desk.runtime.db.unit_of_work() as uow:
        job_id = SimulationJobs(uow.session).add(
            {"candidate": CANDIDATE, "since": "today", "pilot_teams": ["gone"]},
            requested_by="agent:root",
            now=desk.clock(),
        )
    run_simulation_job(desk.runtime, job_id)
    root = desk.with_token("root")
    status = root.get(f"{URL}/{job_id}").json()
    assert status["state"] == "failed"
    assert "gone" in status["error"] and status["result_url"] is None
    result = root.get(f"{URL}/{job_id}/result")
    assert result.status_code == 409 and "failed" in result.text and "gone" in result.text


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
    surrogate = root.post(
        URL, content=b'{"candidate": "# \\ud800"}', headers={"Content-Type": "application/json"}
    )
    assert surrogate.status_code == 422, surrogate.text
    period = root.post(URL, json={"candidate": CANDIDATE, "since": "7d", "from": "2026-01-01"})
    assert period.status_code == 422 and "not both" in period.text


def test_only_admins_may_simulate(desk: StaffDesk) -> None:
    made = desk.with_token("root").post(URL, json={"candidate": CANDIDATE})
    assert made.status_code == 202
    location = made.headers["Location"]
    for name in ("ana", "sam", "kim"):
        client = desk.signed_in(name)
        answer = client.post(URL, json={"candidate": CANDIDATE})
        assert answer.status_code == 403, (name, answer.text)
        assert client.get(location).status_code == 403
        assert client.get(f"{location}/result").status_code == 403
