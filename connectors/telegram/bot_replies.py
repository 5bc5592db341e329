"""What the bot answers in a chat to a command, a button or a message it will not pass on.

Short texts, as Telegram HTML (``*_html``) or as the plain text of a button's
answer (at most 200 characters: Telegram's limit, trimmed by the caller), in the
language of the person who wrote (``language``; the words are in
``connectors/telegram/locale``). The notices about tickets are in ``notices``;
these answer the person who just wrote.
"""

from __future__ import annotations

from connectors.telegram.chat_text import escape_html
from router.catalogs import N_, Catalog, Texts
from router.errors import InvalidTransition
from router.vocabulary_texts import agent_status_word, status_word

CATALOG = Catalog.beside(__file__)

_ACTIONS_DONE = {
    "claim": N_("Claimed: it is yours: #%(number)s"),
    "resolve": N_("Resolved: #%(number)s"),
    "pending": N_("Set to pending: waiting on the customer: #%(number)s"),
    "reopen": N_("Reopened: #%(number)s"),
}

_CUSTOMER_COMMANDS_LINE = N_("/new starts another request, /status lists yours.")


def _texts(language: str) -> Texts:
    return CATALOG.texts(language)


# -- to anyone ------------------------------------------------------------------------


def welcome_html(helpdesk_name: str, language: str) -> str:
    _ = _texts(language).gettext
    hello = _(
        "Hello! This is %(desk)s. Write your question here and we open a request "
        "for you; our answers arrive in this chat.",
        desk=f"<b>{escape_html(helpdesk_name)}</b>",
    )
    return f"{hello}\n\n{_(_CUSTOMER_COMMANDS_LINE)}"


def unknown_command_html(name: str, language: str) -> str:
    """A command a customer does not have: what they can do instead."""
    _ = _texts(language).gettext
    unknown = _(
        "I do not know the command %(command)s. To ask us something, just write it here "
        "as a message.",
        command=f"/{escape_html(name)}",
    )
    return f"{unknown}\n\n{_(_CUSTOMER_COMMANDS_LINE)}"


def private_only_html(language: str) -> str:
    return _texts(language).gettext(
        "Please write to me in a private chat: I answer requests one person at a time."
    )


# -- to an agent ----------------------------------------------------------------------


def edits_not_sent_html(language: str) -> str:
    return _texts(language).gettext(
        "Edits are not passed on: what you sent has gone out. Send a new reply to correct it."
    )


def files_not_sent_html(language: str) -> str:
    return escape_html(
        _texts(language).gettext(
            "Files from agents are not passed on yet: only your text was used."
        )
    )


def not_done(reason: object, language: str) -> str:
    """Plain text: why an agent's command or button did nothing (a status change the
    lifecycle refuses in the agent's words; other refusals as the desk words them)."""
    _ = _texts(language).gettext
    if isinstance(reason, InvalidTransition) and reason.current and reason.target:
        reason = _(
            "a %(current)s ticket cannot become %(target)s",
            current=status_word(reason.current, language),
            target=status_word(reason.target, language),
        )
    return _("Not done: %(reason)s", reason=reason)


def say_status_how(language: str) -> str:
    """An agent's /status with a word it does not know."""
    return _texts(language).gettext("say /status online, /status away or /status offline")


def name_the_ticket(language: str) -> str:
    """An agent's answer that names no ticket."""
    return _texts(language).gettext(
        "reply to a ticket's notification, or name the ticket: /note #123 your text"
    )


def not_yours(number: int, language: str) -> str:
    """A ticket an agent may not work on from the chat (or that does not exist)."""
    return _texts(language).gettext("#%(number)s is not one of your tickets", number=number)


def agent_status_html(status: str, load: int, capacity: int, language: str) -> str:
    texts = _texts(language)
    return escape_html(
        texts.gettext(
            "You are %(status)s, with %(load)s/%(capacity)s tickets.",
            status=agent_status_word(status, texts.language),
            load=load,
            capacity=capacity,
        )
    )


def agent_status_changed_html(previous: str, status: str, language: str) -> str:
    texts = _texts(language)
    return escape_html(
        texts.gettext(
            "Status: %(previous)s -> %(status)s",
            previous=agent_status_word(previous, texts.language),
            status=agent_status_word(status, texts.language),
        )
    )


def answer_recorded_html(
    *, internal: bool, channel: str, number: int, tag_prefix: str, language: str
) -> str:
    """A note is recorded; a public answer reached the customer (said once delivered)."""
    _ = _texts(language).gettext
    ticket = f"{tag_prefix}{number}"
    if internal:
        return escape_html(_("Note added to %(ticket)s.", ticket=ticket))
    return escape_html(
        _(
            "Sent to the customer by %(channel)s on %(ticket)s.",
            channel=channel_word(channel, language),
            ticket=ticket,
        )
    )


def channel_word(channel: str, language: str) -> str:
    """A channel as a person names it: "email", "Telegram", "the web form"."""
    texts = _texts(language)
    words = {
        "email": texts.pgettext("channel", "email"),
        "telegram": texts.pgettext("channel", "Telegram"),
        "web": texts.pgettext("channel", "web"),
    }
    return words.get(channel, channel)


def answer_undelivered_html(
    *,
    channel: str,
    number: int,
    reason: str,
    instead: str | None,
    tag_prefix: str,
    language: str,
) -> str:
    """A public answer that could not reach the customer, why, and where it went instead
    (``instead``: "email to kim@example.org", in the same language), if anywhere."""
    _ = _texts(language).gettext
    why = " ".join(reason.split())[:300]
    head = _(
        "Not delivered: your answer on %(ticket)s could not reach the customer by "
        "%(channel)s (%(why)s).",
        ticket=f"{tag_prefix}{number}",
        channel=channel_word(channel, language),
        why=why,
    )
    then = (
        _("It went by %(instead)s instead.", instead=instead)
        if instead
        else _("There is no other way to reach them: your answer stays on the ticket.")
    )
    return escape_html(_("%(failed)s %(then)s", failed=head, then=then))


def another_way(channel: str, address: str, language: str) -> str:
    """Where an undelivered answer went instead: "email to kim@example.org", "Telegram"."""
    _ = _texts(language).gettext
    if channel == "email":
        return _("email to %(address)s", address=address)
    return channel_word(channel, language)


# -- a button's answer (plain text) -----------------------------------------------------


def button_done(action: str, number: int, language: str) -> str:
    return _texts(language).gettext(_ACTIONS_DONE[action], number=number)


def button_not_ours(language: str) -> str:
    return _texts(language).gettext("This button is not ours.")


def button_for_agents_only(language: str) -> str:
    """Someone who is not a linked agent pressed an agent's button."""
    return _texts(language).gettext("These buttons are for our support team only.")
