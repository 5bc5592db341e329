"""The vocabulary in its reader's words: priorities, statuses and SLA clocks as a notice,
a chat list or a page names them ("high" is "高" to a Chinese reader).

The words are in router's catalog, whichever package's text they go into: callers
give the language, not their own catalog's texts. A value this module does not know
(a status added later) is shown as it is stored, never refused: a notice must go out
even if a word is missing.
"""

from __future__ import annotations

from router.catalogs import Catalog

CATALOG = Catalog.beside(__file__)


def priority_word(priority: str, language: str) -> str:
    texts = CATALOG.texts(language)
    words = {
        "urgent": texts.pgettext("priority", "urgent"),
        "high": texts.pgettext("priority", "high"),
        "normal": texts.pgettext("priority", "normal"),
        "low": texts.pgettext("priority", "low"),
    }
    return words.get(priority, priority)


def status_word(status: str, language: str) -> str:
    texts = CATALOG.texts(language)
    words = {
        "new": texts.pgettext("status", "new"),
        "open": texts.pgettext("status", "open"),
        "pending": texts.pgettext("status", "pending"),
        "resolved": texts.pgettext("status", "resolved"),
        "closed": texts.pgettext("status", "closed"),
    }
    return words.get(status, status)


def clock_word(clock: str, language: str) -> str:
    """An SLA clock: "first response", "next response", "resolution"."""
    texts = CATALOG.texts(language)
    words = {
        "first_response": texts.pgettext("sla clock", "first response"),
        "next_response": texts.pgettext("sla clock", "next response"),
        "resolution": texts.pgettext("sla clock", "resolution"),
    }
    return words.get(clock, clock)


def agent_status_word(status: str, language: str) -> str:
    """An agent's availability: online, away, offline."""
    texts = CATALOG.texts(language)
    words = {
        "online": texts.pgettext("agent status", "online"),
        "away": texts.pgettext("agent status", "away"),
        "offline": texts.pgettext("agent status", "offline"),
    }
    return words.get(status, status)


def role_word(role: str, language: str) -> str:
    """Why someone is told of a ticket's SLA: "the ticket's assignee", "supervisor", ..."""
    texts = CATALOG.texts(language)
    words = {
        "assignee": texts.pgettext("escalation role", "assignee"),
        "supervisor": texts.pgettext("escalation role", "supervisor"),
        "manager": texts.pgettext("escalation role", "manager"),
        "agent": texts.pgettext("escalation role", "agent"),
    }
    return words.get(role, role)


def requester_state_word(status: str, language: str) -> str:
    """A ticket's status as its requester follows it (``requester_view``): received,
    in progress (also while the desk waits for them), waiting for their confirmation,
    closed; the seed's 待受理, 处理中, 待确认, 已闭环."""
    texts = CATALOG.texts(language)
    words = {
        "new": texts.pgettext("requester state", "received"),
        "open": texts.pgettext("requester state", "in progress"),
        "pending": texts.pgettext("requester state", "in progress"),
        "resolved": texts.pgettext("requester state", "waiting for your confirmation"),
        "closed": texts.pgettext("requester state", "closed"),
    }
    return words.get(status, status)
