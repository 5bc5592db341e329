"""Times as a reader reads them: in the reader's zone, to the second, the zone said.

The store keeps UTC; a person reading a notice or a ticket sees the time in their
own zone when it is known (an agent's ``timezone``, a requester's), else in the
desk's, and always with the zone's name, so "04:51:39 UTC" is never read as local
time, nor cut to 04:51. ``local_time`` writes it in the reader's language as the
locale writes dates (Babel's CLDR data): what notices and pages say.
``reader_time`` is the one form the command line prints for operators.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

from babel.core import Locale
from babel.dates import (
    DateTimePattern,
    format_timedelta,
    get_date_format,
    get_datetime_format,
    get_time_format,
    get_timezone_name,
)


def reader_time(at: datetime, zone: str = "UTC") -> str:
    """``at`` in ``zone``: "2026-11-25 04:51:39 UTC", "2026-11-25 05:51:39 CET
    (UTC+01:00)" (an abbreviation alone can mean two zones: CST, IST), or for a zone
    whose abbreviation is its offset "2026-11-25 08:51:39 UTC+04:00"."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"a naive datetime has no zone to show it in: {at!r}")
    local = at.astimezone(_zone(zone))
    shown = f"{local:%Y-%m-%d %H:%M:%S}"
    offset = local.utcoffset()
    if not offset and local.tzname() in ("UTC", "Z", None):
        return f"{shown} UTC"
    utc = f"UTC{local:%z}"
    utc = f"{utc[:-2]}:{utc[-2:]}"  # UTC+0100 -> UTC+01:00
    name = local.tzname() or ""
    if not name or name[:1] in "+-":
        return f"{shown} {utc}"
    return f"{shown} {name} ({utc})"


def local_time(at: datetime, zone: str = "UTC", language: str = "en") -> str:
    """``at`` in ``zone`` as ``language`` writes a date and a time with its seconds, then
    the zone: "Nov 24, 2026, 11:51:39 PM EST (UTC-05:00)", "2026年11月25日 12:51:39
    UTC+08:00" (a zone's abbreviation only where the locale uses one), "... UTC"."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"a naive datetime has no zone to show it in: {at!r}")
    local = at.astimezone(_zone(zone))
    shown = _medium(local, language)
    offset = local.utcoffset()
    if not offset and zone in ("UTC", "Etc/UTC", "Etc/UCT", "UCT", "Zulu", "Etc/Zulu"):
        return f"{shown} UTC"
    return f"{shown} {_zone_text(local, zone, language)}"


ZONE_TEXTS = 4096  # zone texts remembered (a zone, a day, an offset, a language each)
_zone_texts: dict[tuple[str, date, timedelta | None, str], str] = {}


def _zone_text(local: datetime, zone: str, language: str) -> str:
    """The zone after a time: "UTC+01:00", "EST (UTC-05:00)". Its name depends on the
    zone, the day (daylight saving, the zone's history) and the offset, so it is asked of
    Babel once per day, offset and language (a page of 200 messages shows a few days)."""
    key = (zone, local.date(), local.utcoffset(), language)
    text = _zone_texts.get(key)
    if text is None:
        utc = f"UTC{local:%z}"
        utc = f"{utc[:-2]}:{utc[-2:]}"
        name = get_timezone_name(local, "short", locale=language)
        plain = not name or not name[:1].isalpha() or name.startswith(("GMT+", "GMT-", "UTC"))
        text = utc if plain else f"{name} ({utc})"
        if len(_zone_texts) >= ZONE_TEXTS:
            _zone_texts.clear()
        _zone_texts[key] = text
    return text


def _medium(local: datetime, language: str) -> str:
    """Babel's ``format_datetime(local, "medium")``, its patterns parsed once per language
    and each day's date written once (a page of 200 messages formats 200 times)."""
    locale, _, time_pattern, combined = _medium_patterns(language)
    return combined.replace("{1}", _date_text(local.date(), language)).replace(
        "{0}", time_pattern.apply(local, locale)
    )


@lru_cache(maxsize=4096)
def _date_text(day: date, language: str) -> str:
    """The medium date pattern's text of ``day`` (its fields are the date's alone)."""
    locale, date_pattern, _, _ = _medium_patterns(language)
    return date_pattern.apply(day, locale)


@cache
def _medium_patterns(language: str) -> tuple[Locale, DateTimePattern, DateTimePattern, str]:
    locale = Locale.parse(language)
    return (
        locale,
        get_date_format("medium", locale),
        get_time_format("medium", locale),
        str(get_datetime_format("medium", locale)),
    )


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def span_text(delta: timedelta, language: str = "en") -> str:
    """A length of time as ``language`` says it, rounded to its largest unit: "42
    minutes", "3 hours", "2 days" ("42分钟", "3小时"); its sign is dropped (the text
    around it says "ago" or "in")."""
    return format_timedelta(
        abs(delta), threshold=1.5, granularity="minute", format="short", locale=language
    )
