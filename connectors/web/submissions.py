"""A web submission, from the JSON API or the HTML form: accepted once intake has made it
durable, then given a moment (``settings.web.intake_wait_s``) to become a ticket, so a
client usually gets the ticket number at once (201) and otherwise a reference to poll (202).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import replace

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from connectors.ports import Intake, Receipt
from connectors.web.route_paths import url_path
from connectors.web.schemas import AcceptedResponse, TicketRequest
from router.envelopes import AttachmentRef, InboundMessage
from router.errors import TransientError
from router.form_fields import shown
from router.language_choice import stated_languages
from router.vocabulary import Channel, RowState

log = logging.getLogger(__name__)

RECHECK_S = 0.5  # without a signal, a waiting submission is read again this often
MIN_LOOK_S = 0.02  # and never more often than this, whatever wakes it
FORWARDED_HEADERS = ("User-Agent", "X-Forwarded-For", "Accept-Language")
_SETTLED = {RowState.DONE.value, RowState.QUIET.value, RowState.FAILED.value}


class IdempotencyConflict(Exception):
    """The Idempotency-Key was used before for a different request."""


class Submissions:
    """The pipeline shared by the JSON API and the HTML form: accept, then wait a moment."""

    def __init__(self, intake: Intake, *, wait_s: float) -> None:
        self.intake = intake
        self.wait_s = wait_s

    async def submit(
        self,
        ticket: TicketRequest,
        key: str,
        request: Request,
        attachments: tuple[AttachmentRef, ...] = (),
    ) -> AcceptedResponse:
        """Make ``ticket`` (with its kept files) durable under ``key``; raises
        ``TransientError`` if it was not."""
        message = InboundMessage(
            channel=Channel.WEB,
            idempotency_key=f"web:{key}",
            sender_address=ticket.requester.email,
            sender_name=ticket.requester.name,
            subject=ticket.subject,
            body_text=_with_fields(ticket),
            category_hint=ticket.category,
            priority_hint=ticket.priority,
            custom_fields=dict(ticket.custom_fields),
            access_key=secrets.token_urlsafe(18),
            attachments=attachments,
            headers={
                h: request.headers[h][:500] for h in FORWARDED_HEADERS if h in request.headers
            },
            language=stated_languages(ticket.language, request.headers.get("accept-language")),
            template=getattr(ticket, "template", None),  # a form's (requester.form_api)
        )
        receipt = await run_in_threadpool(self.intake.accept, message)
        if receipt.conflict:
            raise IdempotencyConflict()
        return accepted_response(await self._settle(receipt), request)

    async def accept(self, message: InboundMessage) -> Receipt:
        """Make ``message`` durable and wait a moment for it to be taken in (a message on
        a ticket's page: the page shown next then has it)."""
        return await self._settle(await run_in_threadpool(self.intake.accept, message))

    async def _settle(self, receipt: Receipt) -> Receipt:
        """Wait until the ticket number is known, processing stops, or time is up: woken by
        intake's signal, reading the row once per wake (or per ``RECHECK_S`` without one).
        Not at all while older submissions wait: the client gets the status URL at once."""
        if receipt.behind or receipt.conflict:  # a conflict is answered as it is
            return receipt
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.wait_s
        while receipt.ticket_number is None and receipt.state not in _SETTLED:
            looked = loop.time()
            remaining = deadline - looked
            if remaining <= 0:
                break
            await self.intake.wait_settled(receipt.inbox_id, min(RECHECK_S, remaining))
            too_soon = MIN_LOOK_S - (loop.time() - looked)  # never more reads than polling
            if too_soon > 0:
                await asyncio.sleep(too_soon)
            try:
                latest = await run_in_threadpool(self.intake.receipt, receipt.inbox_id)
            except TransientError as exc:  # already durable: answer 202, the client polls
                log.warning("submission %s: status unavailable: %s", receipt.inbox_id, exc)
                break
            if latest is not None:
                receipt = replace(latest, duplicate=receipt.duplicate)
        return receipt


def accepted_response(receipt: Receipt, request: Request) -> AcceptedResponse:
    number = receipt.ticket_number
    key = receipt.access_key or ""
    query = f"?key={key}"
    return AcceptedResponse(
        submission_id=receipt.inbox_id,
        duplicate=receipt.duplicate,
        ticket_number=number,
        access_key=key,
        status_url=url_path(request, "get_submission", submission_id=receipt.inbox_id) + query,
        ticket_url=(
            url_path(request, "get_ticket", number=number) + query if number is not None else None
        ),
        state=receipt.state,
        error=receipt.error,
    )


def _with_fields(ticket: TicketRequest) -> str:
    """The body, and a form's fields listed after it as its page lists them."""
    template = getattr(ticket, "template", None)
    if template is None:
        return ticket.body
    lines = [f"{k}: {shown(v)}" for k, v in ticket.custom_fields.items() if v not in (None, "")]
    return ticket.body + ("\n\n" + "\n".join(lines) if lines else "")
