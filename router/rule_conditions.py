"""The "when" of a classification rule: conditions on a message's facts.

Every condition that is given must hold; a tuple means any of its values. An
empty ``Condition()`` matches every message. Matching is prepared once, when the
condition is built (regular expressions, globs and keyword patterns are compiled
then), so testing a message is a handful of lookups and searches.

``Condition.test(facts)`` answers ``(matched, why)``: on a miss, ``why`` names the
first condition that failed ("sender_domain: example.org is not bigcorp.example");
on a hit, what each condition matched ("keywords: 'refund' in body").
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from router.rule_facts import MessageFacts
from router.vocabulary import Channel

FieldValue = str | int | float | bool
Check = Callable[[MessageFacts], tuple[bool, str]]

_SHOWN_VALUES = 5  # values listed in a "why" before "..."
_SHOWN_CHARS = 40  # characters of matched text quoted in a "why"


@dataclass(frozen=True)
class Condition:
    """What a message must be for a rule to apply; names as in the configuration."""

    channel: tuple[Channel, ...] = ()
    source: tuple[str, ...] = ()  # shell-style globs: "imap:*"
    template: tuple[str, ...] = ()
    sender: tuple[str, ...] = ()  # exact addresses
    sender_domain: tuple[str, ...] = ()  # the domain or any of its subdomains
    tier: tuple[str, ...] = ()
    organisation: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()  # whole words, any case, in the subject or the body
    subject_regex: str | None = None
    body_regex: str | None = None
    language: tuple[str, ...] = ()  # "pt" matches "pt-BR"
    fields: tuple[tuple[str, tuple[FieldValue, ...]], ...] = ()  # name -> accepted values
    _checks: tuple[Check, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_checks", tuple(_checks_of(self)))

    def test(self, facts: MessageFacts) -> tuple[bool, str]:
        """Whether ``facts`` meet every condition, and why (or why not)."""
        matched = []
        for check in self._checks:
            ok, why = check(facts)
            if not ok:
                return False, why
            matched.append(why)
        return True, "; ".join(matched) or "no conditions: matches every message"


def _checks_of(cond: Condition) -> Iterator[Check]:
    """The checks, cheapest first: the text searches come last."""
    if cond.channel:
        yield _one_of("channel", [c.value for c in cond.channel], _channel)
    if cond.source:
        yield _source_glob(cond.source)
    if cond.template:
        yield _one_of("template", cond.template, lambda f: f.template)
    if cond.sender:
        yield _one_of("sender", cond.sender, lambda f: f.sender_address.strip())
    if cond.sender_domain:
        yield _domain_under(cond.sender_domain)
    if cond.tier:
        yield _one_of("tier", cond.tier, lambda f: f.customer_tier)
    if cond.organisation:
        yield _one_of("organisation", cond.organisation, lambda f: f.organisation)
    if cond.language:
        yield _language(cond.language)
    for name, accepted in cond.fields:
        yield _field_value(name, accepted)
    if cond.keywords:
        yield _keywords(cond.keywords)
    if cond.subject_regex is not None:
        yield _regex("subject_regex", "subject", cond.subject_regex, lambda f: f.subject)
    if cond.body_regex is not None:
        yield _regex("body_regex", "body", cond.body_regex, lambda f: f.body)


def _channel(facts: MessageFacts) -> str | None:
    return facts.channel.value if facts.channel is not None else None


def _listing(values: Sequence[str]) -> str:
    """``a`` or ``one of a, b, c`` (the first few) for a "why"."""
    if len(values) == 1:
        return values[0]
    shown = ", ".join(values[:_SHOWN_VALUES])
    return f"one of {shown}{', ...' if len(values) > _SHOWN_VALUES else ''}"


def _quoted(text: str) -> str:
    return repr(text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 1] + "\u2026")


def _one_of(key: str, wanted: Sequence[str], fact: Callable[[MessageFacts], str | None]) -> Check:
    """The fact equals one of ``wanted``, ignoring case."""
    folded = frozenset(w.casefold() for w in wanted)
    listing = _listing(list(wanted))

    def check(facts: MessageFacts) -> tuple[bool, str]:
        value = fact(facts)
        if not value:
            return False, f"{key}: none given, wanted {listing}"
        if value.casefold() in folded:
            return True, f"{key} {value}"
        return False, f"{key}: {value} is not {listing}"

    return check


def _source_glob(patterns: Sequence[str]) -> Check:
    compiled = [(p, re.compile(fnmatch.translate(p.casefold()))) for p in patterns]
    listing = _listing(list(patterns))

    def check(facts: MessageFacts) -> tuple[bool, str]:
        if not facts.source:
            return False, f"source: none given, wanted {listing}"
        source = facts.source.casefold()
        for pattern, regex in compiled:
            if regex.match(source):
                return True, f"source {facts.source} matches {pattern}"
        return False, f"source: {facts.source} matches none of {', '.join(patterns)}"

    return check


def _domain_under(domains: Sequence[str]) -> Check:
    wanted = tuple(d.strip().lstrip("@").lower() for d in domains)
    listing = _listing(list(wanted))

    def check(facts: MessageFacts) -> tuple[bool, str]:
        domain = facts.sender_domain
        if not domain:
            return False, f"sender_domain: no sender domain, wanted {listing}"
        for parent in wanted:
            if domain == parent:
                return True, f"sender_domain {domain}"
            if domain.endswith("." + parent):
                return True, f"sender_domain {domain} is under {parent}"
        return False, f"sender_domain: {domain} is not {listing}"

    return check


def _language(tags: Sequence[str]) -> Check:
    """A rule's "pt" matches a message in "pt" or "pt-BR"; "pt-BR" does not match "pt"."""
    wanted = tuple(t.strip().replace("_", "-").lower() for t in tags)
    listing = _listing(list(tags))

    def check(facts: MessageFacts) -> tuple[bool, str]:
        if not facts.languages:
            return False, f"language: none given, wanted {listing}"
        for have in facts.languages:
            for tag in wanted:
                if have == tag or have.startswith(tag + "-"):
                    return True, f"language {have} matches {tag}"
        return False, f"language: {', '.join(facts.languages)} is not {listing}"

    return check


def field_text(value: object) -> str:
    """A custom field's value as compared: booleans as true/false, 2.0 as 2, text folded."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip().casefold()


def _field_value(name: str, accepted: Sequence[FieldValue]) -> Check:
    texts = frozenset(field_text(v) for v in accepted)
    listing = _listing([repr(v) for v in accepted])

    def check(facts: MessageFacts) -> tuple[bool, str]:
        value = facts.custom_fields.get(name)
        if value is None or value == "":
            return False, f"fields: {name} is missing, wanted {listing}"
        if field_text(value) in texts:
            return True, f"fields: {name} = {value!r}"
        return False, f"fields: {name} = {value!r} is not {listing}"

    return check


def keyword_pattern(keywords: Sequence[str]) -> re.Pattern[str]:
    """Any keyword as a whole word, any case; spaces inside a keyword match any whitespace."""
    words = sorted({k.strip() for k in keywords if k.strip()}, key=len, reverse=True)
    if not words:
        raise ValueError("keywords: every keyword is blank")
    alternatives = "|".join(r"\s+".join(map(re.escape, w.split())) for w in words)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def _keywords(keywords: Sequence[str]) -> Check:
    pattern = keyword_pattern(keywords)
    listing = ", ".join(repr(k) for k in keywords[:_SHOWN_VALUES])
    if len(keywords) > _SHOWN_VALUES:
        listing += ", ..."

    def check(facts: MessageFacts) -> tuple[bool, str]:
        for where, text in (("subject", facts.subject), ("body", facts.body)):
            found = pattern.search(text)
            if found:
                return True, f"keywords: {_quoted(found.group(0).lower())} in {where}"
        return False, f"keywords: none of {listing} in subject or body"

    return check


def _regex(key: str, where: str, source: str, text: Callable[[MessageFacts], str]) -> Check:
    try:
        pattern = re.compile(source)
    except re.error as exc:
        raise ValueError(f"{key}: not a valid regular expression: {exc}") from None

    def check(facts: MessageFacts) -> tuple[bool, str]:
        found = pattern.search(text(facts))
        if found:
            return True, f"{key}: {_quoted(found.group(0))} in {where}"
        return False, f"{key}: no match for {_quoted(source)} in {where}"

    return check
