"""The texts relaydesk sends by mail: an acknowledgement to the requester, a notice to the
agent, each in its reader's language (``language``: one of ``catalogs.LANGUAGES``).

Pure rendering: the caller decides who receives them, through which channel and in
which language. The words are in ``router/locale`` (README, "Texts and catalogs").
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from router.catalogs import N_, Catalog, Texts
from router.subject_prefixes import without_reply_prefixes
from router.thread_keys import subject_tag
from router.vocabulary import Channel
from router.vocabulary_texts import clock_word, priority_word, role_word

CATALOG = Catalog.beside(__file__)


@dataclass(frozen=True)
class Rendered:
    subject: str
    body_text: str
    language: str  # the catalog language it is written in (``catalogs.LANGUAGES``)

    @property
    def body_html(self) -> str:
        """The same text as HTML, for the alternative part: escaped, paragraphs kept."""
        paragraphs = [p for p in self.body_text.split("\n\n") if p.strip()]
        inner = "\n".join(
            "<p>" + "<br>\n".join(html.escape(line) for line in p.strip("\n").split("\n")) + "</p>"
            for p in paragraphs
        )
        return f"<!DOCTYPE html>\n<html><body>\n{_short_lines(inner)}\n</body></html>\n"


# a mail's longest line written as it is (RFC 5322's 78, ``email.policy``'s max_line_length):
# a text part with a longer line is written quoted-printable
_LONGEST_LINE = 78


def _short_lines(html_text: str) -> str:
    """``html_text`` with each line longer than 78 characters broken at its spaces, where
    it has them, into lines of at most 78 (a word longer than that keeps its own line).

    Only a space becomes a line break, and outside ``<pre>`` HTML renders the two alike
    (both collapse into one space between words, and vanish before a ``<br>``), so the
    page reads the same; an ASCII text whose lines are all that short is written 7bit
    instead of quoted-printable (the acknowledgement's line of 79 was). The escaped text
    holds no space inside a tag or an entity. (``textwrap`` breaks at tabs, carriage
    returns and vertical tabs too, which HTML does not all render as a space.)

    A text that is not all ASCII is left as it is: it is written quoted-printable
    whatever its lines' lengths, and CSS removes a line break between two wide
    characters where it keeps a space (Firefox and Thunderbird do), so a break between
    two Chinese words would lose their space."""
    if not html_text.isascii() or all(len(ln) <= _LONGEST_LINE for ln in html_text.split("\n")):
        return html_text
    out: list[str] = []
    for line in html_text.split("\n"):
        while len(line) > _LONGEST_LINE:
            cut = line.rfind(" ", 1, _LONGEST_LINE + 1)  # the last that leaves <= 78
            if cut < 1:
                cut = line.find(" ", _LONGEST_LINE + 1)  # a longer word: on its own
                if cut < 0:
                    break
            out.append(line[:cut])
            line = line[cut + 1 :]
        out.append(line)
    return "\n".join(out)


# the last line of every notice by mail: what a reply to it becomes
REPLY_REACHES_CUSTOMER = N_(
    "Reply to this mail to answer the customer: what you write reaches them."
)
REPLY_STAYS_INTERNAL = N_(
    "A reply to this mail is an internal note on the ticket: the customer never sees it."
)


ACK_HOW_TO_ADD = N_(
    "An agent will answer you soon. Reply to this message to add information;\n"
    "please keep the ticket number in the subject."
)


@dataclass(frozen=True)
class Requester:
    """Who asked, as each notice names them in its reader's language."""

    name: str
    address: str
    channel: str

    def label(self, language: str) -> str:
        return requester_label(self.name, self.address, self.channel, language)


def requester_label(name: str, address: str, channel: str, language: str) -> str:
    """How a notice names a requester: ``Jo Park <jo@example.org>``; on a chat, whose
    address is a number that means nothing to a person, ``Kim Park (via Telegram)``."""
    name = " ".join(name.split())
    if channel == Channel.TELEGRAM.value:
        _ = CATALOG.texts(language).gettext
        return _("%(name)s (via Telegram)", name=name) if name else _("someone via Telegram")
    return f"{name} <{address}>" if name else address


def _one_line(subject: str, texts: Texts) -> str:
    return " ".join(subject.split()) or texts.gettext("(no subject)")


def _tagged(subject: str, number: int, prefix: str, texts: Texts) -> str:
    tag = subject_tag(number, prefix)
    clean = _one_line(subject, texts)
    return clean if tag in clean else f"{tag} {clean}"


def _clipped(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def acknowledgement(
    *,
    number: int,
    subject: str,
    requester_name: str,
    helpdesk_name: str,
    language: str,
    tag_prefix: str = "#",
) -> Rendered:
    """The requester's ticket is open: its tag, and how to add to it."""
    texts = CATALOG.texts(language)
    _ = texts.gettext
    greeting = _("Hello %(name)s,", name=requester_name) if requester_name else _("Hello,")
    opened = _(
        "we have received your request and opened ticket %(tag)s.",
        tag=subject_tag(number, tag_prefix),
    )
    about = _("Subject: %(subject)s", subject=_one_line(subject, texts))
    body = f"{greeting}\n\n{opened}\n{about}\n\n{_(ACK_HOW_TO_ADD)}\n\n-- {helpdesk_name}\n"
    return Rendered(
        subject=_tagged(subject, number, tag_prefix, texts), body_text=body, language=language
    )


def _facts(texts: Texts, priority: str, requester: str, subject: str) -> str:
    _ = texts.gettext
    lines = (
        _("Priority:  %(priority)s", priority=priority_word(priority, texts.language)),
        _("Requester: %(requester)s", requester=requester),
        _("Subject:   %(subject)s", subject=_one_line(subject, texts)),
    )
    return "".join(line + "\n" for line in lines)


def assignment_notice(
    *,
    number: int,
    subject: str,
    priority: str,
    requester: str,
    excerpt: str,
    reasons: tuple[str, ...],
    language: str,
    tag_prefix: str = "#",
    max_excerpt: int = 500,
) -> Rendered:
    texts = CATALOG.texts(language)
    _ = texts.gettext
    head = _("Ticket %(tag)s is assigned to you.", tag=subject_tag(number, tag_prefix))
    why = _("Why you:   %(reasons)s", reasons="; ".join(reasons))
    body = (
        f"{head}\n\n{_facts(texts, priority, requester, subject)}{why}\n\n"
        f"{_clipped(excerpt, max_excerpt)}\n\n{_(REPLY_REACHES_CUSTOMER)}\n"
    )
    title = _(
        "Assigned: %(subject)s (%(priority)s)",
        subject=_tagged(subject, number, tag_prefix, texts),
        priority=priority_word(priority, texts.language),
    )
    return Rendered(subject=title, body_text=body, language=texts.language)


def why_you(reasons: tuple[str, ...], language: str) -> str:
    """Why routing chose the reader, on one line (a chat notice's)."""
    return CATALOG.texts(language).gettext("Why you: %(reasons)s", reasons="; ".join(reasons))


def assigned_by(actor: str, reason: str, language: str) -> str:
    """Why a ticket assigned by hand is the reader's: who gave it, and what they said."""
    _ = CATALOG.texts(language).gettext
    if reason:
        return _("assigned by %(actor)s: %(reason)s", actor=actor, reason=reason)
    return _("assigned by %(actor)s", actor=actor)


def claimed_by(agent: str, language: str) -> str:
    """A chat notice's line: who claimed the ticket the reader was offered."""
    return CATALOG.texts(language).gettext("Claimed by %(agent)s", agent=agent)


def mentioned_by(agent: str, language: str) -> str:
    """A chat notice's line: who mentioned the reader in a note."""
    return CATALOG.texts(language).gettext("%(agent)s mentioned you in a note", agent=agent)


def customer_reply_notice(
    *,
    number: int,
    subject: str,
    requester: str,
    excerpt: str,
    language: str,
    tag_prefix: str = "#",
) -> Rendered:
    texts = CATALOG.texts(language)
    _ = texts.gettext
    head = _(
        "%(requester)s replied on ticket %(tag)s:",
        requester=requester,
        tag=subject_tag(number, tag_prefix),
    )
    body = f"{head}\n\n{excerpt.strip()}\n\n{_(REPLY_REACHES_CUSTOMER)}\n"
    title = _("Customer reply: %(subject)s", subject=_tagged(subject, number, tag_prefix, texts))
    return Rendered(subject=title, body_text=body, language=texts.language)


def agent_reply(
    *,
    number: int,
    subject: str,
    text: str,
    agent_name: str,
    helpdesk_name: str,
    language: str,
    tag_prefix: str = "#",
) -> Rendered:
    """An agent's public answer, as the requester receives it."""
    body = f"{text.strip()}\n\n-- \n{agent_name}\n{helpdesk_name}\n"
    return Rendered(
        subject=reply_subject(subject, number, language, tag_prefix),
        body_text=body,
        language=language,
    )


def reply_subject(subject: str, number: int, language: str, tag_prefix: str = "#") -> str:
    """``Re: [#12] Printer broken`` (in Chinese ``回复`` and a full-width colon): the
    subject of an answer on the ticket; whatever answer marks the ticket's subject had
    are replaced by the reader's."""
    texts = CATALOG.texts(language)
    tagged = _tagged(without_reply_prefixes(subject), number, tag_prefix, texts)
    return texts.pgettext("mail subject", "Re: %(subject)s", subject=tagged)


def offer_notice(
    *,
    number: int,
    subject: str,
    priority: str,
    requester: str,
    excerpt: str,
    language: str,
    tag_prefix: str = "#",
    max_excerpt: int = 500,
) -> Rendered:
    """Claim mode: the ticket is offered to every eligible agent; the first claim wins."""
    texts = CATALOG.texts(language)
    _ = texts.gettext
    head = _(
        "Ticket %(tag)s is up for grabs: the first to claim it gets it.",
        tag=subject_tag(number, tag_prefix),
    )
    command = f"relaydesk tickets claim {number} --as " + _("<your name>")
    claim = _("Claim it: %(command)s", command=command)
    body = (
        f"{head}\n\n{_facts(texts, priority, requester, subject)}\n"
        f"{_clipped(excerpt, max_excerpt)}\n\n{claim}\n\n{_(REPLY_REACHES_CUSTOMER)}\n"
    )
    title = _(
        "Offered: %(subject)s (%(priority)s)",
        subject=_tagged(subject, number, tag_prefix, texts),
        priority=priority_word(priority, texts.language),
    )
    return Rendered(subject=title, body_text=body, language=texts.language)


def taken_notice(
    *, number: int, subject: str, taken_by: str, language: str, tag_prefix: str = "#"
) -> Rendered:
    """Claim mode: someone else claimed the ticket this agent was offered."""
    texts = CATALOG.texts(language)
    _ = texts.gettext
    body = _(
        "Ticket %(tag)s was claimed by %(agent)s: nothing to do.",
        tag=subject_tag(number, tag_prefix),
        agent=taken_by,
    )
    title = _("Taken: %(subject)s", subject=_tagged(subject, number, tag_prefix, texts))
    return Rendered(subject=title, body_text=body + "\n", language=texts.language)


def mention_notice(
    *,
    number: int,
    subject: str,
    by: str,
    text: str,
    language: str,
    tag_prefix: str = "#",
    max_text: int = 1000,
) -> Rendered:
    """An agent was @mentioned in an internal note."""
    texts = CATALOG.texts(language)
    _ = texts.gettext
    head = _(
        "%(agent)s mentioned you in a note on ticket %(tag)s:",
        agent=by,
        tag=subject_tag(number, tag_prefix),
    )
    body = f"{head}\n\n{_clipped(text, max_text)}\n\n{_(REPLY_STAYS_INTERNAL)}\n"
    title = _(
        "Internal note: %(subject)s (%(agent)s mentioned you)",
        subject=_tagged(subject, number, tag_prefix, texts),
        agent=by,
    )
    return Rendered(subject=title, body_text=body, language=texts.language)


def due_now(language: str) -> str:
    """An SLA deadline that is due at once (it has no time)."""
    return CATALOG.texts(language).pgettext("sla deadline", "now")


def sla_notice(
    *,
    number: int,
    subject: str,
    priority: str,
    clock: str,
    stage: str,
    due_at: str,
    role: str,
    language: str,
    tag_prefix: str = "#",
) -> Rendered:
    """An SLA warning (``stage`` "warning") or a breach escalation ("breached"); ``role``:
    why this reader is told ("assignee", "supervisor", ...)."""
    texts = CATALOG.texts(language)
    _ = texts.gettext
    what = clock_word(clock, texts.language)
    tag = subject_tag(number, tag_prefix)
    tagged = _tagged(subject, number, tag_prefix, texts)
    if stage == "warning":
        head = _(
            "SLA warning: %(clock)s on %(tag)s is due %(due)s.", clock=what, tag=tag, due=due_at
        )
        title = _(
            "SLA warning: %(subject)s (%(clock)s due %(due)s)",
            subject=tagged,
            clock=what,
            due=due_at,
        )
    else:
        head = _(
            "SLA breached: %(clock)s on %(tag)s was due %(due)s. "
            "You are told as the ticket's %(role)s.",
            clock=what,
            tag=tag,
            due=due_at,
            role=role_word(role, texts.language),
        )
        title = _("SLA breached: %(subject)s (%(clock)s)", subject=tagged, clock=what)
    level = _("Priority: %(priority)s", priority=priority_word(priority, texts.language))
    about = _("Subject:  %(subject)s", subject=_one_line(subject, texts))
    body = f"{head}\n\n{level}\n{about}\n\n{_(REPLY_REACHES_CUSTOMER)}\n"
    return Rendered(subject=title, body_text=body, language=texts.language)
