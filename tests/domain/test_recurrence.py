"""Parsing ``when`` and computing fire times, including DST gaps and folds."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.recurrence import (
    ACCEPTED_FORMS,
    MAX_WHEN_LENGTH,
    Cron,
    OneOff,
    Recurrence,
    Weekly,
    from_canonical,
    parse_when,
)
from bot.errors import InvalidInput

UTC_Z = ZoneInfo("UTC")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2026, 1, 1, tzinfo=UTC)  # a Thursday
ALL_DOM = tuple(range(1, 32))
ALL_MONTHS = tuple(range(1, 13))
ALL_DOW = tuple(range(7))


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def parse(text: str, tz: ZoneInfo = UTC_Z) -> Recurrence:
    return parse_when(text, NOW, tz)


def fires(text: str, tz: ZoneInfo, after: datetime, count: int) -> list[datetime]:
    recurrence = parse(text, tz)
    out: list[datetime] = []
    fire: datetime | None = after
    for _ in range(count):
        assert fire is not None
        fire = recurrence.next_fire(fire, tz)
        if fire is None:
            break
        out.append(fire)
    return out


def first_fire(text: str, tz: ZoneInfo, after: datetime) -> datetime:
    [fire] = fires(text, tz, after, 1)
    return fire


# --------------------------------------------------------------------------------------------
# Accepted forms
# --------------------------------------------------------------------------------------------


def test_single_day() -> None:
    assert parse("mon 09:00") == Weekly(frozenset({0}), 9, 0)


def test_day_list() -> None:
    assert parse("mon,thu 18:30") == Weekly(frozenset({0, 3}), 18, 30)


def test_full_day_names() -> None:
    assert parse("monday,thursday 18:30") == parse("mon,thu 18:30")


def test_case_and_extra_spaces_are_ignored() -> None:
    assert parse("  MON ,  Thu   18:30 ") == parse("mon,thu 18:30")


def test_day_range() -> None:
    assert parse("mon-wed 09:00") == Weekly(frozenset({0, 1, 2}), 9, 0)


def test_day_range_wraps_over_the_weekend() -> None:
    assert parse("fri-mon 09:00") == Weekly(frozenset({4, 5, 6, 0}), 9, 0)


def test_single_digit_hour() -> None:
    assert parse("mon 9:05") == Weekly(frozenset({0}), 9, 5)


def test_daily() -> None:
    assert parse("daily 07:00") == Weekly(frozenset(range(7)), 7, 0)


def test_weekdays() -> None:
    assert parse("weekdays 08:00") == Weekly(frozenset(range(5)), 8, 0)


def test_weekends() -> None:
    assert parse("weekends 10:00") == Weekly(frozenset({5, 6}), 10, 0)


def test_one_off() -> None:
    assert parse("2026-12-01 09:00") == OneOff(date(2026, 12, 1), 9, 0)


def test_one_off_with_iso_t_separator() -> None:
    assert parse("2026-12-01T09:00") == OneOff(date(2026, 12, 1), 9, 0)


def test_cron() -> None:
    assert parse("0 9 * * 1-5") == Cron((0,), (9,), ALL_DOM, ALL_MONTHS, (1, 2, 3, 4, 5))


def test_cron_names() -> None:
    assert parse("0 9 * JAN,jul mon-fri") == Cron((0,), (9,), ALL_DOM, (1, 7), (1, 2, 3, 4, 5))


def test_cron_full_names() -> None:
    assert parse("0 9 * january monday") == parse("0 9 * jan mon")


def test_cron_step_over_everything() -> None:
    assert parse("*/15 * * * *").minutes == (0, 15, 30, 45)  # type: ignore[attr-defined]


def test_cron_step_over_a_range() -> None:
    assert parse("0 9-17/4 * * *").hours == (9, 13, 17)  # type: ignore[attr-defined]


def test_cron_step_from_a_start_value() -> None:
    assert parse("5/20 * * * *").minutes == (5, 25, 45)  # type: ignore[attr-defined]


def test_cron_lists_mix_values_and_ranges() -> None:
    assert parse("0 1,3-5,22 * * *").hours == (1, 3, 4, 5, 22)  # type: ignore[attr-defined]


def test_cron_day_of_week_7_is_sunday() -> None:
    assert parse("0 9 * * 7") == parse("0 9 * * 0")


def test_cron_range_ending_on_sunday() -> None:
    assert parse("0 9 * * sat-sun").days_of_week == (0, 6)  # type: ignore[attr-defined]


def test_cron_spaces_around_commas_are_tolerated() -> None:
    assert parse("0 9 * * mon, thu") == parse("0 9 * * 1,4")


def test_steps_exactly_15_minutes_apart_are_allowed() -> None:
    assert parse("0,15,30,45 * * * *") == parse("*/15 * * * *")


def test_same_minutes_late_and_early_on_non_consecutive_days_are_allowed() -> None:
    # 23:55 Monday and 00:05 Tuesday never both fire: only Mondays match.
    assert parse("5,55 0,23 * * 1").kind == "cron"


def test_late_and_early_fires_on_days_that_never_touch_are_allowed() -> None:
    # 1st and 31st of January and March: 31 Jan is followed by 1 Feb (not allowed).
    assert parse("5,55 0,23 1,31 1,3 *").kind == "cron"


def test_kind_names_the_form() -> None:
    assert [parse(t).kind for t in ("daily 07:00", "2026-12-01 09:00", "0 9 * * *")] == [
        "weekly",
        "once",
        "cron",
    ]


# --------------------------------------------------------------------------------------------
# Canonical form
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("MON 9:00", "mon 09:00"),
        ("thursday,monday 18:30", "mon,thu 18:30"),
        ("mon-sun 07:00", "daily 07:00"),
        ("mon-fri 08:00", "weekdays 08:00"),
        ("sat,sun 10:00", "weekends 10:00"),
        ("2026-12-01T09:00", "2026-12-01 09:00"),
        ("0 9 * * mon-fri", "0 9 * * 1-5"),
        ("0,15,30,45 * * * *", "*/15 * * * *"),
        ("0 9 * jan,feb,mar,jul 7", "0 9 * 1-3,7 0"),
        ("30 8 1-31 1-12 0-7", "30 8 * * *"),
        ("0 9 1,15 * *", "0 9 1,15 * *"),
    ],
)
def test_canonical_form(text: str, canonical: str) -> None:
    assert parse(text).canonical() == canonical


@pytest.mark.parametrize(
    "text",
    [
        "mon 09:00",
        "tue,sat 23:59",
        "daily 00:00",
        "2026-12-01 09:00",
        "*/20 6-22 * * *",
        "0 9 1 * mon",
        "0 9 */2 * *",
        "15 7 29 2 *",
    ],
)
def test_canonical_form_parses_back_to_an_equal_value(text: str) -> None:
    recurrence = parse(text)

    assert parse(recurrence.canonical()) == recurrence


def test_str_is_the_canonical_form() -> None:
    assert str(parse("MON,thu 18:30")) == "mon,thu 18:30"


def test_stored_past_one_off_can_be_read_back() -> None:
    assert from_canonical("2020-01-01 09:00") == OneOff(date(2020, 1, 1), 9, 0)


# --------------------------------------------------------------------------------------------
# Refused input
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "whenever",
        "mon",
        "09:00",
        "mon 25:00",
        "mon 24:00",
        "mon 09:60",
        "mon 0900",
        "mon 9",
        "mon 09:00 17:00",
        "funday 09:00",
        "mon,,thu 09:00",
        "mon-09:00",
        "2026-02-30 09:00",
        "2026-13-01 09:00",
        "26-12-01 09:00",
        "1999-12-01 09:00",
        "0 9 30 2 *",  # 30 February
        "0 9 31 4,6,9,11 *",
        "0 9 * * 1; DROP TABLE schedules",
        "mon 09:00'; DROP TABLE schedules; --",
        "' OR 1=1 --",
        "mon \uff10\uff19:\uff10\uff10",  # full-width digits
        "mon \u0660\u0669:\u0660\u0660",  # Arabic-Indic digits
        "mon 0\u00b9:00",  # superscript one
        "m\u00f6n 09:00",
        "0 9 ? * mon",
        "0 9 * * mon#2",
        "0 9 L * *",
        "0 0 9 * * *",
        "0 9 * *",
        "@daily",
        "*/0 * * * *",
        "5-1 * * * *",
        "60 * * * *",
        "0 24 * * *",
        "0 0 0 * *",
        "0 0 32 * *",
        "0 0 * 0 *",
        "0 0 * 13 *",
        "0 0 * * 8",
        "mon * * * *",
        "0 0 * mon *",
        "0 0 * * jan",
        "-1 * * * *",
        "0 9 * * 1-",
        "x" * (MAX_WHEN_LENGTH + 1),
    ],
)
def test_invalid_input_is_refused_with_the_accepted_forms(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse(text)

    assert ACCEPTED_FORMS in caught.value.message


def test_too_long_input_is_refused_even_when_padded() -> None:
    with pytest.raises(InvalidInput, match="too long"):
        parse("mon 09:00" + " " * MAX_WHEN_LENGTH)


def test_date_that_does_not_exist_is_refused() -> None:
    with pytest.raises(InvalidInput, match="does not exist"):
        parse("2027-02-29 09:00")


def test_cron_that_never_fires_is_refused() -> None:
    with pytest.raises(InvalidInput, match="never fires"):
        parse("0 9 30 feb *")


def test_past_one_off_is_refused() -> None:
    with pytest.raises(InvalidInput, match="already passed"):
        parse("2025-12-31 23:59")


def test_one_off_at_this_very_minute_is_refused() -> None:
    with pytest.raises(InvalidInput, match="already passed"):
        parse_when("2026-01-01 00:00", NOW, UTC_Z)


def test_one_off_is_in_the_future_in_the_guild_timezone() -> None:
    # 00:30 on 1 Jan in New York is 05:30 UTC, still ahead of NOW.
    assert parse("2026-01-01 00:30", NEW_YORK).kind == "once"


def test_one_off_more_than_ten_years_ahead_is_refused() -> None:
    with pytest.raises(InvalidInput, match="ten years"):
        parse("2036-06-01 09:00")


@pytest.mark.parametrize(
    "text",
    [
        "*/5 * * * *",
        "0,10 * * * *",
        "*/10 9 * * *",
        "0,50 * * * *",  # 50 → next hour's 00: 10 minutes
        "0-3 9 * * *",
        "5,55 0,23 * * *",  # 23:55 → 00:05 next day
        "5,55 0,23 * * 0,1",  # Sunday 23:55 → Monday 00:05
        "5,55 0,23 1,31 * *",  # 31 Jan → 1 Feb
        "5,55 0,23 28,1 2,3 *",  # 28 Feb → 1 Mar in common years
    ],
)
def test_schedule_firing_more_often_than_every_15_minutes_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match="every 15 minutes"):
        parse(text)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError):
        parse_when("mon 09:00", datetime(2026, 1, 1), UTC_Z)


# --------------------------------------------------------------------------------------------
# Fire times
# --------------------------------------------------------------------------------------------


def test_weekly_fires_on_the_next_matching_day() -> None:
    assert first_fire("mon 09:00", UTC_Z, NOW) == utc(2026, 1, 5, 9)


def test_weekly_fires_later_the_same_day() -> None:
    assert first_fire("thu 18:30", UTC_Z, NOW) == utc(2026, 1, 1, 18, 30)


def test_next_fire_is_strictly_after() -> None:
    assert first_fire("thu 18:30", UTC_Z, utc(2026, 1, 1, 18, 30)) == utc(2026, 1, 8, 18, 30)


def test_times_are_in_the_guild_timezone() -> None:
    assert first_fire("mon 09:00", BERLIN, NOW) == utc(2026, 1, 5, 8)


def test_day_list_fires_on_each_day() -> None:
    assert fires("mon,thu 18:30", UTC_Z, NOW, 3) == [
        utc(2026, 1, 1, 18, 30),
        utc(2026, 1, 5, 18, 30),
        utc(2026, 1, 8, 18, 30),
    ]


def test_weekdays_skip_the_weekend() -> None:
    assert fires("weekdays 08:00", UTC_Z, utc(2026, 1, 2, 9), 1) == [utc(2026, 1, 5, 8)]


def test_one_off_fires_once() -> None:
    recurrence = parse("2026-12-01 09:00")
    fire = recurrence.next_fire(NOW, UTC_Z)

    assert fire == utc(2026, 12, 1, 9)
    assert recurrence.next_fire(fire, UTC_Z) is None


def test_cron_matches_day_of_month_or_day_of_week_when_both_are_given() -> None:
    # 1 Jan 2026 is a Thursday, 5 Jan a Monday.
    assert fires("0 9 1 * mon", UTC_Z, NOW, 2) == [utc(2026, 1, 1, 9), utc(2026, 1, 5, 9)]


def test_cron_day_of_week_alone() -> None:
    assert first_fire("0 9 * * fri", UTC_Z, NOW) == utc(2026, 1, 2, 9)


def test_cron_day_of_month_alone() -> None:
    assert first_fire("0 9 13 * *", UTC_Z, NOW) == utc(2026, 1, 13, 9)


def test_cron_several_times_a_day() -> None:
    assert fires("0 9-17/4 * * *", UTC_Z, NOW, 4) == [
        utc(2026, 1, 1, 9),
        utc(2026, 1, 1, 13),
        utc(2026, 1, 1, 17),
        utc(2026, 1, 2, 9),
    ]


def test_fires_between_excludes_start_and_includes_end() -> None:
    recurrence = parse("daily 09:00")

    assert recurrence.fires_between(utc(2026, 1, 1, 9), utc(2026, 1, 3, 9), UTC_Z) == [
        utc(2026, 1, 2, 9),
        utc(2026, 1, 3, 9),
    ]


def test_fires_between_stops_at_limit() -> None:
    recurrence = parse("*/15 * * * *")

    assert len(recurrence.fires_between(NOW, NOW + timedelta(days=30), UTC_Z, limit=10)) == 10


def test_naive_after_is_refused() -> None:
    with pytest.raises(ValueError):
        parse("daily 09:00").next_fire(datetime(2026, 1, 1), UTC_Z)


# --------------------------------------------------------------------------------------------
# Timezone changes
# --------------------------------------------------------------------------------------------


def test_changing_the_timezone_moves_future_fires() -> None:
    recurrence = parse("mon 09:00", BERLIN)

    assert recurrence.next_fire(NOW, BERLIN) == utc(2026, 1, 5, 8)
    assert recurrence.next_fire(NOW, NEW_YORK) == utc(2026, 1, 5, 14)


def test_one_off_follows_the_timezone_at_computation_time() -> None:
    recurrence = parse("2026-12-01 09:00", BERLIN)

    assert recurrence.next_fire(NOW, ZoneInfo("Asia/Kolkata")) == utc(2026, 12, 1, 3, 30)


# --------------------------------------------------------------------------------------------
# DST: spring-forward gaps (a wall time that does not exist fires at the next valid minute)
# --------------------------------------------------------------------------------------------

BERLIN_SPRING = utc(2026, 3, 28, 12)  # the day before 02:00 CET → 03:00 CEST
NEW_YORK_SPRING = utc(2026, 3, 7, 12)  # the day before 02:00 EST → 03:00 EDT


def test_weekly_in_berlin_gap_fires_at_the_end_of_the_gap() -> None:
    assert first_fire("sun 02:30", BERLIN, BERLIN_SPRING) == utc(2026, 3, 29, 1)  # 03:00 CEST


def test_daily_in_berlin_gap_fires_at_the_end_of_the_gap_then_as_usual() -> None:
    assert fires("daily 02:30", BERLIN, BERLIN_SPRING, 2) == [
        utc(2026, 3, 29, 1),  # 03:00 CEST
        utc(2026, 3, 30, 0, 30),  # 02:30 CEST
    ]


def test_cron_in_berlin_gap_fires_at_the_end_of_the_gap() -> None:
    assert first_fire("30 2 * * *", BERLIN, BERLIN_SPRING) == utc(2026, 3, 29, 1)


def test_one_off_in_berlin_gap_fires_at_the_end_of_the_gap() -> None:
    assert first_fire("2026-03-29 02:30", BERLIN, NOW) == utc(2026, 3, 29, 1)


def test_every_15_minutes_fires_once_for_the_whole_gap() -> None:
    assert fires("*/15 * * * *", BERLIN, utc(2026, 3, 29, 0, 30), 3) == [
        utc(2026, 3, 29, 0, 45),  # 01:45 CET
        utc(2026, 3, 29, 1, 0),  # 03:00 CEST stands for 02:00–02:45 and 03:00
        utc(2026, 3, 29, 1, 15),  # 03:15 CEST
    ]


def test_hourly_at_30_fires_at_the_end_of_the_gap() -> None:
    assert fires("30 * * * *", BERLIN, utc(2026, 3, 29, 0), 3) == [
        utc(2026, 3, 29, 0, 30),  # 01:30 CET
        utc(2026, 3, 29, 1, 0),  # 03:00 CEST for 02:30
        utc(2026, 3, 29, 1, 30),  # 03:30 CEST
    ]


def test_gap_fire_within_15_minutes_of_the_previous_fire_is_skipped() -> None:
    # 02:50 would move to 03:00 CEST, ten minutes after 01:50 CET: it is skipped.
    assert fires("50 * * * *", BERLIN, utc(2026, 3, 29, 0), 2) == [
        utc(2026, 3, 29, 0, 50),  # 01:50 CET
        utc(2026, 3, 29, 1, 50),  # 03:50 CEST
    ]


def test_regular_fire_squeezed_by_the_gap_is_skipped() -> None:
    # 01:55 CET and 03:05 CEST are only ten minutes apart in real time.
    assert fires("5,55 1,3 * * *", BERLIN, utc(2026, 3, 29, 0), 3) == [
        utc(2026, 3, 29, 0, 5),  # 01:05 CET
        utc(2026, 3, 29, 0, 55),  # 01:55 CET
        utc(2026, 3, 29, 1, 55),  # 03:55 CEST
    ]


def test_daily_in_new_york_gap_fires_at_the_end_of_the_gap() -> None:
    assert first_fire("daily 02:30", NEW_YORK, NEW_YORK_SPRING) == utc(2026, 3, 8, 7)  # 03:00


def test_weekly_in_new_york_gap_fires_at_the_end_of_the_gap() -> None:
    assert first_fire("sun 02:00", NEW_YORK, NEW_YORK_SPRING) == utc(2026, 3, 8, 7)


def test_cron_in_new_york_gap_fires_at_the_end_of_the_gap() -> None:
    assert first_fire("0 2 * * *", NEW_YORK, NEW_YORK_SPRING) == utc(2026, 3, 8, 7)


# --------------------------------------------------------------------------------------------
# DST: fall-back folds (an ambiguous wall time fires once, at its first occurrence)
# --------------------------------------------------------------------------------------------

BERLIN_AUTUMN = utc(2026, 10, 24, 12)  # the day before 03:00 CEST → 02:00 CET
NEW_YORK_AUTUMN = utc(2026, 10, 31, 12)  # the day before 02:00 EDT → 01:00 EST


def test_daily_in_berlin_fold_fires_once_at_the_first_occurrence() -> None:
    assert fires("daily 02:30", BERLIN, BERLIN_AUTUMN, 2) == [
        utc(2026, 10, 25, 0, 30),  # 02:30 CEST
        utc(2026, 10, 26, 1, 30),  # 02:30 CET the next day
    ]


def test_weekly_in_berlin_fold_fires_at_the_first_occurrence() -> None:
    assert first_fire("sun 02:30", BERLIN, BERLIN_AUTUMN) == utc(2026, 10, 25, 0, 30)


def test_one_off_in_berlin_fold_fires_at_the_first_occurrence() -> None:
    assert first_fire("2026-10-25 02:30", BERLIN, NOW) == utc(2026, 10, 25, 0, 30)


def test_every_15_minutes_does_not_repeat_the_repeated_hour() -> None:
    assert fires("*/15 * * * *", BERLIN, utc(2026, 10, 25, 0, 30), 3) == [
        utc(2026, 10, 25, 0, 45),  # 02:45 CEST
        utc(2026, 10, 25, 2, 0),  # 03:00 CET: the second 02:00–02:45 are not fired again
        utc(2026, 10, 25, 2, 15),
    ]


def test_hourly_does_not_repeat_the_repeated_hour() -> None:
    assert fires("0 * * * *", BERLIN, utc(2026, 10, 24, 23, 30), 2) == [
        utc(2026, 10, 25, 0, 0),  # 02:00 CEST
        utc(2026, 10, 25, 2, 0),  # 03:00 CET
    ]


def test_asking_from_inside_the_repeated_hour_does_not_refire() -> None:
    # 01:20 UTC is 02:20 CET, the second pass: 02:30 and 02:45 already fired in summer time.
    assert first_fire("*/15 * * * *", BERLIN, utc(2026, 10, 25, 1, 20)) == utc(2026, 10, 25, 2)


def test_daily_in_new_york_fold_fires_once_at_the_first_occurrence() -> None:
    assert fires("daily 01:30", NEW_YORK, NEW_YORK_AUTUMN, 2) == [
        utc(2026, 11, 1, 5, 30),  # 01:30 EDT
        utc(2026, 11, 2, 6, 30),  # 01:30 EST the next day
    ]


def test_weekly_in_new_york_fold_fires_at_the_first_occurrence() -> None:
    assert first_fire("sun 01:00", NEW_YORK, NEW_YORK_AUTUMN) == utc(2026, 11, 1, 5)


def test_cron_every_30_minutes_in_new_york_fold_fires_each_wall_time_once() -> None:
    assert fires("*/30 * * * *", NEW_YORK, utc(2026, 11, 1, 4, 45), 3) == [
        utc(2026, 11, 1, 5, 0),  # 01:00 EDT
        utc(2026, 11, 1, 5, 30),  # 01:30 EDT
        utc(2026, 11, 1, 7, 0),  # 02:00 EST
    ]


# --------------------------------------------------------------------------------------------
# Year boundaries and leap days
# --------------------------------------------------------------------------------------------


def test_daily_crosses_the_new_year() -> None:
    assert first_fire("daily 00:00", UTC_Z, utc(2026, 12, 31, 12)) == utc(2027, 1, 1)


def test_weekly_crosses_the_new_year() -> None:
    assert first_fire("thu 09:00", UTC_Z, utc(2026, 12, 31, 10)) == utc(2027, 1, 7, 9)


def test_yearly_cron_fires_on_new_year() -> None:
    assert first_fire("0 0 1 1 *", UTC_Z, NOW) == utc(2027, 1, 1)


def test_new_year_far_east_is_the_previous_day_in_utc() -> None:
    kiritimati = ZoneInfo("Pacific/Kiritimati")  # +14

    assert first_fire("0 0 1 1 *", kiritimati, NOW) == utc(2026, 12, 31, 10)


def test_cron_on_29_february_fires_in_leap_years_only() -> None:
    assert fires("0 9 29 2 *", UTC_Z, NOW, 2) == [utc(2028, 2, 29, 9), utc(2032, 2, 29, 9)]


def test_cron_on_the_29th_skips_february_in_common_years() -> None:
    assert first_fire("0 9 29 * *", UTC_Z, utc(2027, 2, 1)) == utc(2027, 3, 29, 9)


def test_one_off_on_29_february() -> None:
    assert first_fire("2028-02-29 09:00", UTC_Z, NOW) == utc(2028, 2, 29, 9)


# --------------------------------------------------------------------------------------------
# Descriptions
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "description"),
    [
        ("mon,thu 18:30", "Mondays and Thursdays at 18:30"),
        ("mon,wed,fri 09:00", "Mondays, Wednesdays and Fridays at 09:00"),
        ("sun 10:00", "Sundays at 10:00"),
        ("daily 07:00", "Every day at 07:00"),
        ("weekdays 08:00", "Weekdays at 08:00"),
        ("weekends 10:00", "Weekends at 10:00"),
        ("2026-12-01 09:00", "Once, on Tue 1 Dec 2026 at 09:00"),
        ("*/15 * * * *", "Every 15 minutes, every day"),
        ("30 * * * *", "Every hour at :30, every day"),
        ("0 9 * * 1-5", "At 09:00, on weekdays"),
        ("0 9,17 * * sat,sun", "At 09:00 and 17:00, on weekends"),
        ("0 9 1 * mon", "At 09:00, on day 1 of the month or on Mondays"),
        ("0 9 * jan,jul *", "At 09:00, every day in January and July"),
    ],
)
def test_describe(text: str, description: str) -> None:
    assert parse(text).describe() == description
