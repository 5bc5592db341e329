"""The texts relaydesk sends: an acknowledgement to the requester, a notice to the agent.

Pure rendering: the caller decides who receives them and through which channel.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from router.thread_keys import subject_tag
from router.vocabulary import Channel


@dataclass(frozen=True)
class Rendered:
    subject: str
    body_text: str

    @property
    def body_html(self) -> str:
        """The same text as HTML, for the alternative part: escaped, paragraphs kept."""
        paragraphs = [p for p in self.body_text.split("\n\n") if p.strip()]
        inner = "\n".join(
            "<p>" + "<br>\n".join(html.escape(line) for line in p.strip("\n").split("\n")) + "</p>"
            for p in paragraphs
        )
        return f"<!DOCTYPE html>\n<html><body>\n{inner}\n</body></html>\n"


# the last line of every notice by mail: what a reply to it becomes
REPLY_REACHES_CUSTOMER = "Reply to this mail to answer the customer: what you write reaches them."
REPLY_STAYS_INTERNAL = (
    "A reply to this mail is an internal note on the ticket: the customer never sees it."
)


def requester_label(name: str, address: str, channel: str) -> str:
    """How a notice names a requester: ``Jo Park <jo@example.org>``; on a chat, whose
    address is a number that means nothing to a person, ``Kim Park (via Telegram)``."""
    name = " ".join(name.split())
    if channel == Channel.TELEGRAM.value:
        return f"{name} (via Telegram)" if name else "someone via Telegram"
    return f"{name} <{address}>" if name else address


def _tagged(subject: str, number: int, prefix: str) -> str:
    tag = subject_tag(number, prefix)
    clean = " ".join(subject.split()) or "(no subject)"
    return clean if tag in clean else f"{tag} {clean}"


def acknowledgement(
    *, number: int, subject: str, requester_name: str, helpdesk_name: str, tag_prefix: str = "#"
) -> Rendered:
    greeting = f"Hello {requester_name}," if requester_name else "Hello,"
    body = (
        f"{greeting}\n\n"
        f"we have received your request and opened ticket {subject_tag(number, tag_prefix)}.\n"
        f"Subject: {' '.join(subject.split()) or '(no subject)'}\n\n"
        "An agent will answer you soon. Reply to this message to add information;\n"
        "please keep the ticket number in the subject.\n\n"
        f"-- {helpdesk_name}\n"
    )
    return Rendered(subject=_tagged(subject, number, tag_prefix), body_text=body)


def assignment_notice(
    *,
    number: int,
    subject: str,
    priority: str,
    requester: str,
    excerpt: str,
    reasons: tuple[str, ...],
    tag_prefix: str = "#",
    max_excerpt: int = 500,
) -> Rendered:
    text = excerpt.strip()
    if len(text) > max_excerpt:
        text = text[: max_excerpt - 1].rstrip() + "\u2026"
    body = (
        f"Ticket {subject_tag(number, tag_prefix)} is assigned to you.\n\n"
        f"Priority:  {priority}\n"
        f"Requester: {requester}\n"
        f"Subject:   {' '.join(subject.split()) or '(no subject)'}\n"
        f"Why you:   {'; '.join(reasons)}\n\n"
        f"{text}\n\n"
        f"{REPLY_REACHES_CUSTOMER}\n"
    )
    return Rendered(
        subject=f"Assigned: {_tagged(subject, number, tag_prefix)} ({priority})", body_text=body
    )


def customer_reply_notice(
    *, number: int, subject: str, requester: str, excerpt: str, tag_prefix: str = "#"
) -> Rendered:
    body = (
        f"{requester} replied on ticket {subject_tag(number, tag_prefix)}:\n\n{excerpt.strip()}\n"
        f"\n{REPLY_REACHES_CUSTOMER}\n"
    )
    return Rendered(
        subject=f"Customer reply: {_tagged(subject, number, tag_prefix)}", body_text=body
    )


def agent_reply(
    *,
    number: int,
    subject: str,
    text: str,
    agent_name: str,
    helpdesk_name: str,
    tag_prefix: str = "#",
) -> Rendered:
    """An agent's public answer, as the requester receives it."""
    body = f"{text.strip()}\n\n-- \n{agent_name}\n{helpdesk_name}\n"
    return Rendered(subject=reply_subject(subject, number, tag_prefix), body_text=body)


def reply_subject(subject: str, number: int, tag_prefix: str = "#") -> str:
    """``Re: [#12] Printer broken``: the subject of an answer on the ticket."""
    tagged = _tagged(subject, number, tag_prefix)
    return tagged if tagged.lower().startswith("re:") else f"Re: {tagged}"


def offer_notice(
    *,
    number: int,
    subject: str,
    priority: str,
    requester: str,
    excerpt: str,
    tag_prefix: str = "#",
    max_excerpt: int = 500,
) -> Rendered:
    """Claim mode: the ticket is offered to every eligible agent; the first claim wins."""
    text = excerpt.strip()
    if len(text) > max_excerpt:
        text = text[: max_excerpt - 1].rstrip() + "\u2026"
    body = (
        f"Ticket {subject_tag(number, tag_prefix)} is up for grabs: the first to claim it "
        "gets it.\n\n"
        f"Priority:  {priority}\n"
        f"Requester: {requester}\n"
        f"Subject:   {' '.join(subject.split()) or '(no subject)'}\n\n"
        f"{text}\n\n"
        f"Claim it: relaydesk tickets claim {number} --as <your name>\n\n"
        f"{REPLY_REACHES_CUSTOMER}\n"
    )
    return Rendered(
        subject=f"Offered: {_tagged(subject, number, tag_prefix)} ({priority})", body_text=body
    )


def taken_notice(*, number: int, subject: str, taken_by: str, tag_prefix: str = "#") -> Rendered:
    """Claim mode: someone else claimed the ticket this agent was offered."""
    body = f"Ticket {subject_tag(number, tag_prefix)} was claimed by {taken_by}: nothing to do.\n"
    return Rendered(subject=f"Taken: {_tagged(subject, number, tag_prefix)}", body_text=body)


def mention_notice(
    *, number: int, subject: str, by: str, text: str, tag_prefix: str = "#", max_text: int = 1000
) -> Rendered:
    """An agent was @mentioned in an internal note."""
    note = text.strip()
    if len(note) > max_text:
        note = note[: max_text - 1].rstrip() + "\u2026"
    body = (
        f"{by} mentioned you in a note on ticket {subject_tag(number, tag_prefix)}:\n\n{note}\n"
        f"\n{REPLY_STAYS_INTERNAL}\n"
    )
    return Rendered(
        subject=f"Internal note: {_tagged(subject, number, tag_prefix)} ({by} mentioned you)",
        body_text=body,
    )


_CLOCKS = {
    "first_response": "first response",
    "next_response": "next response",
    "resolution": "resolution",
}


def sla_notice(
    *,
    number: int,
    subject: str,
    priority: str,
    clock: str,
    stage: str,
    due_at: str,
    role: str,
    tag_prefix: str = "#",
) -> Rendered:
    """An SLA warning (``stage`` "warning") or a breach escalation ("breached")."""
    what = _CLOCKS.get(clock, clock)
    if stage == "warning":
        head = f"SLA warning: {what} on {subject_tag(number, tag_prefix)} is due {due_at}."
        title = f"SLA warning: {_tagged(subject, number, tag_prefix)} ({what} due {due_at})"
    else:
        head = (
            f"SLA breached: {what} on {subject_tag(number, tag_prefix)} was due {due_at}. "
            f"You are told as the ticket's {role}."
        )
        title = f"SLA breached: {_tagged(subject, number, tag_prefix)} ({what})"
    body = (
        f"{head}\n\nPriority: {priority}\nSubject:  {' '.join(subject.split()) or '(no subject)'}\n"
        f"\n{REPLY_REACHES_CUSTOMER}\n"
    )
    return Rendered(subject=title, body_text=body)
