"""What a database failure means, decided in one place: an outage, a refused value, or a bug.

Only an outage is worth retrying (and answered "unavailable, retry later" at the
edges: HTTP 503, SMTP 451); a value the database refuses stays refused however
often it is sent, and a programming error is neither.

    SQLAlchemyError
     +-- an outage         -> TransientError    no connection, a lock or statement timeout,
     |                                          a pool exhausted, a server shutting down,
     |                                          a database not created or refusing our login
     +-- a refused value   -> RefusedValue      out of a column's range, too long, a
     |                                          character the database cannot keep, a
     |                                          constraint (PermanentError: never retried)
     +-- anything else     -> itself            a programming error: raised as it is
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import exc as sa

from router.errors import PermanentError, TransientError

# SQLSTATE classes of an outage (PostgreSQL): 08 connection exception, 53 insufficient
# resources, 57 operator intervention (shutdown, statement timeout), 58 system error;
# 40001/40P01 serialization failure and deadlock: the same work succeeds when tried again
_OUTAGE_SQLSTATE_CLASSES = ("08", "53", "57", "58")
_RETRY_SQLSTATES = ("40001", "40P01", "55P03")  # 55P03: lock not available
# at connection time: 28 invalid authorization, 3D000 no such database (createdb, then retry)
_CONNECT_SQLSTATES = ("28", "3D000")
# SQLite's result codes of an outage: BUSY, LOCKED, NOMEM, READONLY, IOERR, FULL, CANTOPEN,
# PROTOCOL (https://sqlite.org/rescode.html)
_SQLITE_OUTAGE_CODES = frozenset({5, 6, 7, 8, 10, 13, 14, 15})


class RefusedValue(PermanentError):
    """The database refused a value it was given: retrying the same value cannot help."""


def is_outage(error: sa.SQLAlchemyError) -> bool:
    """Whether ``error`` is the database being unreachable or busy, not the work being wrong."""
    if isinstance(error, sa.DisconnectionError | sa.TimeoutError | sa.InterfaceError):
        return True
    if isinstance(error, sa.DBAPIError) and error.connection_invalidated:
        return True
    sqlstate = _sqlstate(error)
    if sqlstate is not None:
        return sqlstate.startswith(_OUTAGE_SQLSTATE_CLASSES + _CONNECT_SQLSTATES) or (
            sqlstate in _RETRY_SQLSTATES
        )
    code = getattr(getattr(error, "orig", None), "sqlite_errorcode", None)
    if isinstance(code, int):  # SQLite: its primary result code (a syntax error is SQLITE_ERROR)
        return code & 0xFF in _SQLITE_OUTAGE_CODES
    return isinstance(error, sa.OperationalError)


def is_refused_value(error: sa.SQLAlchemyError) -> bool:
    return isinstance(error, sa.DataError | sa.IntegrityError) and not is_outage(error)


def converted(error: sa.SQLAlchemyError, doing: str) -> Exception:
    """``error`` in the project's terms; ``doing`` says what failed, e.g. "reading ticket 7"."""
    reason = _first_line(error)
    if is_outage(error):
        return TransientError(f"the store is unavailable ({doing}): {reason}")
    if is_refused_value(error):
        return RefusedValue(f"the store refused a value ({doing}): {reason}")
    return error


@contextmanager
def store_errors(doing: str) -> Iterator[None]:
    """Raise an outage as ``TransientError`` and a refused value as ``RefusedValue``;
    anything else (a programming error) goes up unchanged."""
    try:
        yield
    except sa.SQLAlchemyError as error:
        better = converted(error, doing)
        if better is error:
            raise
        raise better from error


def _sqlstate(error: sa.SQLAlchemyError) -> str | None:
    orig = getattr(error, "orig", None)
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return state if isinstance(state, str) else None


def _first_line(error: sa.SQLAlchemyError) -> str:
    orig = getattr(error, "orig", None)
    text = str(orig if orig is not None else error).strip()
    return text.splitlines()[0] if text else type(error).__name__
