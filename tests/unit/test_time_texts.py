from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from router.time_texts import local_time, reader_time

AT = datetime(2026, 11, 25, 4, 51, 39, tzinfo=UTC)


def test_a_time_keeps_its_seconds_and_says_it_is_utc() -> None:
    assert reader_time(AT) == "2026-11-25 04:51:39 UTC"


def test_a_time_in_the_readers_zone_names_the_zone_and_its_offset() -> None:
    assert reader_time(AT, "Europe/Berlin") == "2026-11-25 05:51:39 CET (UTC+01:00)"
    summer = datetime(2026, 7, 1, 4, 51, 39, tzinfo=UTC)
    assert reader_time(summer, "Europe/Berlin") == "2026-07-01 06:51:39 CEST (UTC+02:00)"
    assert reader_time(AT, "America/New_York") == "2026-11-24 23:51:39 EST (UTC-05:00)"
    assert reader_time(AT, "Asia/Kolkata") == "2026-11-25 10:21:39 IST (UTC+05:30)"


def test_a_zone_without_an_abbreviation_says_its_offset_once() -> None:
    assert reader_time(AT, "Asia/Dubai") == "2026-11-25 08:51:39 UTC+04:00"
    assert reader_time(AT, "Europe/London") == "2026-11-25 04:51:39 GMT (UTC+00:00)"


def test_a_time_given_in_another_offset_is_the_same_instant() -> None:
    elsewhere = AT.astimezone(timezone(timedelta(hours=-7)))
    assert reader_time(elsewhere) == "2026-11-25 04:51:39 UTC"


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        reader_time(datetime(2026, 11, 25, 4, 51, 39))


def test_a_time_for_a_reader_is_written_as_their_language_writes_dates() -> None:
    assert local_time(AT, "Asia/Shanghai", "zh_CN") == "2026年11月25日 12:51:39 UTC+08:00"
    assert local_time(AT, "UTC", "zh_CN") == "2026年11月25日 04:51:39 UTC"
    assert local_time(AT, "UTC", "en") == "Nov 25, 2026, 4:51:39\u202fAM UTC"
    assert local_time(AT, "America/New_York", "en") == (
        "Nov 24, 2026, 11:51:39\u202fPM EST (UTC-05:00)"
    )
    assert local_time(AT, "America/New_York", "zh_CN") == "2026年11月24日 23:51:39 UTC-05:00"


def test_a_naive_time_is_refused_in_every_language() -> None:
    with pytest.raises(ValueError, match="naive"):
        local_time(datetime(2026, 11, 25, 4, 51, 39), "UTC", "zh_CN")
