"""The configuration a process decides by, swapped whole between messages.

A ``DeskConfig`` is one version of the desk's configuration with what is built from
it (the rule book, SLA policies, calendars), immutable once made; during a pilot it
carries the candidate and its teams (``router/pilot.py``), and ``ConfigSlot.for_team``
makes the version of a ticket's team decide while a step works on that ticket. A ``ConfigSlot``
holds the process's latest one and pins it to a thread (its context: a web request's
task too) for the length of a message or request (``workers.runtime.config_follow``):
a message is decided by one version from its start to its end, whatever another
thread switches to meanwhile.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from config.settings import Settings
from config.versions import DeskFile
from router.business_calendar import BusinessCalendar
from router.pilot import PilotPlan, classify_in_pilot
from router.rule_facts import MessageFacts
from router.rule_simulation import RuleSetup
from router.rules import Classified
from router.sla_policy import EscalationStep, SlaPolicy
from router.thread_keys import OwnAddresses
from router.vocabulary import Priority

# a machine's own: never part of a version, never taken from one
MACHINE_KEYS = frozenset({"database_url", "broker_url", "log_format"})


def shared_file(settings: Settings) -> DeskFile:
    """What of ``settings`` the fleet shares, as a version (config/versions.py): the keys
    the file and the environment set, not the defaults (validated again as they were)."""
    data: dict[str, Any] = settings.model_dump(
        mode="json", exclude=set(MACHINE_KEYS), exclude_unset=True
    )
    return DeskFile.of(data)


@dataclass(frozen=True, eq=False)
class DeskConfig:
    settings: Settings
    version: str
    pilot: tuple[DeskConfig, frozenset[str]] | None = None  # the candidate and its teams

    @classmethod
    def of(cls, settings: Settings) -> DeskConfig:
        return cls(settings, shared_file(settings).version)

    @property
    def plan(self) -> PilotPlan[DeskConfig] | None:
        return PilotPlan(self, *self.pilot) if self.pilot else None

    def for_team(self, team: str | None) -> DeskConfig:
        """The version that decides for a ticket of ``team``: the pilot's candidate for a
        pilot team, else this one."""
        plan = self.plan
        return plan.deciding(team) if plan else self

    def classify(
        self,
        facts: MessageFacts,
        *,
        category_hint: str | None = None,
        priority_hint: Priority | None = None,
    ) -> tuple[Classified, DeskConfig]:
        """A new ticket's classification, and the version that made it (a pilot's
        candidate when the ticket goes to a pilot team: ``router.pilot.classify_in_pilot``)."""
        if self.pilot is None:
            decision = self.rule_setup.decide(
                facts, category_hint=category_hint, priority_hint=priority_hint
            )
            return decision, self
        candidate, teams = self.pilot
        made = classify_in_pilot(
            facts,
            self.rule_setup,
            candidate.rule_setup,
            teams,
            category_hint=category_hint,
            priority_hint=priority_hint,
        )
        return made.decision, candidate if made.by_candidate else self

    @cached_property
    def rule_setup(self) -> RuleSetup:
        """The classification rules and their defaults, built once (regexes compile here)."""
        from workers.runtime.rule_book import rule_setup

        return rule_setup(self.settings)

    @cached_property
    def sla_policies(self) -> tuple[SlaPolicy, ...]:
        from workers.runtime.sla_policies import sla_policies

        return sla_policies(self.settings.sla)

    @cached_property
    def calendars(self) -> dict[str, BusinessCalendar]:
        from workers.runtime.sla_policies import business_calendars

        return business_calendars(self.settings.sla)

    @cached_property
    def escalation_steps(self) -> tuple[EscalationStep, ...]:
        from workers.runtime.sla_policies import escalation_steps

        return escalation_steps(self.settings.sla)

    @cached_property
    def own_addresses(self) -> OwnAddresses:
        """Addresses and domains that are ours: plus-addresses point here, mail from here loops."""
        email = self.settings.email
        addresses = {self.settings.helpdesk.address.lower(), *email.own_addresses}
        addresses.update(m.address for m in email.mailboxes if m.address)
        addresses.update(email.inbound_smtp.addresses)
        return OwnAddresses(
            addresses=frozenset(addresses), domains=frozenset(email.inbound_smtp.domains)
        )

    @cached_property
    def mailbox_addresses(self) -> dict[str, str]:
        """Inbox ``source`` -> the address that mailbox receives (``imap:support`` -> ...)."""
        return {f"imap:{m.name}": m.address for m in self.settings.email.mailboxes if m.address}


class ConfigSlot:
    """The process's latest configuration, and the one pinned to each thread's message."""

    def __init__(self, first: DeskConfig) -> None:
        self._latest = first
        self._pinned: ContextVar[DeskConfig | None] = ContextVar("pinned_config", default=None)
        # the version of the ticket a step works on (a pilot's), inside ``for_team``
        self._deciding: ContextVar[DeskConfig | None] = ContextVar("team_config", default=None)
        self.change_seen: int | None = None  # the store's change this process follows

    @property
    def latest(self) -> DeskConfig:
        return self._latest

    def current(self) -> DeskConfig:
        """The version deciding for the calling thread: its ticket's team's inside
        ``for_team``, else its pinned configuration, else the latest."""
        deciding = self._deciding.get()
        return deciding if deciding is not None else self.desk()

    def desk(self) -> DeskConfig:
        """The calling thread's pinned configuration (the desk's, with its pilot), else
        the latest."""
        pinned = self._pinned.get()
        return pinned if pinned is not None else self._latest

    @contextmanager
    def deciding(self, config: DeskConfig) -> Iterator[DeskConfig]:
        """``config`` decides inside (the version a pilot's classification chose)."""
        token = self._deciding.set(config)
        try:
            yield config
        finally:
            self._deciding.reset(token)

    def for_team(self, team: str | None) -> AbstractContextManager[DeskConfig]:
        """Inside, the version of ``team`` decides: during a pilot, the candidate for a
        pilot team's ticket, the desk's version for any other."""
        return self.deciding(self.desk().for_team(team))

    def switch(self, config: DeskConfig, change_id: int | None = None) -> None:
        """From the next message (or read) on, ``config``; pinned messages keep theirs."""
        self._latest = config
        if change_id is not None:
            self.change_seen = change_id

    def pin(self) -> None:
        self._pinned.set(self._latest)

    def unpin(self) -> None:
        self._pinned.set(None)

    @contextmanager
    def pinned(self) -> Iterator[DeskConfig]:
        """One version for everything inside (a scheduler's sweep)."""
        self.pin()
        try:
            yield self.current()
        finally:
            self.unpin()
