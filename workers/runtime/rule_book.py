"""The classification rules of the configuration as the router's rule book."""

from __future__ import annotations

from config.rules_settings import RuleSettings, RulesSettings
from config.settings import Settings
from router.rule_simulation import RuleSetup
from router.rules import Action, Condition, Rule, RuleBook
from router.vocabulary import Channel, Priority


def rule_book(settings: RulesSettings) -> RuleBook:
    """Build the frozen ``RuleBook`` once, at start-up: regexes compile here."""
    return RuleBook(
        first_match=tuple(_rule(r) for r in settings.first_match),
        all_match=tuple(_rule(r) for r in settings.all_match),
    )


def _rule(settings: RuleSettings) -> Rule:
    when, then = settings.when, settings.set
    return Rule(
        name=settings.name,
        when=Condition(
            channel=tuple(Channel(c) for c in when.channel),
            source=when.source,
            template=when.template,
            sender=when.sender,
            sender_domain=when.sender_domain,
            tier=when.tier,
            organisation=when.organisation,
            keywords=when.keywords,
            subject_regex=when.subject_regex,
            body_regex=when.body_regex,
            language=when.language,
            fields=tuple(when.fields.items()),
        ),
        then=Action(
            category=then.category,
            priority=Priority(then.priority) if then.priority else None,
            team=then.team,
            required_skills=tuple(sorted(then.required_skills.items())),
            optional_skills=tuple(sorted(then.optional_skills.items())),
            tags=then.tags,
        ),
    )


def rule_setup(settings: Settings) -> RuleSetup:
    """A configuration's classification as ingest applies it (``plan_ticket``, through
    ``DeskConfig.classify``)."""
    return RuleSetup(
        book=rule_book(settings.rules),
        default_category="general",
        default_priority=Priority(settings.helpdesk.default_priority),
        default_team=settings.helpdesk.default_team,
        category_teams=dict(settings.categories),
    )
