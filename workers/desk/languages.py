"""Which language a person is written to in: an agent's is in config, a requester's was
stated by them (``router.language_choice``, at ingest) and is kept on the customer."""

from __future__ import annotations

from typing import Protocol

from router.language_choice import requester_language, stated_language
from router.vocabulary import Channel
from store.db import UnitOfWork
from store.models import Agent, Customer
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


def chat_language(
    runtime: Runtime, uow: UnitOfWork, chat_id: str, stated: str, agent: Agent | None
) -> str:
    """The language to answer someone in a chat in: a linked agent's, else what their
    Telegram app states (``language_code``), else what is known of them, else the desk's."""
    if agent is not None:
        return agent_language(runtime, agent)
    said = stated_language(stated)
    if said is not None:
        return said  # (what the app states wins: no need to look them up)
    known = uow.customers.known(Channel.TELEGRAM, chat_id) if chat_id else None
    return requester_language(
        stated=stated,
        known=known.language if known is not None else None,
        default=runtime.settings.helpdesk.language,
    )
