"""The ingest hot path's statements on the inbox, built once: building them costs more than
running them (see ``store.dialect``). Core statements on the table, values as parameters;
``store.inbox.InboxRepository`` and ``store.inbox.begin_attempts`` run them."""

from __future__ import annotations

from sqlalchemy import (
    CTE,
    Select,
    String,
    bindparam,
    case,
    cast,
    exists,
    func,
    literal_column,
    select,
    union_all,
    update,
)

from router.vocabulary import Channel, RowState
from store import inbox_signals
from store.dialect import picked, table
from store.models import InboxItem

INBOX = table(InboxItem).c


def _locked(name: str, *, skip_locked: bool) -> CTE:
    """The rows of ``ids`` with their state, found by their key and locked, once (a
    materialized CTE); ``skip_locked``: leave out those another transaction holds, else
    wait for them. A statement on rows it knows by id checks their state here, on the row
    it locked (``_pending``), never in its own WHERE: on a desk with history the
    statistics see the pending rows as none (a sample of the table is all done rows), and
    a state condition there was planned as a walk of every pending row (``ix_inbox_due``)
    probing the ids at each one (``begin_attempts`` 3.9 s with 3,000 rows pending beside
    590,000 done ones: 0.3 ms found by key)."""
    return (
        select(INBOX.id, INBOX.state)
        .where(INBOX.id.in_(bindparam("ids", expanding=True)))
        .with_for_update(skip_locked=skip_locked, key_share=True)
        .cte(name)
        .prefix_with("MATERIALIZED")  # (SQLite too: it would look the state up in ix_inbox_due)
    )


def _pending(rows: CTE) -> Select[tuple[int]]:
    """The ids of ``rows`` (``_locked``) that are pending, as locked."""
    return select(rows.c.id).where(rows.c.state == RowState.PENDING.value)


# count an attempt on the pending rows no other transaction holds (``begin_attempts``)
BEGIN_ATTEMPTS = (
    update(table(InboxItem))
    .where(INBOX.id.in_(_pending(_locked("held", skip_locked=True))))
    .values(
        attempts=INBOX.attempts + 1,
        available_at=bindparam("lease_until"),
        updated_at=bindparam("at"),
    )
    .returning(INBOX.id, INBOX.attempts)
)
# the batch's own rows, locked as the claim locks them (waiting for a holder)
OWN = _locked("own", skip_locked=False)
# move the pending rows of ``ids`` to done (``claim_many``), with their raw bytes: ingest
# reads an email's next, and a statement of its own for them cost a batch a round trip
CLAIM = (
    update(table(InboxItem))
    .where(INBOX.id.in_(_pending(OWN)))
    .values(state=RowState.DONE.value, updated_at=bindparam("at"))
    .returning(INBOX.id, INBOX.payload, INBOX.raw)
)
# on PostgreSQL a claim also tells whoever waits for a claimed web row (``inbox_signals``: a
# NOTIFY of its id, delivered when the transaction commits, as the unit of work's would be)
# in its own statement, instead of the unit of work's statement before the commit
TELL = case(
    (
        INBOX.channel == Channel.WEB.value,
        func.pg_notify(inbox_signals.CHANNEL, cast(INBOX.id, String)),
    ),
    else_=None,
)
CLAIM_TELLING = CLAIM.returning(TELL)  # (RETURNING id, payload, raw and this)
# claim up to ``limit`` pending rows of ``channel`` that no attempt has begun, skipping
# those another transaction holds (``take_waiting``: a worker with a backlog behind it).
# The state and the attempts are written in the statement, not bound, so that the plan
# PostgreSQL keeps for the prepared statement can use the partial index on these rows
# (``ix_inbox_waiting``; a generic plan cannot prove a parameter matches its condition)
WAITING = (
    select(INBOX.id)
    .where(
        INBOX.state == literal_column(f"'{RowState.PENDING.value}'"),
        INBOX.channel == bindparam("of_channel"),
        INBOX.attempts == literal_column("0"),
    )
    .order_by(INBOX.id)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True)
)
# the claim of ``ids`` and those rows in one statement (``claim_many`` with ``take_along``):
# the batch's own rows are locked as the claim locks them, the rows taken along skipped
# when held, never waited for (an attempt began on none of them: no other batch waits
# for one to claim it). The ids are one list (UNION ALL), so each row is found by its key:
# ``id IN (...) OR id IN (waiting)`` was planned as a scan of the pending rows or the table.
# The rows taken along are pending as the pick locked them, the own ones as ``OWN`` did;
# the pick leaves the own ones out (it may lock again a row its transaction locked), as
# ``besides``: the ids again, in a parameter of their own (one expanding parameter in an
# IN and a NOT IN renders the empty list's form of the NOT IN, always true, in both)
BESIDES_OWN = WAITING.where(INBOX.id.not_in(bindparam("besides", expanding=True)))
CLAIM_TAKING_ALONG = (
    update(table(InboxItem))
    .where(INBOX.id.in_(union_all(_pending(OWN), picked(BESIDES_OWN, "waiting"))))
    .values(state=RowState.DONE.value, updated_at=bindparam("at"))
    .returning(INBOX.id, INBOX.payload, INBOX.raw)
)
CLAIM_TAKING_ALONG_TELLING = CLAIM_TAKING_ALONG.returning(TELL)
# the raw bytes of a batch's rows (``raws``; a row that kept none reads None)
RAWS = select(INBOX.id, INBOX.raw).where(INBOX.id.in_(bindparam("ids", expanding=True)))

STATES_AND_RAWS = select(INBOX.id, INBOX.state, INBOX.raw).where(
    INBOX.id.in_(bindparam("ids", expanding=True))
)
"""The rows' states and raw bytes, found by their key (a state in the WHERE is planned
badly on a desk with history: see ``_locked``)."""

_OLDER = table(InboxItem).alias("older")
WAITING_BEHIND = select(INBOX.id).where(
    INBOX.id.in_(bindparam("ids", expanding=True)),
    INBOX.sequence_key.is_not(None),
    exists().where(
        _OLDER.c.sequence_key == INBOX.sequence_key,
        _OLDER.c.state == RowState.PENDING.value,
        _OLDER.c.id < INBOX.id,
        _OLDER.c.id.not_in(bindparam("besides", expanding=True)),
    ),
)
"""Those of ``ids`` with an older pending row of their sequence not one of ``besides``."""

_MINE = table(InboxItem).alias("mine")
NEXT_IN_SEQUENCES = (
    select(func.min(INBOX.id))
    .join_from(table(InboxItem), _MINE, _MINE.c.sequence_key == INBOX.sequence_key)
    .where(
        _MINE.c.id.in_(bindparam("ids", expanding=True)),
        INBOX.state == RowState.PENDING.value,
        INBOX.id.not_in(bindparam("done", expanding=True)),
    )
    .group_by(INBOX.sequence_key)
)
"""The oldest pending row of each of ``ids``'s sequences that is not one of ``done`` (the
same rows): found from the rows by their key, then their sequences by ``ix_inbox_sequence``."""
