"""Heartbeats of the running processes: who is alive, and since when each went quiet."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, select, update
from sqlalchemy.orm import Session

from store.dialect import insert_ignoring_conflict
from store.models import ProcessBeat


@dataclass(frozen=True)
class Beating:
    """What a process says of itself in every beat."""

    holder: str  # host:pid:nonce, unique to one life of one process
    kind: str  # worker, scheduler, connectors, web, serve
    host: str
    pid: int
    queues: tuple[str, ...] = ()


class ProcessBeatRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def beat(
        self,
        me: Beating,
        *,
        started_at: datetime,
        now: datetime,
        health: dict[str, Any] | None = None,
    ) -> None:
        """The process is alive at ``now`` (its row made on its first beat); ``health`` is
        what its connectors last did (``workers/runtime/connector_health.py``), if any."""
        moved = self.session.execute(
            update(ProcessBeat)
            .where(ProcessBeat.holder == me.holder)
            .values(beat_at=now, health=health)
            .execution_options(synchronize_session=False)
        )
        if getattr(moved, "rowcount", 0):
            return
        insert_ignoring_conflict(
            self.session,
            ProcessBeat,
            {
                "holder": me.holder,
                "kind": me.kind,
                "host": me.host,
                "pid": me.pid,
                "queues": ",".join(me.queues),
                "started_at": started_at,
                "beat_at": now,
                "health": health,
            },
        )

    def mark_dead(self, *, host: str, pid: int, quiet_since: datetime) -> list[str]:
        """A process its supervisor saw die (``host``, ``pid``): its beat is put back to
        ``quiet_since`` so that it counts as dead at once; returns the holders marked."""
        rows = self.session.execute(
            update(ProcessBeat)
            .where(
                ProcessBeat.host == host,
                ProcessBeat.pid == pid,
                ProcessBeat.beat_at > quiet_since,
            )
            .values(beat_at=quiet_since)
            .returning(ProcessBeat.holder)
            .execution_options(synchronize_session=False)
        ).all()
        return [row[0] for row in rows]

    def forget(self, holder: str) -> None:
        """A process that stopped cleanly: no longer listed."""
        self.session.execute(delete(ProcessBeat).where(ProcessBeat.holder == holder))

    def all(self) -> list[ProcessBeat]:
        return list(self.session.scalars(select(ProcessBeat).order_by(ProcessBeat.started_at)))


def quiet_since(cutoff: datetime) -> Select[Any]:
    """The holders whose last beat is older than ``cutoff``: dead, as far as anyone knows."""
    return select(ProcessBeat.holder).where(ProcessBeat.beat_at < cutoff)
