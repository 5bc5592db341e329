"""Tickets routed in the worker thread that committed them, not sent to ``route``.

A worker process that consumes the ``route`` queue itself would send a lone ticket's
route message only to fetch it back: a send, a fetch by the queue's consumer in every
worker process, an acknowledgement, the middleware's hooks and a thread hand-over, and
a hop's wait. Inside an ``InlineRoutes.block`` (an ingest message), the route sends a
thread makes (after their commit) are held instead, and handed to ``route`` (the
route step's ``route_here``, which routes a lone ticket and sends several to ``route``,
where they are batched as before) when the block ends, after the message's other sends.
A process that does not consume ``route`` has none: it sends, as before. The route
actor's message metrics count messages: the tickets routed here are counted in ROUTED_HERE, and
routing's own log lines are the same (the same ``RouteBatch``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from prometheus_client import Counter

ROUTED_HERE = Counter(
    "relaydesk_tickets_routed_here_total",
    "Tickets routed in the worker thread that ingested them, without a route message",
)


class InlineRoutes:
    """Per thread: while a block is open, tickets sent to route are kept, then routed."""

    def __init__(self, route: Callable[[list[int]], None]) -> None:
        self._route = route
        self._local = threading.local()

    def hold(self, ticket_id: int) -> bool:
        """Keep the ticket for the end of the open block; False when no block is open."""
        held: list[int] | None = getattr(self._local, "held", None)
        if held is None:
            return False
        held.append(ticket_id)
        return True

    @contextmanager
    def block(self) -> Iterator[None]:
        if getattr(self._local, "held", None) is not None:  # nested: the outer block routes
            yield
            return
        self._local.held = []
        try:
            yield
        finally:  # tickets committed before a failure are routed all the same
            held, self._local.held = self._local.held, None
            if held:
                self._route(list(dict.fromkeys(held)))
