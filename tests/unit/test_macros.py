"""Macros: their placeholders filled, and the config refusing what a macro cannot say."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from config.macro_settings import MacroSettings
from router.macros import MacroFacts, macro_summary, macro_text, tags_added

FACTS = MacroFacts(requester_name="Kim {x}", ticket_number=12, agent_name="Ana")


def test_the_placeholders_are_filled_and_double_braces_are_braces() -> None:
    body = "Hi {requester_name}, #{ticket_number} is done. {{braces}} -- {agent_name}"
    assert macro_text(body, FACTS) == "Hi Kim {x}, #12 is done. {braces} -- Ana"


@pytest.mark.parametrize(
    "body",
    ["Hi {name}", "Hi {requester_name!r}", "Hi {ticket_number:>5}", "Hi {", "Hi {0}"],
)
def test_a_macro_naming_anything_else_is_refused_by_the_config(body: str) -> None:
    with pytest.raises(ValidationError):
        MacroSettings(name="x", title="X", body=body)


def test_the_audit_says_what_the_macro_changed() -> None:
    assert macro_summary("reset", "pending", "billing") == (
        "macro reset: reply, status pending, team billing"
    )
    assert macro_summary("thanks", None, None) == "macro thanks: reply"


def test_the_audit_names_every_change_of_a_macro_and_its_files() -> None:
    assert macro_summary(
        "escalate", "pending", "billing", priority="high", tags=("vpn", "vip"), files=2
    ) == (
        "macro escalate: reply with 2 file(s), status pending, priority high, "
        "tags +vpn +vip, team billing"
    )


def test_a_macros_tags_are_added_each_once_after_the_tickets() -> None:
    assert tags_added(("vpn", "printer"), ("vip", "vpn")) == ("vpn", "printer", "vip")
