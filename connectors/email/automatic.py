"""Is an email automatic (never auto-answer it)? (Whether it is a bounce of one of ours
is ``bounces``'s.)

``automatic_reason`` is a table of rules read in order; the first that applies
gives the reason, which is meant for the ticket's audit log:

==============================  ===================================================
multipart/report                "delivery status notification", "read receipt", ...
Auto-Submitted (RFC 3834)       any value but "no" -> "Auto-Submitted: auto-replied"
X-Loop                          contains one of our own addresses -> "X-Loop from us"
sender                          one of our own addresses in any form (any case, a
                                plus-address of one, any address at one of our
                                domains) -> "sent by our own address"
sender / Return-Path            empty, or Return-Path "<>" -> "null sender"
sender local part               MAILER-DAEMON, postmaster, noreply, no-reply,
                                do-not-reply, donotreply -> "sent by mailer-daemon"
Precedence                      bulk, junk, list, auto_reply -> "Precedence: bulk"
X-Autoreply, X-Autorespond      present with any value but "no"
X-Auto-Response-Suppress        only with All, OOF or AutoReply among its values:
                                Outlook also sets DR/RN/NRN-only values on normal mail
List-Id, List-Unsubscribe       present (mailing lists and newsletters)
==============================  ===================================================
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import Message

from connectors.email.addresses import read_headers
from connectors.email.bodies import content_type as kind_of
from router.thread_keys import OwnAddresses

AUTOMATIC_HEADERS = (
    "Auto-Submitted",
    "Precedence",
    "X-Loop",
    "X-Autoreply",
    "X-Autorespond",
    "X-Auto-Response-Suppress",
    "List-Id",
    "List-Unsubscribe",
    "Return-Path",
    "Content-Type",
)


@dataclass(frozen=True)
class _Facts:
    headers: Mapping[str, str]  # lowercased names
    sender: str
    content_type: str
    own: OwnAddresses

    def get(self, name: str) -> str | None:
        return self.headers.get(name)


_Rule = Callable[[_Facts], str | None]
ROBOTS = frozenset(  # local parts of machines' senders (bounces reads them too)
    {"mailer-daemon", "postmaster", "noreply", "no-reply", "do-not-reply", "donotreply"}
)
_PRECEDENCE = {"bulk", "junk", "list", "auto_reply", "auto-reply"}
_SUPPRESSING = {"all", "oof", "autoreply"}
_REPORT_TYPE = re.compile(r"report-type\s*=\s*\"?([\w.-]+)", re.IGNORECASE)
_REPORTS = {
    "delivery-status": "delivery status notification",
    "disposition-notification": "read receipt",
}


def written_through_list(
    msg: Message, *, sender: str, own: OwnAddresses, headers: Mapping[str, str] | None = None
) -> bool:
    """``through_list_by_a_person`` for a parsed message (``headers``: see why_automatic)."""
    headers = read_headers(msg, AUTOMATIC_HEADERS, []) if headers is None else headers
    return through_list_by_a_person(
        headers, sender=sender, content_type=headers.get("Content-Type") or kind_of(msg), own=own
    )


def why_automatic(
    msg: Message, *, sender: str, own: OwnAddresses, headers: Mapping[str, str] | None = None
) -> str | None:
    """Why ``msg`` was sent by a machine, or None when a person seems to have sent it.
    ``headers``: its headers as ``read_headers`` read them (AUTOMATIC_HEADERS among the
    names), when the caller has: they are not read again."""
    headers = read_headers(msg, AUTOMATIC_HEADERS, []) if headers is None else headers
    return automatic_reason(
        headers, sender=sender, content_type=headers.get("Content-Type") or kind_of(msg), own=own
    )


def automatic_reason(
    headers: Mapping[str, str],
    *,
    sender: str,
    content_type: str,
    own: OwnAddresses,
) -> str | None:
    """The first rule of the table above that applies to these stored headers, or None.

    ``content_type`` is the Content-Type value, with its parameters when known
    (``multipart/report; report-type=delivery-status``).
    """
    facts = _facts(headers, sender=sender, content_type=content_type, own=own)
    for rule in _RULES:
        reason = rule(facts)
        if reason:
            return reason
    return None


def through_list_by_a_person(
    headers: Mapping[str, str], *, sender: str, content_type: str, own: OwnAddresses
) -> bool:
    """Whether a person wrote this and a mailing list relayed it: list headers (List-Id,
    Precedence: list) and none of the marks a machine leaves (every other rule of the
    table). Such mail is never answered automatically, but it is a person's message."""
    facts = _facts(headers, sender=sender, content_type=content_type, own=own)
    listed = facts.get("list-id") is not None or _precedence_token(facts) == "list"
    machine = any(rule(facts) for rule in _RULES if rule not in _LIST_RULES)
    return listed and not machine and _precedence_token(facts) in ("", "list")


def _facts(
    headers: Mapping[str, str], *, sender: str, content_type: str, own: OwnAddresses
) -> _Facts:
    return _Facts(
        headers={name.lower(): value for name, value in headers.items()},
        sender=sender.strip().lower(),
        content_type=content_type.strip().lower(),
        own=own,
    )


def _precedence_token(facts: _Facts) -> str:
    return (facts.get("precedence") or "").strip().lower()


def _report(facts: _Facts) -> str | None:
    if facts.content_type.split(";", 1)[0].strip() != "multipart/report":
        return None
    found = _REPORT_TYPE.search(facts.content_type)
    report_type = found.group(1).lower() if found else ""
    return _REPORTS.get(report_type, f"report ({report_type or 'multipart/report'})")


def _auto_submitted(facts: _Facts) -> str | None:
    token = (facts.get("auto-submitted") or "").split(";", 1)[0].strip().lower()
    return f"Auto-Submitted: {token}" if token and token != "no" else None


def _loop(facts: _Facts) -> str | None:
    loop = (facts.get("x-loop") or "").lower()
    ours = any(own in loop for own in facts.own.addresses) or any(
        address in facts.own or facts.own.base_of(address) for address in loop.split()
    )
    return "X-Loop from us" if loop and ours else None


def _own_sender(facts: _Facts) -> str | None:
    sender = facts.sender
    if sender and (sender in facts.own or facts.own.base_of(sender) is not None):
        return "sent by our own address"
    return None


def _null_sender(facts: _Facts) -> str | None:
    if not facts.sender or (facts.get("return-path") or "").strip() == "<>":
        return "null sender"
    return None


def _robot_sender(facts: _Facts) -> str | None:
    local = facts.sender.split("@", 1)[0]
    return f"sent by {local}" if local in ROBOTS else None


def _precedence(facts: _Facts) -> str | None:
    token = _precedence_token(facts)
    return f"Precedence: {token}" if token in _PRECEDENCE else None


def _autoreply_headers(facts: _Facts) -> str | None:
    for name in ("X-Autoreply", "X-Autorespond"):
        value = facts.get(name.lower())
        if value is not None and value.strip().lower() != "no":
            return f"{name}: {value.strip()[:60]}"
    return None


def _suppress(facts: _Facts) -> str | None:
    value = facts.get("x-auto-response-suppress") or ""
    tokens = {token for token in re.split(r"[\s,;]+", value.lower()) if token}
    return f"X-Auto-Response-Suppress: {value.strip()[:60]}" if tokens & _SUPPRESSING else None


def _mailing_list(facts: _Facts) -> str | None:
    if facts.get("list-id") is not None:
        return f"List-Id: {facts.get('list-id')}"[:120]
    return "List-Unsubscribe present" if facts.get("list-unsubscribe") is not None else None


_RULES: tuple[_Rule, ...] = (
    _report,
    _auto_submitted,
    _loop,
    _own_sender,
    _null_sender,
    _robot_sender,
    _precedence,
    _autoreply_headers,
    _suppress,
    _mailing_list,
)
_LIST_RULES = (_precedence, _mailing_list)  # a list's marks, not a machine's (see above)
