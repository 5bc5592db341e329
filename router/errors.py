"""The one error tree of relaydesk (``config.ConfigError`` stands apart: config imports nothing).

RelaydeskError
 +-- TransientError         worth retrying: a server is down, a lock timed out
 +-- PermanentError         retrying cannot help: bad input, a refused recipient
 |    +-- InvalidTransition a ticket status change the lifecycle forbids
 +-- NotFound               a ticket, agent or row that does not exist
 +-- SignInRefused          a wrong name or password (the answer never says which)
 +-- SignInThrottled        too many failed sign-ins: wait ``retry_after_s``
"""

from __future__ import annotations


class RelaydeskError(Exception):
    """Base class of every error relaydesk raises on purpose."""


class TransientError(RelaydeskError):
    """A failure that may go away: the work is retried with backoff."""


class PermanentError(RelaydeskError):
    """A failure that retrying cannot fix: recorded with its reason, never retried."""


class InvalidTransition(PermanentError):
    """A ticket status change that the lifecycle does not allow."""


class NotFound(RelaydeskError):
    """The named thing does not exist."""


class SignInRefused(RelaydeskError):
    """The name and password do not match an account that may sign in."""


class SignInThrottled(RelaydeskError):
    """Too many failed sign-ins for this account or from this address: wait."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"too many failed sign-ins: try again in {retry_after_s} s")
        self.retry_after_s = retry_after_s
