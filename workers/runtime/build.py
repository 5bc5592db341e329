"""Build a process's runtime: its database, broker, channels and actors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from dramatiq import Broker

from config.settings import Settings
from store.db import Database
from workers.channels.registry import ChannelRegistry
from workers.channels.standard import standard_channels
from workers.runtime.actors import declare_actors
from workers.runtime.broker import make_broker
from workers.runtime.context import Runtime, utc_now


def build_runtime(
    settings: Settings,
    *,
    broker: Broker | None = None,
    clock: Callable[[], datetime] = utc_now,
    pool_size: int | None = None,
    channels: ChannelRegistry | None = None,
) -> Runtime:
    """The database, the broker and every actor declared on it, for the channels of
    ``channels`` (default: the standard ones)."""
    size = pool_size or settings.worker.threads + 4
    runtime = Runtime(
        start_settings=settings,
        db=Database(settings.database_url, pool_size=size),
        broker=broker or make_broker(settings),
        channels=channels or standard_channels(),
        clock=clock,
    )
    declare_actors(runtime)
    return runtime
