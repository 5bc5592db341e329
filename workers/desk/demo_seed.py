"""Play a planned history (``router.demo_history``) through the desk's own use cases.

Every request comes in through its channel's intake as the connectors hand it over
(a raw RFC 5322 mail, a raw Telegram update, a web submission), and the desk's own
workers ingest, classify, route and notify it; agents answer, ask, note, transfer
and resolve with the use cases the workspace and the CLI call; requesters rate as
on their ticket's page; the scheduler's sweep (SLA steps, follow-ups, backlog drains)
runs every ``TICK`` of the made-up time. A clock of our own moves from event to event,
so each row carries the time it happened.

It runs its own worker threads on an in-process broker (never the fleet's), and what
the desk sends in the made-up past goes nowhere: each channel's sender is replaced by
one that takes the message and delivers it to no one. A desk whose processes are
running is refused: its scheduler would take the history's rows as its own.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import dramatiq
from dramatiq.brokers.stub import StubBroker

from config.settings import Settings
from router.audit_origin import Origin, Via
from router.demo_history import DemoPlan, DemoRequest, Step, plan_history
from router.envelopes import DeliveryResult, OutboundMessage
from router.errors import AlreadyTaken, NotFound, PermanentError
from router.vocabulary import Status
from store.report_rollups import ReportRollups
from workers.channels.demo_requesters import DemoRequesters, demo_channels, rated_via
from workers.channels.intake import StoreIntake
from workers.desk.assignments import claim_ticket, transfer_ticket
from workers.desk.ratings import rate_ticket
from workers.desk.replies import answer_ticket
from workers.desk.ticket_status import set_ticket_status
from workers.runtime.build import build_runtime
from workers.runtime.context import Runtime
from workers.runtime.processes import prepare_database
from workers.runtime.queues import all_queues
from workers.steps.report_refresh import refresh_reports
from workers.steps.requester_follow_ups import follow_up
from workers.steps.sla_sweep import hand_off_sla

log = logging.getLogger(__name__)

TICK = timedelta(minutes=30)  # SLA steps and backlog drains, in made-up time
FOLLOW_UP_EVERY = 12  # ticks: waiting tickets are looked at every 6 hours
REFUSALS = (PermanentError, NotFound, AlreadyTaken, ValueError)


class DeskIsRunning(Exception):
    """Processes of this desk are beating: seeding now would mix the two."""

    def __init__(self, processes: list[str]) -> None:
        super().__init__(f"the desk is running: {', '.join(processes)}")
        self.processes = processes


@dataclass
class MadeUpClock:
    """The seed's time: set from event to event; read by every worker thread."""

    at: datetime

    def __call__(self) -> datetime:
        return self.at


@dataclass
class NowhereSender:
    """A channel's sender for the made-up past: takes every message, delivers none."""

    taken: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, message: OutboundMessage, *, timeout_s: float | None = None) -> DeliveryResult:
        with self.lock:
            self.taken[message.channel.value] += 1
        return DeliveryResult(external_id=message.message_id, detail="demo: not sent")

    def close(self) -> None:
        pass


@dataclass
class SeedReport:
    tickets: int = 0
    events: int = 0
    skipped: Counter[str] = field(default_factory=Counter)  # step -> refused by the desk
    sent_nowhere: Counter[str] = field(default_factory=Counter)  # channel -> messages


def seed_demo(
    settings: Settings,
    *,
    tickets: int,
    days: int,
    languages: tuple[str, ...],
    seed: int,
    end: datetime | None = None,
    force: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> SeedReport:
    """Fill the desk of ``settings`` with ``tickets`` requests over the ``days`` before
    ``end`` (now). ``DeskIsRunning`` when its processes beat, unless ``force``."""
    end = (end or datetime.now(UTC)).replace(microsecond=0)
    plan = plan_history(
        seed=seed,
        tickets=tickets,
        days=days,
        languages=languages,
        end=end,
        zone=settings.reports.timezone,
        channels=demo_channels(settings),
    )
    clock = MadeUpClock(end - timedelta(days=days + 1))
    with _seeding_runtime(settings, clock, force=force) as runtime:
        return _Player(runtime, clock, plan, seed).play(progress)


@contextmanager
def _seeding_runtime(settings: Settings, clock: MadeUpClock, *, force: bool) -> Iterator[Runtime]:
    """The desk's runtime on an in-process broker of its own, with worker threads; a
    running desk is refused before any of them starts (unless ``force``)."""
    own = settings.model_copy(update={"broker_url": "stub://"})
    runtime = build_runtime(own, clock=clock)
    try:
        prepare_database(runtime)
        if not force:
            _refuse_if_running(runtime)
    except BaseException:
        runtime.close()
        raise
    worker = dramatiq.Worker(runtime.broker, worker_threads=2, worker_timeout=20)
    worker.start()
    try:
        yield runtime
    finally:
        worker.stop()
        runtime.close()


def _refuse_if_running(runtime: Runtime) -> None:
    alive_since = datetime.now(UTC) - runtime.dead_after
    with runtime.db.unit_of_work() as uow:
        beating = [b for b in uow.process_beats.all() if b.beat_at >= alive_since]
    if beating:
        raise DeskIsRunning(sorted({f"{b.kind} {b.pid}@{b.host}" for b in beating}))


class _Player:
    def __init__(self, runtime: Runtime, clock: MadeUpClock, plan: DemoPlan, seed: int) -> None:
        self.runtime = runtime
        self.clock = clock
        self.plan = plan
        self.seed = seed
        self.intake = StoreIntake(runtime)
        self.requesters = DemoRequesters(runtime, clock, seed)
        self.sender = NowhereSender()
        for adapter in runtime.channels:
            runtime.use_sender(adapter.channel, self.sender)
        self.numbers: dict[int, int] = {}  # request index -> its ticket number
        self.report = SeedReport()
        self.ticks = 0

    def play(self, progress: Callable[[int, int], None] | None) -> SeedReport:
        self._organisations()
        total = len(self.plan.events)
        ticked = self.clock.at
        for done, event in enumerate(self.plan.events, 1):
            while ticked + TICK <= event.at:  # the scheduler, as if it had run all along
                ticked += TICK
                self._tick(ticked)
            self.clock.at = event.at
            try:
                self._play(event.request, event.step, event.text, event.good)
            except REFUSALS as exc:  # the desk said no: a real answer, counted
                log.info("demo %s of request %d refused: %s", event.step, event.request, exc)
                self.report.skipped[event.step.value] += 1
            self._settle()
            self.report.events += 1
            if progress is not None:
                progress(done, total)
        with self.runtime.db.unit_of_work() as uow:  # a whole history at once:
            ReportRollups(uow.session).count_all_again()  # every day counted from nothing
        refresh_reports(self.runtime)
        self.report.tickets = len(set(self.numbers.values()))
        self.report.sent_nowhere = Counter(self.sender.taken)
        return self.report

    # -- the steps -----------------------------------------------------------
    def _play(self, index: int, step: Step, text: str, good: bool) -> None:
        request = self.plan.requests[index]
        if step is Step.ARRIVE:
            self._arrive(index, request)
            return
        number = self.numbers.get(index)
        if number is None:  # its arrival made no ticket (the desk refused it)
            self.report.skipped[step.value] += 1
            return
        if step in (Step.WRITE_AGAIN, Step.REOPEN):
            person = self.plan.requesters[request.requester]
            self.requesters.write(person, request, index, number=number, text=text)
        elif step in (Step.ANSWER, Step.ASK):
            agent = self._handler(number)
            status = Status.PENDING if step is Step.ASK else None
            answer_ticket(self.runtime, number, agent, text, status=status, via="web")
        elif step is Step.NOTE:
            agent = self._handler(number)
            colleague = self._colleague(number, agent)
            note = text.format(mention=f"@{colleague}" if colleague else "")
            answer_ticket(self.runtime, number, agent, note, internal=True, via="web")
        elif step is Step.TRANSFER:
            self._transfer(number, text)
        elif step is Step.RESOLVE:
            agent = self._handler(number)
            set_ticket_status(
                self.runtime, number, Status.RESOLVED, actor=f"agent:{agent}", reason="solved"
            )
        elif step is Step.RATE:
            requester_id = self._requester_id(number)
            rate_ticket(
                self.runtime,
                number,
                good=good,
                comment=text,
                via=rated_via(request.channel),
                actor=Origin(f"customer:{requester_id}", Via.PAGE),
            )

    def _arrive(self, index: int, request: DemoRequest) -> None:
        inbox_id = self.requesters.write(self.plan.requesters[request.requester], request, index)
        self._settle()
        receipt = self.intake.receipt(inbox_id)
        if receipt is not None and receipt.ticket_number is not None:
            self.numbers[index] = receipt.ticket_number
        else:
            self.report.skipped[Step.ARRIVE.value] += 1

    # -- who acts ------------------------------------------------------------
    def _handler(self, number: int) -> str:
        """The ticket's assignee; else the first of its team who may claim it, as an agent
        picking it from the queue would; else (all of them full) one of the team working
        it unassigned, as a busy team does."""
        with self.runtime.db.unit_of_work() as uow:
            ticket = uow.tickets.get(number)
            if ticket is None:
                raise _Refused(f"no ticket #{number}")
            if ticket.assignee is not None:
                return ticket.assignee.name
            members = sorted(a.name for a in ticket.team.agents) if ticket.team else []
        for name in members:
            try:
                claim_ticket(self.runtime, number, name, actor=f"agent:{name}")
            except REFUSALS:
                continue
            return name
        if not members:
            raise _Refused(f"ticket #{number}'s team has nobody in it")
        return members[number % len(members)]

    def _colleague(self, number: int, agent: str) -> str | None:
        with self.runtime.db.unit_of_work() as uow:
            ticket = uow.tickets.get(number)
            team = ticket.team if ticket is not None else None
            names = sorted(a.name for a in team.agents if a.name != agent) if team else []
        return names[number % len(names)] if names else None

    def _transfer(self, number: int, reason: str) -> None:
        teams = sorted(self.runtime.team_ids)
        with self.runtime.db.unit_of_work() as uow:
            ticket = uow.tickets.get(number)
            current = ticket.team.name if ticket is not None and ticket.team else None
        others = [t for t in teams if t != current]
        if not others:
            raise _Refused("one team only: nowhere to transfer")
        agent = self._handler(number)
        transfer_ticket(
            self.runtime,
            number,
            reason=reason,
            to_team=others[number % len(others)],
            actor=f"agent:{agent}",
        )

    def _requester_id(self, number: int) -> int | None:
        with self.runtime.db.unit_of_work() as uow:
            ticket = uow.tickets.get(number)
            return ticket.requester_id if ticket is not None else None

    # -- time ----------------------------------------------------------------
    def _organisations(self) -> None:
        from workers.desk.organisations import create_organisation

        with self.runtime.db.unit_of_work() as uow:
            known = {o.name for o in uow.organisations.all()}
        for organisation in self.plan.organisations:
            if organisation.name in known:
                continue
            create_organisation(
                self.runtime,
                name=organisation.name,
                tier=organisation.tier,
                domains=(organisation.domain,),
                actor="system:demo",
            )

    def _tick(self, at: datetime) -> None:
        """The scheduler's periodic work that time alone makes due: SLA warnings and
        escalations, follow-ups of waiting tickets, backlogs drained. (Its re-drives have
        nothing to do here: every step is settled before the next.)"""
        runtime = self.runtime
        self.clock.at = at
        limit = runtime.settings.scheduler.batch
        if runtime.sla_policies:
            hand_off_sla(runtime, limit=limit)
        self.ticks += 1
        if self.ticks % FOLLOW_UP_EVERY == 0:
            follow_up(runtime, limit=limit)
        with runtime.db.unit_of_work() as uow:
            teams = uow.tickets.teams_with_backlog()
        for team_id in teams:
            runtime.enqueue_drain(team_id)
        self._settle()

    def _settle(self) -> None:
        broker = self.runtime.broker
        assert isinstance(broker, StubBroker)  # _seeding_runtime's own
        for _ in range(3):
            for queue in all_queues(self.runtime.channels):
                broker.join(queue, fail_fast=False)


class _Refused(PermanentError):
    """The demo could not play a step as planned (nobody to take the ticket)."""
