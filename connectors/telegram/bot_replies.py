"""What the bot answers in a chat to a command, a button or a message it will not pass on.

Short texts, as Telegram HTML (``*_html``) or as the plain text of a button's
answer (at most 200 characters: Telegram's limit, trimmed by the caller). The
notices about tickets are in ``notices``; these answer the person who just wrote.
"""

from __future__ import annotations

from connectors.telegram.chat_text import escape_html

_ACTIONS_DONE = {
    "claim": "Claimed: it is yours",
    "resolve": "Resolved",
    "pending": "Set to pending: waiting on the customer",
    "reopen": "Reopened",
}


# -- to anyone ------------------------------------------------------------------------


_CUSTOMER_COMMANDS_LINE = "/new starts another request, /status lists yours."


def welcome_html(helpdesk_name: str) -> str:
    name = escape_html(helpdesk_name)
    return (
        f"Hello! This is <b>{name}</b>. Write your question here and we open a request "
        "for you; our answers arrive in this chat.\n\n" + _CUSTOMER_COMMANDS_LINE
    )


def unknown_command_html(name: str) -> str:
    """A command a customer does not have: what they can do instead."""
    return (
        f"I do not know the command /{escape_html(name)}. To ask us something, just write "
        "it here as a message.\n\n" + _CUSTOMER_COMMANDS_LINE
    )


def private_only_html() -> str:
    return "Please write to me in a private chat: I answer requests one person at a time."


# -- to an agent ----------------------------------------------------------------------


def edits_not_sent_html() -> str:
    return "Edits are not passed on: what you sent has gone out. Send a new reply to correct it."


def files_not_sent_html() -> str:
    return escape_html("Files from agents are not passed on yet: only your text was used.")


def not_done(reason: object) -> str:
    """Plain text: why an agent's command or button did nothing."""
    return f"Not done: {reason}"


def agent_status_html(status: str, load: int, capacity: int) -> str:
    return escape_html(f"You are {status}, with {load}/{capacity} tickets.")


def agent_status_changed_html(previous: str, status: str) -> str:
    return escape_html(f"Status: {previous} -> {status}")


def answer_recorded_html(*, internal: bool, channel: str, number: int, tag_prefix: str) -> str:
    """A note is recorded; a public answer reached the customer (said once delivered)."""
    what = "Note added to" if internal else f"Sent to the customer by {channel} on"
    return escape_html(f"{what} {tag_prefix}{number}.")


def answer_undelivered_html(
    *, channel: str, number: int, reason: str, instead: str | None, tag_prefix: str
) -> str:
    """A public answer that could not reach the customer, why, and where it went instead
    (``instead``: "email to kim@example.org"), if anywhere."""
    why = " ".join(reason.split())[:300]
    then = (
        f"It went by {instead} instead."
        if instead
        else "There is no other way to reach them: your answer stays on the ticket."
    )
    return escape_html(
        f"Not delivered: your answer on {tag_prefix}{number} could not reach the customer "
        f"by {channel} ({why}). {then}"
    )


# -- a button's answer (plain text) -----------------------------------------------------


def button_done(action: str, number: int) -> str:
    return f"{_ACTIONS_DONE[action]}: #{number}"


def button_not_ours() -> str:
    return "This button is not ours."


def button_for_agents_only() -> str:
    """Someone who is not a linked agent pressed an agent's button."""
    return "These buttons are for our support team only."
