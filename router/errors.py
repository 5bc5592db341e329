"""The one error tree of relaydesk (``config.ConfigError`` stands apart: config imports nothing).

RelaydeskError
 +-- TransientError         worth retrying: a server is down, a lock timed out
 +-- PermanentError         retrying cannot help: bad input, a refused recipient
 |    +-- InvalidTransition a ticket status change the lifecycle forbids
 +-- NotFound               a ticket, agent or row that does not exist
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
