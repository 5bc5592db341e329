"""The scheduler: re-drive unfinished inbox and outbox rows (and simulation jobs), drain
team backlogs.

The store is the source of truth; the broker only distributes work. A row that
is still unfinished after ``redrive_after_s`` had its message lost (or its
worker killed), so the sweep sends it again. The sweep claims rows with one
UPDATE ... RETURNING that moves their next time forward, so two schedulers
running at once never both re-drive the same row.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

from router.vocabulary import AuditAction, Channel, SystemActor
from store.simulation_jobs import SimulationJobs
from workers.desk.reply_receipts import report_undelivered
from workers.runtime.broker_epoch import BrokerEpoch
from workers.runtime.config_follow import follow_store
from workers.runtime.context import Runtime
from workers.steps.report_refresh import refresh_reports
from workers.steps.requester_follow_ups import follow_up
from workers.steps.simulation_jobs import redrive_simulations
from workers.steps.sla_sweep import hand_off_sla
from workers.steps.webhooks import prune_webhooks, redrive_webhooks
from workers.steps.weekly_reports import send_weekly_reports

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sweep:
    inbox: int
    outbox: int
    teams: int


class Scheduler:
    def __init__(self, runtime: Runtime, *, drain_every: int = 5) -> None:
        self.runtime = runtime
        self.drain_every = drain_every
        self._ticks = 0
        self._stop = threading.Event()
        self._reports_at = time.monotonic()  # the last reports refresh (a report does one too)
        self._follow_ups_at = time.monotonic()  # the last look at tickets that wait
        self.epoch = BrokerEpoch(runtime.broker, runtime.settings.broker.namespace)

    def sweep(self, *, drain: bool = True) -> Sweep:
        """One pass, decided by one configuration version: the store's latest as it starts."""
        follow_store(self.runtime)
        with self.runtime.configs.pinned():
            return self._sweep(drain=drain)

    def _sweep(self, *, drain: bool) -> Sweep:
        runtime = self.runtime
        settings = runtime.settings.scheduler
        now = runtime.now()
        again = timedelta(seconds=settings.redrive_after_s)
        retries = runtime.settings.retries
        broker_lost = self.epoch.lost_messages()
        with runtime.db.unit_of_work() as uow:
            if broker_lost:  # what was queued is gone: every pending row goes again now
                uow.inbox.make_all_due(now)
                uow.outbox.make_pending_due(now)
            for inbox_id in uow.inbox.give_up_exhausted(
                now=now, max_attempts=retries.ingest.max_attempts
            ):
                log.error("inbox %s failed for good: unfinished after every attempt", inbox_id)
            for outbox_id, ticket_id, recipient in uow.outbox.give_up_exhausted(
                now=now, max_attempts=retries.deliver.max_attempts
            ):
                uow.audit.record(
                    ticket_id=ticket_id,
                    actor=SystemActor.SCHEDULER,
                    action=AuditAction.OUTBOX_FAILED,
                    detail=f"gave up delivering to {recipient}: unfinished after "
                    f"{retries.deliver.max_attempts} attempts",
                    now=now,
                    data={"outbox_id": outbox_id, "permanent": False},
                )
                item = uow.outbox.get(outbox_id)
                if item is not None:
                    report_undelivered(runtime, uow, item, item.error or "no attempt finished")
            inbox = uow.inbox.due_for_redrive(now=now, again_after=again, limit=settings.batch)
            outbox = uow.outbox.release_dead(  # a dead worker's: at once, not after the lease
                now=now, dead_after=runtime.dead_after, again_after=again, limit=settings.batch
            )
            outbox += uow.outbox.due_for_redrive(now=now, again_after=again, limit=settings.batch)
            teams = uow.tickets.teams_with_backlog() if drain else []
        with runtime.gather_sends():  # a backlog re-driven goes out in batches
            for inbox_id, channel in inbox:
                runtime.enqueue_ingest(inbox_id, Channel(channel))
            for outbox_id, channel in outbox:
                runtime.enqueue_delivery(outbox_id, Channel(channel))
        for team_id in teams:
            runtime.enqueue_drain(team_id)
        redrive_webhooks(runtime, limit=settings.batch)
        redrive_simulations(runtime, limit=settings.batch)
        if runtime.sla_policies:
            hand_off_sla(runtime, limit=settings.batch)
        if time.monotonic() - self._reports_at >= runtime.settings.reports.refresh_s:
            self._reports_at = time.monotonic()
            refresh_reports(runtime)
            send_weekly_reports(runtime)
            prune_webhooks(runtime)
        if time.monotonic() - self._follow_ups_at >= runtime.settings.requester.follow_up_every_s:
            self._follow_ups_at = time.monotonic()
            follow_up(runtime, limit=settings.batch)
        if broker_lost:
            log.warning(
                "the broker has no epoch mark (new, or it lost its messages): "
                "re-driving every pending row now"
            )
        if inbox or outbox:
            log.info("re-drove %d inbox and %d outbox rows", len(inbox), len(outbox))
        return Sweep(inbox=len(inbox), outbox=len(outbox), teams=len(teams))

    def redrive_everything_now(self) -> None:
        """Embedded start-up: whatever was unfinished belonged to this process's last life."""
        now = self.runtime.now()
        with self.runtime.db.unit_of_work() as uow:
            uow.inbox.make_all_due(now)
            uow.outbox.make_all_due(now)
            uow.webhook_deliveries.make_all_due(now)
            uow.sla.clear_hand_offs()
            SimulationJobs(uow.session).make_all_due(now)

    def run(self) -> None:
        """Sweep every ``interval_s`` until ``stop()``; errors are logged, never fatal."""
        interval = self.runtime.settings.scheduler.interval_s
        while not self._stop.is_set():
            self._ticks += 1
            started = time.monotonic()
            try:
                self.sweep(drain=self._ticks % self.drain_every == 1)
            except Exception:
                log.exception("scheduler sweep failed; trying again in %.1fs", interval)
            # a fixed rate: the sweep's own time counts toward the interval (SLA precision)
            self._stop.wait(max(interval - (time.monotonic() - started), 0.0))

    def stop(self) -> None:
        self._stop.set()
