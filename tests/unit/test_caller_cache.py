from __future__ import annotations

from datetime import UTC, datetime, timedelta

from router.access import Principal
from router.audit_origin import Origin, Via
from router.staff_views import Caller
from router.vocabulary import Role
from workers.runtime.caller_cache import CallerCache

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
KEY = ("hash-of-secret", "192.0.2.1")


class Clock:
    def __init__(self) -> None:
        self.s = 100.0

    def __call__(self) -> float:
        return self.s


def caller(name: str = "ana") -> Caller:
    principal = Principal(
        agent_id=1, name=name, role=Role.AGENT, teams=frozenset(), supervised=frozenset()
    )
    return Caller(
        principal=principal,
        origin=Origin(actor=principal.actor, via=Via.TOKEN, address=KEY[1]),
        display_name=name,
        teams=(),
        supervised=(),
    )


def test_a_caller_is_remembered_for_its_ttl_then_read_again() -> None:
    clock = Clock()
    cache = CallerCache(ttl_s=2.0, clock=clock)
    cache.put(KEY, caller(), version="v1", until=None)
    assert cache.get(KEY, version="v1", now=NOW) == caller()
    clock.s += 1.9
    assert cache.get(KEY, version="v1", now=NOW) == caller()
    clock.s += 0.1
    assert cache.get(KEY, version="v1", now=NOW) is None
    assert cache.get(KEY, version="v1", now=NOW) is None  # gone, not back


def test_another_address_or_configuration_version_is_not_the_same_caller() -> None:
    cache = CallerCache(ttl_s=2.0, clock=Clock())
    cache.put(KEY, caller(), version="v1", until=None)
    assert cache.get((KEY[0], "192.0.2.2"), version="v1", now=NOW) is None
    assert cache.get(KEY, version="v2", now=NOW) is None


def test_a_caller_is_not_remembered_past_the_instant_its_row_is_to_be_read() -> None:
    cache = CallerCache(ttl_s=2.0, clock=Clock())
    cache.put(KEY, caller(), version="v1", until=NOW + timedelta(seconds=30))
    assert cache.get(KEY, version="v1", now=NOW + timedelta(seconds=29)) is not None
    assert cache.get(KEY, version="v1", now=NOW + timedelta(seconds=30)) is None


def test_forgetting_drops_every_caller_at_once() -> None:
    cache = CallerCache(ttl_s=2.0, clock=Clock())
    cache.put(KEY, caller(), version="v1", until=None)
    cache.put(("other", None), caller("ben"), version="v1", until=None)
    cache.forget_all()
    assert cache.get(KEY, version="v1", now=NOW) is None
    assert cache.get(("other", None), version="v1", now=NOW) is None
