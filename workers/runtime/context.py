"""Everything one process needs, built once from settings and passed down (never global)."""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property

from dramatiq import Actor, Broker

from config.settings import Settings
from connectors.ports import Sender
from router.business_calendar import BusinessCalendar
from router.rule_simulation import RuleSetup
from router.sla_policy import EscalationStep, SlaPolicy
from router.thread_keys import OwnAddresses
from router.vocabulary import Channel, Priority
from store.db import Database
from store.files import ContentAddressedFiles
from workers.channels.registry import ChannelRegistry
from workers.runtime.batching import Gathering, SendWindow
from workers.runtime.caller_cache import CallerCache
from workers.runtime.connector_health import ConnectorHealth
from workers.runtime.desk_config import ConfigSlot, DeskConfig
from workers.runtime.inline_deliveries import InlineDeliveries
from workers.runtime.inline_routes import InlineRoutes

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    start_settings: Settings  # as the process started; ``settings`` follows reloads
    db: Database
    broker: Broker
    channels: ChannelRegistry
    clock: Callable[[], datetime] = utc_now
    ingest_actors: dict[Channel, Actor[..., object]] = field(default_factory=dict)
    deliver_actors: dict[Channel, Actor[..., object]] = field(default_factory=dict)
    route_actor: Actor[..., object] | None = None
    drain_actor: Actor[..., object] | None = None
    sla_actor: Actor[..., object] | None = None
    team_ids: dict[str, int] = field(default_factory=dict)  # teams are never deleted
    # a process without a worker (the CLI in embedded mode) hands its new rows to the
    # scheduler of the running `serve`: due at once instead of after redrive_after_s
    handoff_to_scheduler: bool = False
    _senders: dict[Channel, Sender] = field(default_factory=dict)
    _senders_lock: threading.Lock = field(default_factory=threading.Lock)
    list_actors: set[str] = field(default_factory=set)  # actors whose message may carry ids
    _window: SendWindow | None = None
    configs: ConfigSlot = field(init=False)
    connector_health: ConnectorHealth = field(init=False)  # told with every heartbeat
    # set when the process is told to stop (SIGTERM): batch steps try no further row
    stopping: threading.Event = field(default_factory=threading.Event)
    callers: CallerCache = field(default_factory=CallerCache)  # who tokens, sessions are
    # a worker process that consumes ``route``: ingest's tickets are routed in its thread
    inline_routes: InlineRoutes | None = None
    # a worker process that consumes outbound queues: a lone delivery is made in its thread
    inline_deliveries: InlineDeliveries | None = None

    def __post_init__(self) -> None:
        self.configs = ConfigSlot(DeskConfig.of(self.start_settings))
        self.connector_health = ConnectorHealth(self.now)
        self.db.config_version = lambda: self.configs.current().version

    # -- the configuration (workers/runtime/desk_config.py) ---------------
    @property
    def settings(self) -> Settings:
        """The configuration this thread's message is decided by (the latest outside one)."""
        return self.configs.current().settings

    @settings.setter
    def settings(self, settings: Settings) -> None:
        self.configs.switch(DeskConfig.of(settings))

    @property
    def config_version(self) -> str:
        return self.configs.current().version

    @cached_property
    def gathering(self) -> Gathering:
        return Gathering(self._send_now, self.settings.worker.batch_max)

    def gather_sends(self) -> AbstractContextManager[None]:
        """Sends made inside (after-commit ones included) go out at its end, merged; in a
        process that consumes an outbound queue, a lone delivery on it is then made in
        this thread (``workers/runtime/inline_deliveries.py``)."""
        if self.inline_deliveries is None:
            return self.gathering.block()
        return self.inline_deliveries.block(self.gathering.block)

    def routing_here(self) -> AbstractContextManager[None]:
        """Tickets sent to route inside (after their commit) are routed in this thread at
        its end, in a process that consumes ``route``; elsewhere they are sent."""
        if self.inline_routes is None:
            return nullcontext()
        return self.inline_routes.block()

    # -- time and policy -------------------------------------------------
    def now(self) -> datetime:
        return self.clock()

    @property
    def redrive_after(self) -> timedelta:
        if self.handoff_to_scheduler:
            return timedelta(0)
        return timedelta(seconds=self.settings.scheduler.redrive_after_s)

    @property
    def send_lease(self) -> timedelta:
        return timedelta(seconds=self.settings.scheduler.send_lease_s)

    @property
    def dead_after(self) -> timedelta:
        """A process whose heartbeat is older than this is dead: its leases may be taken."""
        return timedelta(seconds=self.settings.scheduler.dead_after_s)

    @cached_property
    def holder(self) -> str:
        """This runtime's name on the leases it takes and in its heartbeat: host:pid:nonce."""
        return f"{socket.gethostname()[:64]}:{os.getpid()}:{secrets.token_hex(4)}"

    @property
    def default_priority(self) -> Priority:
        return Priority(self.settings.helpdesk.default_priority)

    @property
    def own_addresses(self) -> OwnAddresses:
        """Addresses and domains that are ours: plus-addresses point here, mail from here loops."""
        return self.configs.current().own_addresses

    @property
    def mailbox_addresses(self) -> dict[str, str]:
        """Inbox ``source`` -> the address that mailbox receives (``imap:support`` -> ...)."""
        return self.configs.current().mailbox_addresses

    @property
    def rule_setup(self) -> RuleSetup:
        """The classification rules and their defaults, built once per version."""
        return self.configs.current().rule_setup

    @property
    def sla_policies(self) -> tuple[SlaPolicy, ...]:
        return self.configs.current().sla_policies

    @property
    def calendars(self) -> dict[str, BusinessCalendar]:
        return self.configs.current().calendars

    @property
    def escalation_steps(self) -> tuple[EscalationStep, ...]:
        return self.configs.current().escalation_steps

    @cached_property
    def files(self) -> ContentAddressedFiles:
        return ContentAddressedFiles(self.settings.email.attachments_dir)

    # -- enqueueing the next step (call after commit) --------------------
    def _send(self, actor: Actor | None, *args: object) -> None:
        if actor is None:
            raise RuntimeError("actors are not declared in this process")
        if (
            len(args) == 1
            and isinstance(args[0], int)
            and actor.actor_name in self.list_actors
            and self.gathering.hold(actor, args[0])
        ):
            return
        self._send_now(actor, *args)

    def _send_now(self, actor: Actor, *args: object) -> None:
        try:
            actor.send(*args)
        except Exception:  # the row is durable: the scheduler re-drives it later
            log.warning("could not enqueue %s%r; the scheduler will re-drive it", actor, args)

    def enqueue_ingest(self, inbox_id: int, channel: Channel) -> None:
        self._send(self.ingest_actors.get(channel), inbox_id)

    def enqueue_accepted(self, inbox_id: int, channel: Channel) -> None:
        """A connector's new inbox row: sent with the others of a few milliseconds."""
        actor = self.ingest_actors.get(channel)
        window_ms = self.settings.worker.batch_window_ms
        if actor is None or window_ms <= 0 or self.settings.embedded:
            self.enqueue_ingest(inbox_id, channel)
            return
        with self._senders_lock:
            if self._window is None:
                self._window = SendWindow(
                    self._send_now,
                    window_s=window_ms / 1000,
                    max_ids=self.settings.worker.batch_max,
                )
            window = self._window
        window.add(actor, inbox_id)

    def enqueue_route(self, ticket_id: int, avoid: int | None = None) -> None:
        """Route a ticket; ``avoid``: an agent it was just taken from, unless nobody else
        can take it."""
        if avoid is None:
            if self.inline_routes is not None and self.inline_routes.hold(ticket_id):
                return
            self._send(self.route_actor, ticket_id)
        else:
            self._send(self.route_actor, ticket_id, avoid)

    def enqueue_drain(self, team_id: int, avoid: Mapping[int, int] | None = None) -> None:
        """Drain a team's backlog; ``avoid``: ticket id -> an agent it was just taken from."""
        if not avoid:
            self._send(self.drain_actor, team_id)
        else:  # JSON has no integer keys: pairs
            self._send(self.drain_actor, team_id, sorted(avoid.items()))

    def enqueue_sla(self, ticket_ids: list[int], handed_at: str) -> None:
        self._send(self.sla_actor, ticket_ids, handed_at)

    def enqueue_delivery(self, outbox_id: int, channel: Channel, delay_s: float = 0) -> None:
        """Deliver a row; ``delay_s``: not before then (a wait the far side asked for)."""
        if delay_s <= 0:
            if self.inline_deliveries is None or not self.inline_deliveries.hold(
                outbox_id, channel
            ):
                self.send_delivery(outbox_id, channel)
            return
        actor = self.deliver_actors.get(channel)
        if actor is None:
            raise RuntimeError("actors are not declared in this process")
        try:
            actor.send_with_options(args=(outbox_id,), delay=int(delay_s * 1000) + 1)
        except Exception:  # the row is durable: the scheduler re-drives it after its wait
            log.warning("could not enqueue %s(%s) later; the scheduler will", actor, outbox_id)

    def send_delivery(self, outbox_id: int, channel: Channel) -> None:
        """Send the row's delivery message (merged inside ``gather_sends``), never here."""
        self._send(self.deliver_actors.get(channel), outbox_id)

    # -- outbound connectors, one per channel per process -----------------
    def sender(self, channel: Channel) -> Sender:
        with self._senders_lock:
            if channel not in self._senders:
                self._senders[channel] = self.channels[channel].make_sender(self)
            return self._senders[channel]

    def use_sender(self, channel: Channel, sender: Sender) -> None:
        """Send ``channel``'s messages through ``sender`` from now on (the demo's past
        goes nowhere; tests collect what is sent)."""
        with self._senders_lock:
            self._senders[channel] = sender

    def close(self) -> None:
        if self._window is not None:
            self._window.close()
        with self._senders_lock:
            for sender in self._senders.values():
                sender.close()
            self._senders.clear()
        self.channels.close()
        self.db.dispose()
