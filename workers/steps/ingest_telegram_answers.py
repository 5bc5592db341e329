"""Answering in the chat an update came from, and finishing its inbox row."""

from __future__ import annotations

import logging

from connectors.telegram.updates import ChatUpdate
from router.vocabulary import OutboxKind, RowState
from store.db import UnitOfWork
from workers.desk.outgoing import queue_chat
from workers.runtime.context import Runtime

log = logging.getLogger(__name__)


def finish_update(
    runtime: Runtime,
    uow: UnitOfWork,
    inbox_id: int,
    state: RowState,
    ticket_id: int | None,
    why: str = "",
) -> None:
    uow.inbox.finish(inbox_id, state=state, ticket_id=ticket_id, now=runtime.now())
    if why and state is RowState.QUIET:
        log.info("telegram update in inbox %s kept quietly: %s", inbox_id, why)


def say(
    runtime: Runtime,
    uow: UnitOfWork,
    update: ChatUpdate,
    html: str,
    *,
    kind: OutboxKind,
    ticket_id: int | None = None,
) -> None:
    """Answer in the chat the update came from (once per update)."""
    queue_chat(
        runtime,
        uow,
        kind=kind,
        ticket_id=ticket_id,
        chat_id=update.chat_id,
        html=html,
        text="",
        dedupe_key=f"tg-answer:{update.update_id}:{kind}",
        automatic=True,
    )
