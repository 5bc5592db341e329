"""The classification rule interpreter: conditions, sections, hints, traces and reasons."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from router.envelopes import InboundMessage
from router.rules import (
    Action,
    Classified,
    Condition,
    MessageFacts,
    Rule,
    RuleBook,
    classify_message,
    facts_from_message,
)
from router.vocabulary import Channel, Priority

TEAMS = {"billing": "billing-team", "tech": "tech-team"}


def facts(**kw: Any) -> MessageFacts:
    base: dict[str, Any] = {
        "channel": Channel.EMAIL,
        "source": "imap:support",
        "sender_address": "jo@example.org",
        "subject": "Hello",
        "body": "Some text",
    }
    base.update(kw)
    return MessageFacts(**base)


def decide(
    message: MessageFacts,
    first: tuple[Rule, ...] = (),
    every: tuple[Rule, ...] = (),
    **hints: Any,
) -> Classified:
    return classify_message(
        message,
        RuleBook(first_match=first, all_match=every),
        default_category="general",
        default_priority=Priority.NORMAL,
        default_team="support",
        category_teams=TEAMS,
        **hints,
    )


def check(condition: Condition, message: MessageFacts) -> tuple[bool, str]:
    return condition.test(message)


def rule(name: str, *, then: Action | None = None, **when: Any) -> Rule:
    return Rule(name=name, when=Condition(**when), then=then or Action(tags=(name,)))


# Conditions, one kind at a time


def test_a_channel_condition_matches_any_listed_channel_and_names_the_one_that_missed() -> None:
    cond = Condition(channel=(Channel.EMAIL, Channel.WEB))
    assert check(cond, facts(channel=Channel.WEB)) == (True, "channel web")
    assert check(cond, facts(channel=Channel.TELEGRAM)) == (
        False,
        "channel: telegram is not one of email, web",
    )
    assert check(cond, facts(channel=None))[0] is False


def test_a_source_condition_takes_shell_globs_and_ignores_case() -> None:
    cond = Condition(source=("imap:*", "smtp"))
    assert check(cond, facts(source="IMAP:Support")) == (True, "source IMAP:Support matches imap:*")
    assert check(cond, facts(source="smtp"))[0]
    assert check(cond, facts(source="web")) == (False, "source: web matches none of imap:*, smtp")
    assert check(cond, facts(source=""))[1] == "source: none given, wanted one of imap:*, smtp"


def test_a_template_condition_misses_when_the_message_has_no_template() -> None:
    cond = Condition(template=("refund-form",))
    assert check(cond, facts(template="refund-form")) == (True, "template refund-form")
    assert check(cond, facts()) == (False, "template: none given, wanted refund-form")


def test_a_sender_condition_matches_exact_addresses_in_any_case() -> None:
    cond = Condition(sender=("boss@bigcorp.example",))
    assert check(cond, facts(sender_address="Boss@BigCorp.example"))[0]
    assert check(cond, facts(sender_address="boss@bigcorp.example.evil"))[0] is False


def test_a_sender_domain_matches_the_domain_and_its_subdomains_but_not_lookalikes() -> None:
    cond = Condition(sender_domain=("bigcorp.example",))
    assert check(cond, facts(sender_address="a@bigcorp.example")) == (
        True,
        "sender_domain bigcorp.example",
    )
    assert check(cond, facts(sender_address="a@EU.Mail.bigcorp.example")) == (
        True,
        "sender_domain eu.mail.bigcorp.example is under bigcorp.example",
    )
    assert check(cond, facts(sender_address="a@evilbigcorp.example"))[0] is False
    assert check(cond, facts(sender_address="a@example.org")) == (
        False,
        "sender_domain: example.org is not bigcorp.example",
    )
    assert check(cond, facts(sender_address="telegram-user-42"))[0] is False


def test_tier_and_organisation_conditions_compare_in_any_case_and_miss_when_unknown() -> None:
    cond = Condition(tier=("gold", "platinum"), organisation=("BigCorp",))
    assert check(cond, facts(customer_tier="Gold", organisation="bigcorp"))[0]
    assert check(cond, facts(customer_tier="silver", organisation="bigcorp")) == (
        False,
        "tier: silver is not one of gold, platinum",
    )
    assert check(cond, facts(customer_tier="gold")) == (
        False,
        "organisation: none given, wanted BigCorp",
    )


def test_keywords_match_whole_words_in_the_subject_or_the_body_in_any_case() -> None:
    cond = Condition(keywords=("invoice", "refund", "credit card", "c++"))
    assert check(cond, facts(body="I want a REFUND now")) == (True, "keywords: 'refund' in body")
    assert check(cond, facts(subject="Invoice 12", body="refund")) == (
        True,
        "keywords: 'invoice' in subject",
    )
    assert check(cond, facts(body="my credit\n  card was charged"))[0]
    assert check(cond, facts(body="the C++ build fails"))[0]
    assert check(cond, facts(body="refunded, invoices, prefund")) == (
        False,
        "keywords: none of 'invoice', 'refund', 'credit card', 'c++' in subject or body",
    )


def test_subject_and_body_regexes_each_search_their_own_text() -> None:
    cond = Condition(subject_regex=r"(?i)\b(down|outage)\b")
    assert check(cond, facts(subject="Site DOWN since 9")) == (
        True,
        "subject_regex: 'DOWN' in subject",
    )
    assert check(cond, facts(subject="Hi", body="site down"))[0] is False
    body = Condition(body_regex=r"order #?\d{4,}")
    assert check(body, facts(body="about order #12345"))[1] == "body_regex: 'order #12345' in body"
    assert check(body, facts(subject="order 12345"))[1].startswith("body_regex: no match for")


def test_a_bad_regex_is_refused_when_the_condition_is_built_naming_its_key() -> None:
    with pytest.raises(ValueError, match="body_regex: not a valid regular expression"):
        Condition(body_regex="(unclosed")


def test_a_language_matches_its_regional_variants_but_not_the_other_way_round() -> None:
    assert check(Condition(language=("pt",)), facts(language="pt-BR")) == (
        True,
        "language pt-br matches pt",
    )
    assert check(Condition(language=("pt-BR",)), facts(language="pt_br"))[0]
    assert check(Condition(language=("pt-BR",)), facts(language="pt"))[0] is False
    assert check(Condition(language=("de",)), facts(language="fr, de-AT;q=0.5"))[0]
    assert check(Condition(language=("de",)), facts(language="")) == (
        False,
        "language: none given, wanted de",
    )
    assert check(Condition(language=("de",)), facts(language="dem"))[0] is False


def test_a_custom_field_matches_any_accepted_value_comparing_text_numbers_and_booleans() -> None:
    cond = Condition(fields=(("plan", ("pro", "enterprise")), ("seats", (10,)), ("eu", (True,))))
    good = {"plan": " Pro ", "seats": 10.0, "eu": True}
    assert check(cond, facts(custom_fields=good)) == (
        True,
        "fields: plan = ' Pro '; fields: seats = 10.0; fields: eu = True",
    )
    assert check(cond, facts(custom_fields={**good, "plan": "free"})) == (
        False,
        "fields: plan = 'free' is not one of 'pro', 'enterprise'",
    )
    assert check(cond, facts(custom_fields={**good, "eu": False}))[0] is False
    assert check(cond, facts(custom_fields={"seats": 10, "eu": True})) == (
        False,
        "fields: plan is missing, wanted one of 'pro', 'enterprise'",
    )


def test_every_condition_must_hold_and_a_miss_names_the_first_that_failed() -> None:
    cond = Condition(channel=(Channel.EMAIL,), sender_domain=("bigcorp.example",), keywords=("x",))
    matched, why = check(cond, facts(sender_address="a@bigcorp.example", body="x"))
    assert matched and why == "channel email; sender_domain bigcorp.example; keywords: 'x' in body"
    assert check(cond, facts(sender_address="a@other.example", body="x")) == (
        False,
        "sender_domain: other.example is not bigcorp.example",
    )


def test_a_rule_without_conditions_matches_every_message() -> None:
    assert check(Condition(), MessageFacts()) == (True, "no conditions: matches every message")


# Sections


def test_first_match_applies_only_the_first_hit_and_traces_the_rest_as_not_evaluated() -> None:
    first = (
        rule("telegram", channel=(Channel.TELEGRAM,)),
        rule("email", channel=(Channel.EMAIL,), then=Action(category="tech")),
        rule("catch-all", then=Action(category="billing")),
    )
    decided = decide(facts(), first)
    assert decided.category == "tech" and decided.team == "tech-team"
    assert decided.hits == ("email",)
    assert [(t.rule, t.outcome) for t in decided.trace] == [
        ("telegram", "miss"),
        ("email", "hit"),
        ("catch-all", "not evaluated"),
    ]
    assert decided.trace[0].why == "channel: email is not telegram"
    assert decided.trace[2].why == "email hit"


def test_all_match_applies_every_hit_in_order_later_values_win_skills_keep_the_max() -> None:
    every = (
        rule(
            "a",
            then=Action(
                category="billing",
                priority=Priority.HIGH,
                required_skills=(("billing", 2), ("german", 4)),
                tags=("vip", "eu"),
            ),
        ),
        rule("misses", channel=(Channel.WEB,), then=Action(priority=Priority.LOW, tags=("no",))),
        rule(
            "b",
            then=Action(
                priority=Priority.URGENT,
                required_skills=(("billing", 3), ("german", 1)),
                optional_skills=(("french", 2),),
                tags=("outage", "vip"),
            ),
        ),
    )
    decided = decide(facts(), every=every)
    assert decided.category == "billing" and decided.team == "billing-team"
    assert decided.priority is Priority.URGENT
    assert decided.required_skills == (("billing", 3), ("german", 4))
    assert decided.optional_skills == (("french", 2),)
    assert decided.tags == ("vip", "eu", "outage")
    assert decided.hits == ("a", "b")


def test_all_match_applies_on_top_of_the_first_match_result() -> None:
    first = (rule("kind", then=Action(category="billing", team="billing", priority=Priority.LOW)),)
    every = (rule("urgent", keywords=("outage",), then=Action(priority=Priority.URGENT)),)
    decided = decide(facts(body="an outage"), first, every)
    assert (decided.category, decided.team, decided.priority) == (
        "billing",
        "billing",
        Priority.URGENT,
    )
    assert [t.section for t in decided.trace] == ["first_match", "all_match"]


def test_reasons_summarise_each_hit_and_where_the_priority_team_and_skills_came_from() -> None:
    first = (
        rule(
            "vip-billing",
            then=Action(
                category="billing",
                priority=Priority.HIGH,
                team="billing",
                required_skills=(("billing", 3),),
                optional_skills=(("german", 2),),
                tags=("vip",),
            ),
        ),
    )
    assert decide(facts(), first).reasons == (
        "rule vip-billing: category billing, priority high, team billing, billing>=3, "
        "optional german>=2, tags vip",
        "priority high from rule vip-billing",
        "team billing from rule vip-billing",
        "skills billing>=3, optional german>=2",
    )


def test_when_no_rule_matches_the_defaults_apply_and_the_reasons_say_so() -> None:
    first = (rule("web", channel=(Channel.WEB,)),)
    every = (rule("words", keywords=("outage",)),)
    decided = decide(facts(), first, every)
    assert (decided.category, decided.priority, decided.team) == (
        "general",
        Priority.NORMAL,
        "support",
    )
    assert (decided.required_skills, decided.optional_skills, decided.tags) == ((), (), ())
    assert decided.reasons == (
        "no rule matched (2 tried)",
        "priority normal from default",
        "team support by default",
    )
    assert [t.outcome for t in decided.trace] == ["miss", "miss"]


def test_a_first_match_rule_that_sets_nothing_stops_the_section_and_keeps_the_defaults() -> None:
    first = (rule("newsletters", then=Action()), rule("catch-all", then=Action(category="tech")))
    decided = decide(facts(), first)
    assert decided.category == "general"
    assert decided.reasons[0] == "rule newsletters: nothing set"
    assert decided.trace[1].outcome == "not evaluated"


def test_a_required_skill_stays_optional_only_at_a_higher_preferred_level() -> None:
    every = (
        rule("a", then=Action(optional_skills=(("german", 4), ("french", 1)))),
        rule("b", then=Action(required_skills=(("german", 2), ("french", 3)))),
    )
    decided = decide(facts(), every=every)
    assert decided.required_skills == (("french", 3), ("german", 2))
    assert decided.optional_skills == (("german", 4),)  # german>=4 still ranks agents


def test_the_audit_data_is_json_safe_and_lists_every_rule() -> None:
    decided = decide(facts(), (rule("a"), rule("b")), (rule("c", channel=(Channel.WEB,)),))
    data = json.loads(json.dumps(decided.audit_data()))
    assert [(r["rule"], r["outcome"]) for r in data["rules"]] == [
        ("a", "hit"),
        ("b", "not evaluated"),
        ("c", "miss"),
    ]
    assert data["tags"] == ["a"] and data["priority"] == "normal"
    assert decided.trace[2].line() == "all_match c: miss (channel: email is not web)"


def test_duplicate_rule_names_across_sections_are_refused() -> None:
    with pytest.raises(ValueError, match="duplicate rule name: x"):
        RuleBook(first_match=(rule("x"),), all_match=(rule("x"),))


def test_a_skill_level_outside_one_to_five_is_refused() -> None:
    with pytest.raises(ValueError, match="level 6"):
        Action(required_skills=(("billing", 6),))


# Hints from the channel


def test_the_category_hint_is_the_starting_category_and_picks_its_team() -> None:
    decided = decide(facts(), category_hint=" Billing ")
    assert (decided.category, decided.team) == ("billing", "billing-team")
    assert decided.reasons[-1] == "team billing-team for category billing"


def test_a_rule_overrules_the_priority_hint_and_the_reason_says_so() -> None:
    every = (rule("calm", then=Action(priority=Priority.LOW)),)
    decided = decide(facts(), every=every, priority_hint=Priority.URGENT)
    assert decided.priority is Priority.LOW
    assert "priority low from rule calm over hint urgent" in decided.reasons


def test_the_priority_hint_stays_when_no_matching_rule_sets_a_priority() -> None:
    every = (rule("tag-only", then=Action(tags=("x",))),)
    decided = decide(facts(), every=every, priority_hint=Priority.HIGH)
    assert decided.priority is Priority.HIGH
    assert "priority high from hint" in decided.reasons


def test_a_rule_category_overrules_the_hint_and_picks_the_team_of_the_new_category() -> None:
    first = (rule("tech", then=Action(category="tech")),)
    decided = decide(facts(), first, category_hint="billing")
    assert (decided.category, decided.team) == ("tech", "tech-team")


def test_a_team_named_by_a_rule_wins_over_the_team_of_the_category() -> None:
    every = (rule("vip", then=Action(team="vip-desk")),)
    decided = decide(facts(), every=every, category_hint="billing")
    assert (decided.category, decided.team) == ("billing", "vip-desk")
    assert "team vip-desk from rule vip" in decided.reasons


# Facts from an inbound message


def inbound(**kw: Any) -> InboundMessage:
    base: dict[str, Any] = {
        "channel": Channel.EMAIL,
        "idempotency_key": "k",
        "sender_address": "jo@x.org",
        "body_text": "the body",
        "subject": "the subject",
        "source": "imap:support",
    }
    base.update(kw)
    return InboundMessage(**base)


def test_facts_from_a_message_carry_its_text_sender_source_and_the_given_customer_facts() -> None:
    got = facts_from_message(
        inbound(custom_fields={"plan": "pro"}), tier="gold", organisation="X", template="t"
    )
    assert got == MessageFacts(
        channel=Channel.EMAIL,
        source="imap:support",
        template="t",
        sender_address="jo@x.org",
        customer_tier="gold",
        organisation="X",
        subject="the subject",
        body="the body",
        language="",
        custom_fields={"plan": "pro"},
    )


def test_the_language_comes_from_content_language_else_from_a_language_field() -> None:
    assert facts_from_message(inbound(headers={"content-language": "de-AT"})).language == "de-AT"
    both = inbound(headers={"Content-Language": "fr"}, custom_fields={"language": "de"})
    assert facts_from_message(both).language == "fr"
    assert facts_from_message(inbound(custom_fields={"language": "pt-BR"})).language == "pt-BR"


# Without rules: the channel's hints and the defaults, as the first classification decided


def legacy_classify(
    message: InboundMessage, default_team: str, default_priority: Priority, teams: Mapping[str, str]
) -> tuple[str, Priority, str, tuple[str, ...]]:
    """What the first classification (before the rule interpreter) did, verbatim."""
    reasons = []
    category = (message.category_hint or "general").strip().lower() or "general"
    priority = message.priority_hint or default_priority
    reasons.append(
        f"priority {priority.value} from {'hint' if message.priority_hint else 'default'}"
    )
    team = teams.get(category)
    if team:
        reasons.append(f"team {team} for category {category}")
    else:
        team = default_team
        reasons.append(f"team {team} by default")
    return category, priority, team, tuple(reasons)


@given(
    category_hint=st.none() | st.sampled_from(["", "  ", "billing", " Tech ", "other"]),
    priority_hint=st.none() | st.sampled_from(list(Priority)),
    default_priority=st.sampled_from(list(Priority)),
)
def test_an_empty_rule_book_decides_exactly_as_the_first_classification_did(
    category_hint: str | None, priority_hint: Priority | None, default_priority: Priority
) -> None:
    message = inbound(category_hint=category_hint, priority_hint=priority_hint)
    got = classify_message(
        facts_from_message(message),
        RuleBook(),
        default_category="general",
        default_priority=default_priority,
        default_team="support",
        category_teams=TEAMS,
        category_hint=message.category_hint,
        priority_hint=message.priority_hint,
    )
    expected = legacy_classify(message, "support", default_priority, TEAMS)
    assert (got.category, got.priority, got.team, got.reasons) == expected


# Properties

CHANNELS = st.sampled_from(list(Channel))
DOMAINS = ["a.example", "b.example", "x.a.example"]
WORDS = ["refund", "outage", "hello"]

conditions = st.builds(
    Condition,
    channel=st.lists(CHANNELS, max_size=2, unique=True).map(tuple),
    sender_domain=st.lists(st.sampled_from(DOMAINS), max_size=2, unique=True).map(tuple),
    keywords=st.lists(st.sampled_from(WORDS), max_size=2, unique=True).map(tuple),
)
actions = st.builds(
    Action,
    category=st.none() | st.sampled_from(["billing", "tech", "sales"]),
    priority=st.none() | st.sampled_from(list(Priority)),
    team=st.none() | st.sampled_from(["t1", "t2"]),
    required_skills=st.dictionaries(st.sampled_from(["billing", "german"]), st.integers(1, 5)).map(
        lambda d: tuple(sorted(d.items()))
    ),
    optional_skills=st.dictionaries(st.sampled_from(["german", "french"]), st.integers(1, 5)).map(
        lambda d: tuple(sorted(d.items()))
    ),
    tags=st.lists(st.sampled_from(["vip", "eu", "x"]), max_size=2, unique=True).map(tuple),
)


@st.composite
def rule_books(draw: st.DrawFn) -> RuleBook:
    first = draw(st.lists(st.tuples(conditions, actions), max_size=4))
    every = draw(st.lists(st.tuples(conditions, actions), max_size=4))
    return RuleBook(
        first_match=tuple(Rule(f"f{i}", w, t) for i, (w, t) in enumerate(first)),
        all_match=tuple(Rule(f"a{i}", w, t) for i, (w, t) in enumerate(every)),
    )


message_facts = st.builds(
    MessageFacts,
    channel=CHANNELS,
    sender_address=st.sampled_from(DOMAINS).map(lambda d: f"jo@{d}"),
    subject=st.sampled_from(["", "Refund please", "hi"]),
    body=st.lists(st.sampled_from([*WORDS, "other"]), max_size=3).map(" ".join),
)


def decision(c: Classified) -> tuple[object, ...]:
    return (c.category, c.priority, c.team, c.required_skills, c.optional_skills, c.tags)


@given(message_facts, st.none() | st.sampled_from(list(Priority)))
def test_an_empty_rule_book_gives_the_defaults_or_the_hints(
    message: MessageFacts, hint: Priority | None
) -> None:
    decided = decide(message, priority_hint=hint)
    assert decision(decided) == ("general", hint or Priority.NORMAL, "support", (), (), ())
    assert decided.trace == ()


@given(message_facts, rule_books())
def test_first_match_hits_at_most_once_and_every_rule_is_traced_once_in_order(
    message: MessageFacts, book: RuleBook
) -> None:
    decided = decide(message, book.first_match, book.all_match)
    assert [t.rule for t in decided.trace] == [r.name for r in (*book.first_match, *book.all_match)]
    first = [t.outcome for t in decided.trace if t.section == "first_match"]
    assert first.count("hit") <= 1
    if "hit" in first:
        after = first[first.index("hit") + 1 :]
        assert all(outcome == "not evaluated" for outcome in after)
    assert "not evaluated" not in [t.outcome for t in decided.trace if t.section == "all_match"]


@given(message_facts, rule_books())
def test_rules_that_do_not_match_do_not_change_the_decision(
    message: MessageFacts, book: RuleBook
) -> None:
    decided = decide(message, book.first_match, book.all_match)
    hit = set(decided.hits)
    only_hits = RuleBook(
        first_match=tuple(r for r in book.first_match if r.name in hit),
        all_match=tuple(r for r in book.all_match if r.name in hit),
    )
    again = decide(message, only_hits.first_match, only_hits.all_match)
    assert decision(again) == decision(decided)
    assert again.hits == decided.hits
