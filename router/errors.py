"""The one error tree of relaydesk (``config.ConfigError`` stands apart: config imports nothing).

RelaydeskError
 +-- TransientError         worth retrying: a server is down, a lock timed out
 |    +-- Throttled         the far side asks to wait a while: no failure, no attempt spent
 |    +-- OutOfTurn         an older item of the same sequence is not done yet: wait for it
 +-- PermanentError         retrying cannot help: bad input, a refused recipient
 |    +-- InvalidTransition a ticket status change the lifecycle forbids
 +-- NotFound               a ticket, agent or row that does not exist
 +-- StaleVersion           the ticket changed since the caller read it (If-Match)
 +-- AlreadyTaken           a name or address another record already has
 +-- SignInRefused          a wrong name or password (the answer never says which)
 +-- SignInThrottled        too many failed sign-ins: wait ``retry_after_s``
"""

from __future__ import annotations


class RelaydeskError(Exception):
    """Base class of every error relaydesk raises on purpose."""


class TransientError(RelaydeskError):
    """A failure that may go away: the work is retried with backoff."""


class Throttled(TransientError):
    """The far side asks to wait ``retry_after`` seconds (a rate limit, flood control).

    Nothing failed: the work waits at least that long and is tried again, without
    spending one of its attempts."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class OutOfTurn(TransientError):
    """An older item of the same sequence (one chat's updates) is not done yet: this one
    waits for it, and is handed on once it is. Nothing failed; no attempt is spent."""


class PermanentError(RelaydeskError):
    """A failure that retrying cannot fix: recorded with its reason, never retried."""


class InvalidTransition(PermanentError):
    """A ticket status change that the lifecycle does not allow: from ``current`` to
    ``target`` (status values), for a message in the reader's words."""

    def __init__(self, message: str, current: str = "", target: str = "") -> None:
        super().__init__(message)
        self.current = current
        self.target = target


class NotFound(RelaydeskError):
    """The named thing does not exist."""


class OutOfScope(NotFound):
    """A ticket the caller may not see (or none at all): answered as if it did not exist."""


class NotAllowed(PermanentError):
    """The caller's role may not do this to this ticket."""


class AlreadyTaken(RelaydeskError):
    """A unique name or address (an organisation's name or domain, a customer's address)
    already belongs to another record."""


class StaleVersion(RelaydeskError):
    """The ticket is not at the version the caller read (``If-Match``): they must read it
    again before changing it, so that nobody overwrites another's change unseen."""


class SignInRefused(RelaydeskError):
    """The name and password do not match an account that may sign in."""


class SignInThrottled(RelaydeskError):
    """Too many failed sign-ins for this account or from this address: wait."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"too many failed sign-ins: try again in {retry_after_s} s")
        self.retry_after_s = retry_after_s
