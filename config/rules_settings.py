"""Settings of the classification rules: ``[[rules.first_match]]`` and ``[[rules.all_match]]``.

Each rule has a ``name``, a ``when`` table of conditions and a ``set`` table of
actions (inline tables stay on one line in TOML; a long one reads better as a
sub-table)::

    [[rules.first_match]]
    name = "vip-billing"
    when = { channel = "email", sender_domain = "bigcorp.example", keywords = ["invoice"] }
    [rules.first_match.set]
    category = "billing"
    priority = "high"
    team = "billing"
    required_skills = { billing = 3 }
    optional_skills = { german = 2 }
    tags = ["vip"]

Every condition given must hold; a list means any of its values, and a single
value may be written without the list. An empty ``when`` matches every message.
``first_match`` rules are tried in order and the first that matches applies;
then every matching ``all_match`` rule applies on top, in order (later values
win, skills keep the higher level, tags add up). ``router/rules.py`` explains
the order and how the channel's hints fit in. Regular expressions are compiled
here, so a bad one is reported with its key path.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, StringConstraints, field_validator, model_validator

from config.base import Frozen


def _listed(value: Any) -> Any:
    """A single value where a list is expected is a list of one."""
    return (value,) if isinstance(value, str | int | float | bool) else value


def _folded(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LowerText = Annotated[Text, BeforeValidator(_folded)]
Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
Slug = Annotated[
    str, BeforeValidator(_folded), StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
]
Address = Annotated[
    str, BeforeValidator(_folded), StringConstraints(pattern=r"^[^@\s<>,;]+@[^@\s<>,;]+$")
]
Domain = Annotated[
    str,
    BeforeValidator(lambda v: _folded(v).lstrip("@") if isinstance(v, str) else v),
    StringConstraints(pattern=r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$"),
]
LanguageTag = Annotated[
    str,
    BeforeValidator(lambda v: v.strip().replace("_", "-") if isinstance(v, str) else v),
    StringConstraints(pattern=r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$"),
]
FieldValue = Annotated[str, StringConstraints(max_length=200)] | int | float | bool
Level = Annotated[int, Field(ge=1, le=5)]

# A list of any of these; a single value is a list of one.
Channels = Annotated[tuple[Literal["email", "telegram", "web"], ...], BeforeValidator(_listed)]
Texts = Annotated[tuple[Text, ...], BeforeValidator(_listed)]
LowerTexts = Annotated[tuple[LowerText, ...], BeforeValidator(_listed)]
Addresses = Annotated[tuple[Address, ...], BeforeValidator(_listed)]
Domains = Annotated[tuple[Domain, ...], BeforeValidator(_listed)]
LanguageTags = Annotated[tuple[LanguageTag, ...], BeforeValidator(_listed)]
FieldValues = Annotated[tuple[FieldValue, ...], BeforeValidator(_listed)]


class RuleConditionSettings(Frozen):
    """The ``when`` of a rule: every condition given must hold."""

    channel: Channels = ()
    source: Texts = ()  # mailbox, bot or form: "imap:support", "smtp", "web"; globs allowed
    template: Texts = ()
    sender: Addresses = ()  # exact addresses
    sender_domain: Domains = ()  # the domain or any subdomain of it
    tier: Texts = ()
    organisation: Texts = ()
    keywords: Texts = ()  # any of, whole words, any case, in the subject or the body
    subject_regex: str | None = None  # Python re, searched anywhere: anchor with ^ $ if needed
    body_regex: str | None = None
    language: LanguageTags = ()  # "pt" matches a message in "pt-BR"
    fields: dict[Text, FieldValues] = {}  # custom field -> accepted values

    @field_validator("subject_regex", "body_regex")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
        return value

    @field_validator("fields")
    @classmethod
    def _some_value(cls, value: dict[str, tuple[Any, ...]]) -> dict[str, tuple[Any, ...]]:
        empty = [name for name, accepted in value.items() if not accepted]
        if empty:
            raise ValueError(f"no accepted value for {', '.join(empty)}")
        return value


class RuleActionSettings(Frozen):
    """The ``set`` of a rule: what a match sets; what is left out stays as it was."""

    category: Slug | None = None
    priority: Literal["urgent", "high", "normal", "low"] | None = None
    team: Text | None = None
    required_skills: dict[LowerText, Level] = {}
    optional_skills: dict[LowerText, Level] = {}
    tags: LowerTexts = ()


class RuleSettings(Frozen):
    name: Name
    when: RuleConditionSettings = RuleConditionSettings()
    set: RuleActionSettings = RuleActionSettings()


class RulesSettings(Frozen):
    """The rule book: ``first_match`` (the first hit applies), then ``all_match`` (every hit)."""

    first_match: tuple[RuleSettings, ...] = ()
    all_match: tuple[RuleSettings, ...] = ()

    @model_validator(mode="after")
    def _unique_names(self) -> RulesSettings:
        seen: set[str] = set()
        problems = []
        for section, rules in (("first_match", self.first_match), ("all_match", self.all_match)):
            for i, rule in enumerate(rules):
                if rule.name in seen:
                    problems.append(f"{section}.{i}.name: duplicate rule name {rule.name!r}")
                seen.add(rule.name)
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def team_references(self) -> Iterator[tuple[str, str]]:
        """``(key path, team)`` for every team a rule sets, to check against ``teams``."""
        for section, rules in (("first_match", self.first_match), ("all_match", self.all_match)):
            for i, rule in enumerate(rules):
                if rule.set.team is not None:
                    yield f"{section}.{i}.set.team", rule.set.team
