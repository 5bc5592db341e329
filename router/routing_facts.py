"""What routing knows about an agent and a ticket: frozen, hashable facts.

Skills, per-channel capacity and per-channel load are name -> int maps. They
are stored as ``IntMap`` (immutable and hashable), so the facts stay usable as
dict keys and set members; any ``Mapping`` (a plain dict) may be passed in and
is converted on construction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TypeVar, overload

from router.vocabulary import AgentStatus, Channel, Priority

MAX_SKILL_LEVEL = 5
_T = TypeVar("_T")


class IntMap(Mapping[str, int]):
    """An immutable, hashable ``name -> int`` map: skill levels, per-channel limits and loads."""

    __slots__ = ("_hash", "_values")

    def __init__(self, values: Mapping[str, int] | Iterable[tuple[str, int]] = ()) -> None:
        self._values: dict[str, int] = dict(values)
        self._hash: int | None = None

    @overload
    def get(self, name: str, /) -> int | None: ...
    @overload
    def get(self, name: str, /, default: int | _T) -> int | _T: ...
    def get(self, name: str, /, default: object = None) -> object:
        return self._values.get(name, default)  # the fast path routing uses

    def __getitem__(self, name: str) -> int:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, name: object) -> bool:
        return name in self._values

    def __eq__(self, other: object) -> bool:
        if isinstance(other, IntMap):
            return self._values == other._values
        return isinstance(other, Mapping) and self._values == dict(other.items())

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(frozenset(self._values.items()))
        return self._hash

    def __repr__(self) -> str:
        return f"IntMap({self._values!r})"

    def __reduce__(self) -> tuple[type[IntMap], tuple[dict[str, int]]]:
        return (IntMap, (dict(self._values),))


EMPTY = IntMap()


def _frozen(value: Mapping[str, int]) -> IntMap:
    return value if isinstance(value, IntMap) else IntMap(value)


@dataclass(frozen=True)
class AgentFacts:
    """An agent as routing sees it.

    ``skills`` maps a skill to its level (1-5). ``capacity`` is the most open
    tickets the agent takes at once; ``channel_capacity`` optionally limits a
    channel further (a channel absent from it has no limit of its own), and
    ``channel_load`` counts the agent's open tickets per channel. ``seniority``
    is a level or years: higher is more senior.
    """

    id: int
    name: str
    status: AgentStatus
    capacity: int
    load: int
    teams: frozenset[str]
    last_assigned_at: datetime | None = None
    skills: Mapping[str, int] = EMPTY
    seniority: int = 0
    channel_capacity: Mapping[str, int] = EMPTY
    channel_load: Mapping[str, int] = EMPTY

    def __post_init__(self) -> None:
        object.__setattr__(self, "skills", _frozen(self.skills))
        object.__setattr__(self, "channel_capacity", _frozen(self.channel_capacity))
        object.__setattr__(self, "channel_load", _frozen(self.channel_load))

    @property
    def free_slots(self) -> int:
        return max(self.capacity - self.load, 0)

    def taking(self, channel: str, now: datetime) -> AgentFacts:
        """The agent once it took a ticket in ``channel`` at ``now``: one more load,
        overall and in that channel, and just assigned."""
        channel_load = dict(self.channel_load)
        channel_load[channel] = channel_load.get(channel, 0) + 1
        return replace(self, load=self.load + 1, last_assigned_at=now, channel_load=channel_load)


@dataclass(frozen=True)
class TicketFacts:
    """A ticket as routing sees it.

    ``required_skills`` must all be met (agent level >= the minimum);
    ``optional_skills`` only improve an agent's rank. A skill may appear in
    both, e.g. billing >= 2 required and billing >= 4 preferred.
    ``widened_to`` lists extra teams whose agents may take the ticket too (set
    by ``relax_requirements`` after the skills timeout); ``teams`` is
    ``team`` followed by them. ``sla_due_at`` orders the backlog.
    """

    id: int
    team: str
    priority: Priority
    created_at: datetime
    channel: str = Channel.EMAIL.value
    required_skills: Mapping[str, int] = EMPTY
    optional_skills: Mapping[str, int] = EMPTY
    sla_due_at: datetime | None = None
    widened_to: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "required_skills", _frozen(self.required_skills))
        object.__setattr__(self, "optional_skills", _frozen(self.optional_skills))
        extra = tuple(dict.fromkeys(t for t in self.widened_to if t != self.team))
        object.__setattr__(self, "widened_to", extra)

    @property
    def teams(self) -> tuple[str, ...]:
        """Every team whose agents may take the ticket: its own first."""
        return (self.team, *self.widened_to)
