"""The rules section of the configuration: the TOML shape, its checks, its rule book."""

from __future__ import annotations

import tomllib

import pytest
from pydantic import ValidationError

from config import problems_of
from config.rules_settings import RulesSettings
from router.rules import Condition, MessageFacts, classify_message
from router.vocabulary import Channel, Priority
from workers.runtime.rule_book import rule_book

EXAMPLE = r"""
[[rules.first_match]]
name = "vip-billing"
when = { channel = ["email"], sender_domain = "bigcorp.example", keywords = ["invoice", "refund"] }
[rules.first_match.set]
category = "billing"
priority = "high"
team = "billing"
required_skills = { billing = 3 }
optional_skills = { german = 2 }
tags = ["vip"]

[[rules.first_match]]
name = "pro-plan"
when = { source = "imap:*", fields = { plan = ["pro", "enterprise"], seats = 10, eu = true } }
set = { category = "Sales", team = "sales" }

[[rules.all_match]]
name = "urgent-words"
when = { subject_regex = "(?i)\\b(down|outage)\\b" }
set = { priority = "urgent", tags = ["outage"] }

[[rules.all_match]]
name = "german"
when = { language = ["de"], tier = "gold" }
set = { optional_skills = { german = 3 } }
"""


def rules(text: str) -> RulesSettings:
    return RulesSettings.model_validate(tomllib.loads(text).get("rules", {}))


def problems(text: str) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as caught:
        rules(text)
    return problems_of(caught.value)


def test_the_example_rules_load_with_single_values_read_as_lists_of_one() -> None:
    settings = rules(EXAMPLE)
    assert [r.name for r in settings.first_match] == ["vip-billing", "pro-plan"]
    pro = settings.first_match[1]
    assert pro.when.source == ("imap:*",)
    assert pro.when.fields == {"plan": ("pro", "enterprise"), "seats": (10,), "eu": (True,)}
    assert pro.set.category == "sales"
    assert settings.all_match[1].when.tier == ("gold",)


def test_no_rules_section_is_an_empty_rule_book() -> None:
    assert rules("") == RulesSettings()
    book = rule_book(RulesSettings())
    assert (book.first_match, book.all_match) == ((), ())


def test_the_converted_rule_book_classifies_as_the_configuration_says() -> None:
    book = rule_book(rules(EXAMPLE))
    assert book.first_match[0].when == Condition(
        channel=(Channel.EMAIL,),
        sender_domain=("bigcorp.example",),
        keywords=("invoice", "refund"),
    )
    message = MessageFacts(
        channel=Channel.EMAIL,
        sender_address="ceo@eu.bigcorp.example",
        subject="Portal down",
        body="and the invoice is wrong",
        language="de-DE",
        customer_tier="gold",
    )
    decided = classify_message(
        message,
        book,
        default_category="general",
        default_priority=Priority.NORMAL,
        default_team="support",
        category_teams={},
    )
    assert (decided.category, decided.priority, decided.team) == (
        "billing",
        Priority.URGENT,
        "billing",
    )
    assert decided.required_skills == (("billing", 3),)
    assert decided.optional_skills == (("german", 3),)
    assert decided.tags == ("vip", "outage")
    assert decided.hits == ("vip-billing", "urgent-words", "german")
    assert decided.trace[1].outcome == "not evaluated"


def test_a_bad_regex_is_reported_with_its_key_path() -> None:
    found = problems(
        '[[rules.first_match]]\nname = "ok"\n'
        '[[rules.all_match]]\nname = "bad"\nwhen = { body_regex = "order (#" }\n'
    )
    assert len(found) == 1
    key, message = found[0]
    assert key == "all_match.0.when.body_regex"
    assert message.startswith("not a valid regular expression: missing ), unterminated subpattern")


def test_duplicate_rule_names_are_reported_with_the_later_rules_key_path() -> None:
    found = problems(
        '[[rules.first_match]]\nname = "same"\n'
        '[[rules.first_match]]\nname = "other"\n'
        '[[rules.all_match]]\nname = "same"\n'
    )
    assert found == [("all_match.0.name", "duplicate rule name 'same'")]


def test_unknown_condition_and_action_keys_are_refused() -> None:
    found = problems(
        '[[rules.first_match]]\nname = "typo"\n'
        'when = { subjet_regex = "x" }\nset = { priorty = "high" }\n'
    )
    assert [key for key, _ in found] == [
        "first_match.0.when.subjet_regex",
        "first_match.0.set.priorty",
    ]


def test_skill_levels_outside_one_to_five_are_reported_with_the_skill() -> None:
    found = problems(
        '[[rules.all_match]]\nname = "x"\n'
        "set = { required_skills = { billing = 0 }, optional_skills = { german = 6 } }\n"
    )
    assert [key for key, _ in found] == [
        "all_match.0.set.required_skills.billing",
        "all_match.0.set.optional_skills.german",
    ]


def test_an_unknown_priority_or_channel_is_reported() -> None:
    found = problems(
        '[[rules.first_match]]\nname = "x"\nwhen = { channel = "fax" }\nset = { priority = "p1" }\n'
    )
    assert [key for key, _ in found] == [
        "first_match.0.when.channel.0",
        "first_match.0.set.priority",
    ]


def test_senders_and_domains_are_normalised_and_checked() -> None:
    settings = rules(
        '[[rules.first_match]]\nname = "x"\n'
        'when = { sender = " Boss@BigCorp.example ", sender_domain = ["@BigCorp.Example"] }\n'
    )
    assert settings.first_match[0].when.sender == ("boss@bigcorp.example",)
    assert settings.first_match[0].when.sender_domain == ("bigcorp.example",)
    found = problems(
        '[[rules.first_match]]\nname = "x"\n'
        'when = { sender = "not-an-address", sender_domain = "a b", language = "p t" }\n'
    )
    assert [key for key, _ in found] == [
        "first_match.0.when.sender.0",
        "first_match.0.when.sender_domain.0",
        "first_match.0.when.language.0",
    ]


def test_blank_keywords_names_and_fields_without_values_are_refused() -> None:
    found = problems(
        '[[rules.first_match]]\nname = "has space"\n'
        'when = { keywords = ["  "], fields = { plan = [] } }\n'
    )
    assert [key for key, _ in found] == [
        "first_match.0.name",
        "first_match.0.when.keywords.0",
        "first_match.0.when.fields",
    ]


def test_team_references_name_the_key_path_of_every_rule_that_sets_a_team() -> None:
    assert list(rules(EXAMPLE).team_references()) == [
        ("first_match.0.set.team", "billing"),
        ("first_match.1.set.team", "sales"),
    ]
