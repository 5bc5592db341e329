"""Which language a person is written to in: an agent's is in config, a requester's was
stated by them (``router.language_choice``, at ingest) and is kept on the customer."""

from __future__ import annotations

from typing import Protocol

from store.models import Customer
from workers.runtime.context import Runtime


class _Speaker(Protocol):
    @property
    def language(self) -> str | None: ...


def agent_language(runtime: Runtime, agent: _Speaker) -> str:
    """The language of an agent's notices and bot answers: theirs, else the desk's."""
    return agent.language or runtime.settings.helpdesk.language


def customer_language(runtime: Runtime, customer: Customer | None) -> str:
    """The language of what the desk says to a requester: the one they last stated (or
    chose), else the desk's."""
    known = customer.language if customer is not None else None
    return known or runtime.settings.helpdesk.language
