"""dramatiq's middleware hooks called only on the middleware that define them.

dramatiq's ``Broker.emit_before`` and ``emit_after`` call the hook of an event on every
middleware of the broker, in order (after-hooks in reverse), logging what one raises
(a ``MiddlewareError`` from a before-hook stops the event). The desk's brokers carry
about fifteen middleware and a message passes six events or more (its enqueue, its
process, its acknowledgement), so most of those calls reach ``Middleware``'s own
hooks, which do nothing. ``DefinedHooks``, a mixin of the desk's brokers, calls the
same hooks in the same order, with the same handling, but keeps for each event the
middleware whose hook is not ``Middleware``'s own, found again whenever the broker's
middleware list is not the one they were found in (``add_middleware``, a worker's own;
compared by identity). The hook itself is looked up at each call, as dramatiq does, so
a hook set on an instance or patched on a class later is the one called; only a hook
given later to a middleware that had none when its event was first sent is not called
(nothing in the desk does that).
"""

from __future__ import annotations

import logging
from functools import cache
from typing import Any, TypeVar, cast

from dramatiq import Broker
from dramatiq.middleware import Middleware, MiddlewareError

Hooks = tuple[Middleware, ...]
B = TypeVar("B", bound=Broker)


@cache
def defined_hooks(broker_class: type[B]) -> type[B]:
    """``broker_class`` (a dramatiq broker) calling its middleware's hooks where defined."""
    return cast(type[B], type(broker_class.__name__, (DefinedHooks, broker_class), {}))


class DefinedHooks:
    """Put before the dramatiq broker class: ``class B(DefinedHooks, RedisBroker)``."""

    middleware: list[Middleware]
    logger: logging.Logger
    # the middleware list the hooks were found in, and the hooks of each signal so far
    _found: tuple[list[Middleware], dict[str, Hooks]] | None = None

    def emit_before(self, signal: str, *args: Any, **kwargs: Any) -> None:
        signal = "before_" + signal
        for middleware in self._defined(signal):
            try:
                getattr(middleware, signal)(self, *args, **kwargs)
            except MiddlewareError:
                raise
            except Exception:
                self._failed(signal, middleware)

    def emit_after(self, signal: str, *args: Any, **kwargs: Any) -> None:
        signal = "after_" + signal
        for middleware in self._defined(signal):
            try:
                getattr(middleware, signal)(self, *args, **kwargs)
            except Exception:
                self._failed(signal, middleware)

    def _defined(self, signal: str) -> Hooks:
        """The middleware whose hook ``signal`` calls, in the order dramatiq calls them (one
        without the hook at all is kept: dramatiq's call fails, and is logged, here too)."""
        if self._found is None or not _same(self._found[0], self.middleware):
            self._found = (list(self.middleware), {})  # one assignment: threads see both
        found_in, found = self._found
        hooks = found.get(signal)
        if hooks is None:
            order = found_in if signal.startswith("before_") else found_in[::-1]
            own = getattr(Middleware, signal, None)
            hooks = tuple(
                middleware
                for middleware in order
                if getattr(getattr(middleware, signal, None), "__func__", None) is not own
                or own is None
            )
            found[signal] = hooks
        return hooks

    def _failed(self, signal: str, middleware: Middleware) -> None:
        self.logger.critical("Unexpected failure in %s of %r.", signal, middleware, exc_info=True)


def _same(found_in: list[Middleware], middleware: list[Middleware]) -> bool:
    """Whether two middleware lists hold the same objects in the same order (by identity:
    a middleware's own ``__eq__`` must not hide a replacement)."""
    return len(found_in) == len(middleware) and all(
        a is b for a, b in zip(found_in, middleware, strict=True)
    )
