"""What the inbound SMTP server accepts, decided without IO: recipients and reply lines.

``RecipientPolicy.check`` answers one ``RCPT TO`` with a ``Verdict`` (the reply
and the reason, for the log). It is what keeps the server from being an open
relay: only the configured addresses (and their plus-addresses) and any address
at a configured domain are accepted, and at most ``max_recipients`` of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from config.email_settings import SmtpInboundSettings

ACCEPTED = "250 2.1.5 OK"
TOO_MANY_RECIPIENTS = "452 4.5.3 Too many recipients"
TEMPORARY_FAILURE = "451 4.3.0 Temporary failure, try again later"
_ECHO_LIMIT = 200  # characters of an address or a reason echoed in a reply


@dataclass(frozen=True)
class Verdict:
    """The answer to one ``RCPT TO``: the SMTP reply line and why."""

    accepted: bool
    reply: str
    reason: str
    duplicate: bool = False  # accepted before in this transaction: do not add it twice


@dataclass(frozen=True)
class RecipientPolicy:
    """Which recipients the server takes mail for (lower-case addresses and domains)."""

    addresses: frozenset[str]
    domains: frozenset[str]
    max_recipients: int

    @classmethod
    def from_settings(cls, settings: SmtpInboundSettings) -> RecipientPolicy:
        return cls(
            addresses=frozenset(a.lower() for a in settings.addresses),
            domains=frozenset(d.lower() for d in settings.domains),
            max_recipients=settings.max_recipients,
        )

    def is_ours(self, address: str) -> bool:
        """True for a configured address, its plus-address, or any address at our domains."""
        local, _, domain = address.lower().rpartition("@")
        if domain in self.domains:
            return True
        base = local.split("+", 1)[0]
        return f"{local}@{domain}" in self.addresses or f"{base}@{domain}" in self.addresses

    def check(self, address: str, accepted: Sequence[str]) -> Verdict:
        """Whether ``address`` is accepted, given the recipients ``accepted`` so far."""
        local, at, domain = address.rpartition("@")
        if not (at and local and domain):
            return Verdict(False, f"553 5.1.3 <{echo(address)}>: malformed address", "malformed")
        if not self.is_ours(address):
            reply = f"550 5.7.1 <{echo(address)}>: relay access denied"
            return Verdict(False, reply, "not a configured address or domain")
        if address.lower() in (a.lower() for a in accepted):
            return Verdict(True, ACCEPTED, "already accepted", duplicate=True)
        if len(accepted) >= self.max_recipients:
            return Verdict(False, TOO_MANY_RECIPIENTS, f"limit {self.max_recipients} reached")
        return Verdict(True, ACCEPTED, "configured address or domain")


def refused_reply(reason: str) -> str:
    """The 554 reply of a message refused for good, with its reason on one safe line."""
    return f"554 5.6.0 {echo(reason) or 'Message refused'}"


def queued_reply(queue_id: str) -> str:
    return f"250 2.0.0 OK: queued as {queue_id}"


def echo(text: str) -> str:
    """``text`` made safe to put in a reply: printable ASCII on one line, bounded."""
    one_line = " ".join(text.split())
    return "".join(c if " " <= c <= "~" else "?" for c in one_line)[:_ECHO_LIMIT]
