"""What the fault benchmark reads back: when each input was done, and the reconciliation.

An input is *done* when its inbox row is done, its ticket is assigned, and the ticket's
outbox rows (the customer's acknowledgement and the agent's notice) are all delivered.
``Ledger.watch`` reads that from the store every half second, so a fault's recovery is
the time from its end until every input accepted before it is done and a new one is.
"""

from __future__ import annotations

import math
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, create_engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from benchmarks.fault_load import Input, Load
from store.models import InboxItem, OutboxItem, Ticket
from tests.support.smtp_sink import SmtpSink
from tests.support.telegram_server import TelegramServer

DELIVERIES_PER_TICKET = 2  # the customer's acknowledgement, the agent's notice


def normal_key(key: str) -> str:
    """An inbox key as the load names it (a Telegram key names the bot by its id there)."""
    if key.startswith("update:"):
        return "telegram:" + key.rsplit(":", 1)[1]
    return key


def input_key(item: Input) -> str:
    return normal_key(item.key)


@dataclass(frozen=True)
class Fault:
    kind: str
    started: float  # monotonic
    ended: float  # the broken thing is back (a kill: the moment of the kill)


class Ledger:
    def __init__(self, database_url: str, load: Load) -> None:
        self.engine = create_engine(database_url, pool_pre_ping=True, pool_size=1)
        self.load = load
        self.done_at: dict[str, float] = {}
        self.read_errors = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="ledger", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
        self.engine.dispose()

    def _watch(self) -> None:
        while not self._stop.wait(0.5):
            try:
                done = self.done_keys()
            except SQLAlchemyError:  # the database is being restarted
                self.read_errors += 1
                continue
            now = time.monotonic()
            for key in done:
                self.done_at.setdefault(key, now)

    def done_keys(self) -> set[str]:
        delivered = func.sum(case((OutboxItem.state == "done", 1), else_=0))
        open_rows = func.sum(case((OutboxItem.state.in_(("pending", "sending")), 1), else_=0))
        query = (
            select(InboxItem.idempotency_key)
            .join(Ticket, Ticket.id == InboxItem.ticket_id)
            .join(OutboxItem, OutboxItem.ticket_id == Ticket.id)
            .where(InboxItem.state == "done", Ticket.assignee_id.is_not(None))
            .group_by(InboxItem.idempotency_key)
            .having(and_(delivered >= DELIVERIES_PER_TICKET, open_rows == 0))
        )
        with self.engine.connect() as conn:
            return {normal_key(k) for k in conn.scalars(query)}

    def wait_drained(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(input_key(i) in self.done_at for i in self.load.accepted()):
                return True
            time.sleep(0.5)
        return False

    def recovered(self, fault: Fault) -> bool:
        """Whether ``fault`` is over for the load: every input accepted before its end is
        done, and one accepted after it is too."""
        after = [i for i in self.load.accepted() if (i.accepted_at or 0) > fault.ended]
        return any(input_key(i) in self.done_at for i in after) and math.isfinite(
            self.recovery(fault)
        )

    def recovery(self, fault: Fault) -> float:
        """Seconds from the fault's end until every input accepted before it is done and
        one accepted after it is too (inf: it never happened)."""
        inputs = self.load.accepted()
        before = [i for i in inputs if (i.accepted_at or 0) <= fault.ended]
        after = [i for i in inputs if (i.accepted_at or 0) > fault.ended]
        held = [self.done_at.get(input_key(i), float("inf")) for i in before]
        new = min((self.done_at.get(input_key(i), float("inf")) for i in after), default=0.0)
        return max([*held, new, fault.ended]) - fault.ended

    def slowest(self, fault: Fault) -> Input | None:
        """The input accepted before ``fault`` that was done last."""
        before = [i for i in self.load.accepted() if (i.accepted_at or 0) <= fault.ended]
        if not before:
            return None
        return max(before, key=lambda i: self.done_at.get(input_key(i), float("inf")))

    def timeline(self, item: Input, fault: Fault) -> list[str]:
        """Where ``item`` spent its time, in seconds from ``fault``'s end, from the store."""
        zero = time.time() - (time.monotonic() - fault.ended)

        def at(moment: datetime | None) -> str:
            return "-" if moment is None else f"{moment.timestamp() - zero:+.1f}"

        lines = [f"{item.channel} {item.token}: accepted {at_mono(item.accepted_at, fault)}"]
        with self.engine.connect() as conn:
            for row in conn.execute(
                select(InboxItem.idempotency_key, InboxItem.received_at, InboxItem.updated_at,
                       InboxItem.attempts, InboxItem.ticket_id)
            ):  # fmt: skip
                if normal_key(row[0]) != input_key(item):
                    continue
                lines.append(f"  inbox received {at(row[1])} updated {at(row[2])} x{row[3]}")
                ticket = conn.execute(
                    select(Ticket.created_at, Ticket.assigned_at).where(Ticket.id == row[4])
                ).first()
                if ticket is not None:
                    lines.append(f"  ticket created {at(ticket[0])} assigned {at(ticket[1])}")
                for out in conn.execute(
                    select(OutboxItem.kind, OutboxItem.channel, OutboxItem.created_at,
                           OutboxItem.sent_at, OutboxItem.attempts, OutboxItem.error)
                    .where(OutboxItem.ticket_id == row[4])
                ):  # fmt: skip
                    lines.append(
                        f"  {out[0]} by {out[1]} queued {at(out[2])} sent {at(out[3])} "
                        f"x{out[4]} {out[5] or ''}"
                    )
        return lines


def at_mono(moment: float | None, fault: Fault) -> str:
    return "-" if moment is None else f"{moment - fault.ended:+.1f}"


def reconcile(
    database_url: str, load: Load, sink: SmtpSink, telegram: TelegramServer
) -> dict[str, int]:
    """Every accepted input against the store, and every outbox row against what arrived."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            inbox = {
                normal_key(key): ticket
                for key, ticket in conn.execute(
                    select(InboxItem.idempotency_key, InboxItem.ticket_id)
                )
            }
            tickets = conn.scalar(select(func.count()).select_from(Ticket)) or 0
            outbox = conn.execute(
                select(OutboxItem.channel, OutboxItem.state, OutboxItem.message_id,
                       OutboxItem.recipient, OutboxItem.id, OutboxItem.attempts,
                       OutboxItem.error, OutboxItem.available_at, OutboxItem.kind,
                       OutboxItem.lease_holder)
            ).all()  # fmt: skip
    finally:
        engine.dispose()
    accepted = load.accepted()
    ticket_of = {input_key(i): inbox.get(input_key(i)) for i in accepted}
    mail = Counter(m.message_id for m in sink.messages)
    chats = Counter(str(m["chat_id"]) for m in telegram.sent())
    rows_per_chat = Counter(r.recipient for r in outbox if r.channel == "telegram")
    duplicated = sum(n - 1 for n in mail.values() if n > 1) + sum(
        max(chats[chat] - n, 0) for chat, n in rows_per_chat.items()
    )
    undelivered = sum(1 for r in outbox if r.state != "done")
    for r in outbox:
        if r.state != "done":
            print(
                f"  undelivered: outbox {r.id} {r.kind} by {r.channel} {r.state} "
                f"x{r.attempts} due {r.available_at:%H:%M:%S} held by {r.lease_holder}: "
                f"{(r.error or '')[:200]}",
                flush=True,
            )
    undelivered += sum(
        1 for r in outbox if r.channel == "email" and r.state == "done" and not mail[r.message_id]
    )
    undelivered += sum(max(n - chats[chat], 0) for chat, n in rows_per_chat.items())
    return {
        "offered": len(load.snapshot()),
        "accepted": len(accepted),
        "tickets": tickets,
        "lost": sum(1 for t in ticket_of.values() if t is None),
        "duplicated_tickets": tickets - len({t for t in ticket_of.values() if t is not None}),
        "duplicated_deliveries": duplicated,
        "undelivered": undelivered,
        "deliveries": len(outbox),
    }


def summarise(kind_recoveries: dict[str, list[float]]) -> dict[str, str]:
    """recovery_<kind>_p50_s and _max_s, each fault kind's recoveries in seconds."""
    figures: dict[str, str] = {}
    for kind, values in kind_recoveries.items():
        figures[f"recovery_{kind}_p50_s"] = f"{statistics.median(values):.1f}"
        figures[f"recovery_{kind}_max_s"] = f"{max(values):.1f}"
    return figures
