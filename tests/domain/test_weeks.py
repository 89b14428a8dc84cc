"""Study weeks, local days, streaks and timezone names."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.weeks import (
    COMMON_TIMEZONES,
    MAX_CHOICES,
    StudyWeek,
    day_start_utc,
    member_local_day,
    parse_timezone,
    parse_weekday,
    streak,
    timezone_choices,
    wall_time_to_utc,
    week_containing,
    week_of,
    weekday_name,
)
from bot.errors import InvalidInput

UTC_Z = ZoneInfo("UTC")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")
CHATHAM = ZoneInfo("Pacific/Chatham")
KIRITIMATI = ZoneInfo("Pacific/Kiritimati")
ZONES = [UTC_Z, BERLIN, NEW_YORK, KOLKATA, CHATHAM, KIRITIMATI]
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# --------------------------------------------------------------------------------------------
# Week boundaries
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "expected_start_utc"),
    [
        (UTC_Z, utc(2026, 3, 2)),
        (BERLIN, utc(2026, 3, 1, 23)),  # CET +1
        (NEW_YORK, utc(2026, 3, 2, 5)),  # EST -5
        (KOLKATA, utc(2026, 3, 1, 18, 30)),  # +5:30
        (CHATHAM, utc(2026, 3, 1, 10, 15)),  # +13:45 (southern summer)
        (KIRITIMATI, utc(2026, 3, 1, 10)),  # +14
    ],
)
def test_week_starts_at_local_midnight_of_week_start_day(
    tz: ZoneInfo, expected_start_utc: datetime
) -> None:
    week = week_containing(utc(2026, 3, 4, 12), tz, MON)

    assert week.start_date == date(2026, 3, 2)
    assert week.start_utc == expected_start_utc
    assert week.start_utc.astimezone(tz).time() == time(0, 0)


@pytest.mark.parametrize("tz", ZONES, ids=str)
def test_instant_of_local_midnight_belongs_to_the_new_week(tz: ZoneInfo) -> None:
    start = week_of(date(2026, 6, 1), tz, MON).start_utc

    assert week_containing(start, tz, MON).start_date == date(2026, 6, 1)


@pytest.mark.parametrize("tz", ZONES, ids=str)
def test_instant_before_local_midnight_belongs_to_the_previous_week(tz: ZoneInfo) -> None:
    start = week_of(date(2026, 6, 1), tz, MON).start_utc

    assert week_containing(start - timedelta(microseconds=1), tz, MON).start_date == date(
        2026, 5, 25
    )


def test_same_instant_falls_in_different_weeks_by_timezone() -> None:
    moment = utc(2026, 3, 1, 20)  # Sunday 20:00 UTC = Monday 09:45 in Chatham

    assert week_containing(moment, UTC_Z, MON).start_date == date(2026, 2, 23)
    assert week_containing(moment, CHATHAM, MON).start_date == date(2026, 3, 2)


@pytest.mark.parametrize(
    ("week_start", "expected"),
    [
        (MON, date(2026, 3, 2)),
        (WED, date(2026, 3, 4)),
        (THU, date(2026, 2, 26)),
        (SAT, date(2026, 2, 28)),
        (SUN, date(2026, 3, 1)),
    ],
)
def test_week_start_day_decides_the_start_date(week_start: int, expected: date) -> None:
    week = week_containing(utc(2026, 3, 4, 12), UTC_Z, week_start)  # a Wednesday

    assert week.start_date == expected
    assert week.week_start == week_start


def test_changing_week_start_changes_the_week_of_the_same_instant() -> None:
    moment = utc(2026, 3, 7, 12)  # Saturday

    assert week_containing(moment, BERLIN, MON).key == date(2026, 3, 2)
    assert week_containing(moment, BERLIN, SAT).key == date(2026, 3, 7)


def test_week_normally_lasts_seven_days() -> None:
    assert week_of(date(2026, 6, 1), BERLIN).duration == timedelta(days=7)


@pytest.mark.parametrize(
    ("tz", "week_start_date", "hours"),
    [
        (BERLIN, date(2026, 3, 23), 167),  # spring forward Sun 29 Mar
        (BERLIN, date(2026, 10, 19), 169),  # fall back Sun 25 Oct
        (NEW_YORK, date(2026, 3, 2), 167),  # spring forward Sun 8 Mar
        (NEW_YORK, date(2026, 10, 26), 169),  # fall back Sun 1 Nov
        (CHATHAM, date(2026, 3, 30), 169),  # fall back Sun 5 Apr (+13:45 → +12:45)
    ],
)
def test_week_containing_dst_change_is_one_hour_shorter_or_longer(
    tz: ZoneInfo, week_start_date: date, hours: int
) -> None:
    week = week_of(week_start_date, tz, MON)

    assert week.duration == timedelta(hours=hours)
    assert week.end_utc.astimezone(tz).time() == time(0, 0)


def test_week_starting_on_dst_day_still_starts_at_local_midnight() -> None:
    week = week_of(date(2026, 3, 29), BERLIN, SUN)  # the spring-forward Sunday

    assert week.start_utc == utc(2026, 3, 28, 23)
    assert week.end_utc == utc(2026, 4, 4, 22)


def test_existing_wall_time_maps_to_its_instant() -> None:
    assert wall_time_to_utc(datetime(2026, 7, 1, 9, 0, tzinfo=BERLIN)) == utc(2026, 7, 1, 7)


def test_wall_time_in_a_gap_maps_to_the_end_of_the_gap() -> None:
    assert wall_time_to_utc(datetime(2026, 3, 29, 2, 30, tzinfo=BERLIN)) == utc(2026, 3, 29, 1)


def test_ambiguous_wall_time_maps_to_its_first_occurrence_whatever_the_fold() -> None:
    second = datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=BERLIN)

    assert wall_time_to_utc(second) == utc(2026, 10, 25, 0, 30)


def test_naive_wall_time_is_refused() -> None:
    with pytest.raises(ValueError):
        wall_time_to_utc(datetime(2026, 7, 1, 9, 0))


def test_day_starting_in_a_midnight_gap_starts_at_the_end_of_the_gap() -> None:
    # America/Santiago springs forward at 00:00 → 01:00 on 6 Sep 2026.
    santiago = ZoneInfo("America/Santiago")

    start = day_start_utc(date(2026, 9, 6), santiago)

    assert start == utc(2026, 9, 6, 4)
    assert start.astimezone(santiago).time() == time(1, 0)


def test_day_with_ambiguous_midnight_starts_at_its_first_occurrence() -> None:
    # America/Havana falls back 01:00 → 00:00 on 1 Nov 2026, so 00:00 happens twice.
    assert day_start_utc(date(2026, 11, 1), ZoneInfo("America/Havana")) == utc(2026, 11, 1, 4)


def test_skipped_calendar_day_has_no_length() -> None:
    # Samoa skipped Friday 30 Dec 2011 entirely.
    apia = ZoneInfo("Pacific/Apia")

    assert day_start_utc(date(2011, 12, 30), apia) == day_start_utc(date(2011, 12, 31), apia)


def test_repeated_hour_before_midnight_stays_in_the_old_week() -> None:
    # America/Santiago falls back 24:00 → 23:00 into Sunday 5 Apr 2026: Saturday 23:00–24:00
    # happens twice, and the Sunday week begins at the second midnight.
    santiago = ZoneInfo("America/Santiago")
    moment = utc(2026, 4, 5, 3, 30)  # the second Saturday 23:30

    week = week_containing(moment, santiago, SUN)

    assert week.key == date(2026, 3, 29)
    assert week.end_utc == utc(2026, 4, 5, 4)
    assert week.duration == timedelta(hours=169)


# --------------------------------------------------------------------------------------------
# Year boundaries and leap days
# --------------------------------------------------------------------------------------------


def test_week_spans_new_year() -> None:
    week = week_containing(utc(2026, 1, 1, 12), BERLIN, MON)

    assert week.start_date == date(2025, 12, 29)
    assert week.end_date == date(2026, 1, 4)


def test_iso_week_53_is_one_study_week() -> None:
    # 2026 has an ISO week 53: Mon 28 Dec 2026 – Sun 3 Jan 2027.
    week = week_containing(utc(2027, 1, 2, 12), UTC_Z, MON)

    assert week.start_date == date(2026, 12, 28)
    assert week.start_date.isocalendar()[1] == 53
    assert week.next().start_date == date(2027, 1, 4)


@pytest.mark.parametrize(
    ("week_start", "expected"), [(SUN, date(2025, 12, 28)), (SAT, date(2025, 12, 27))]
)
def test_weekend_week_starts_span_new_year(week_start: int, expected: date) -> None:
    assert week_containing(utc(2026, 1, 2, 12), NEW_YORK, week_start).start_date == expected


def test_week_containing_29_february() -> None:
    week = week_containing(utc(2028, 2, 29, 12), UTC_Z, MON)

    assert week.start_date == date(2028, 2, 28)
    assert date(2028, 2, 29) in week.days()
    assert week.next().start_date == date(2028, 3, 6)


# --------------------------------------------------------------------------------------------
# StudyWeek
# --------------------------------------------------------------------------------------------


def test_next_week_starts_where_this_one_ends() -> None:
    week = week_of(date(2026, 10, 19), BERLIN)

    assert week.next().start_utc == week.end_utc


def test_previous_undoes_next() -> None:
    week = week_of(date(2026, 3, 23), NEW_YORK)

    assert week.next().previous() == week


def test_key_is_local_start_date() -> None:
    assert week_of(date(2026, 3, 2), KOLKATA).key == date(2026, 3, 2)


def test_week_of_a_mid_week_date_is_the_week_containing_it() -> None:
    assert week_of(date(2026, 3, 5), UTC_Z, MON).start_date == date(2026, 3, 2)


def test_label_shows_day_and_month() -> None:
    assert week_of(date(2026, 3, 2), UTC_Z).label() == "Week of 2 Mar"


def test_label_with_year() -> None:
    assert week_of(date(2026, 3, 2), UTC_Z).label(with_year=True) == "Week of 2 Mar 2026"


def test_contains_includes_start_and_excludes_end() -> None:
    week = week_of(date(2026, 3, 2), BERLIN)

    assert week.contains(week.start_utc)
    assert not week.contains(week.end_utc)


def test_weeks_are_equal_by_start_date_and_zone() -> None:
    assert StudyWeek(date(2026, 3, 2), BERLIN) == week_of(date(2026, 3, 4), BERLIN)


@pytest.mark.parametrize("week_start", [-1, 7])
def test_week_start_out_of_range_is_refused(week_start: int) -> None:
    with pytest.raises(ValueError):
        week_of(date(2026, 3, 2), UTC_Z, week_start)


def test_naive_moment_is_refused() -> None:
    with pytest.raises(ValueError):
        week_containing(datetime(2026, 3, 2), UTC_Z)


@given(
    moment=st.datetimes(
        min_value=datetime(1990, 1, 1),
        max_value=datetime(2100, 1, 1),
        timezones=st.just(UTC),
    ),
    tz=st.sampled_from([*ZONES, ZoneInfo("America/Santiago"), ZoneInfo("Australia/Lord_Howe")]),
    week_start=st.integers(0, 6),
)
def test_week_containing_always_contains_the_moment(
    moment: datetime, tz: ZoneInfo, week_start: int
) -> None:
    week = week_containing(moment, tz, week_start)

    assert week.contains(moment)
    assert week.start_date.weekday() == week_start


# --------------------------------------------------------------------------------------------
# Member's local day
# --------------------------------------------------------------------------------------------


def test_member_timezone_decides_the_check_in_day() -> None:
    moment = utc(2026, 3, 2, 23, 30)  # Monday 23:30 UTC

    assert member_local_day(moment, BERLIN, NEW_YORK) == date(2026, 3, 3)


def test_guild_timezone_applies_without_a_member_timezone() -> None:
    moment = utc(2026, 3, 2, 23, 30)

    assert member_local_day(moment, None, NEW_YORK) == date(2026, 3, 2)


# --------------------------------------------------------------------------------------------
# Streaks
# --------------------------------------------------------------------------------------------

THIS_WEEK = week_of(date(2026, 3, 9), UTC_Z, MON)
W0, W1, W2, W3 = (date(2026, 3, 9) - timedelta(weeks=n) for n in range(4))


def test_streak_without_check_ins_is_zero() -> None:
    assert streak([], THIS_WEEK) == 0


def test_streak_counts_this_week() -> None:
    assert streak([W0], THIS_WEEK) == 1


def test_streak_counts_consecutive_weeks() -> None:
    assert streak([W0, W1, W2], THIS_WEEK) == 3


def test_streak_with_empty_current_week_counts_from_last_week() -> None:
    assert streak([W1, W2], THIS_WEEK) == 2


def test_streak_with_only_older_weeks_is_zero() -> None:
    assert streak([W2, W3], THIS_WEEK) == 0


def test_streak_stops_at_a_gap() -> None:
    assert streak([W0, W1, W3], THIS_WEEK) == 2


def test_streak_ignores_duplicates() -> None:
    assert streak([W0, W0, W1, W1], THIS_WEEK) == 2


def test_streak_ignores_future_weeks() -> None:
    assert streak([W0 + timedelta(weeks=1), W0], THIS_WEEK) == 1


def test_streak_accepts_any_day_of_the_week_as_key() -> None:
    assert streak([W0 + timedelta(days=3), W1 + timedelta(days=6)], THIS_WEEK) == 2


def test_streak_survives_a_week_start_change() -> None:
    # Check-ins filed under Monday weeks; the guild now starts weeks on Sunday.
    sunday_week = week_of(date(2026, 3, 8), UTC_Z, SUN)

    assert streak([W0, W1, W2], sunday_week) == 3


# --------------------------------------------------------------------------------------------
# Weekday names
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["mon", "Monday", "MONDAYS", " mon "])
def test_parse_weekday_accepts_names(text: str) -> None:
    assert parse_weekday(text) == MON


@pytest.mark.parametrize("text", ["", "mo", "funday", "1", "m\u00f6n"])
def test_parse_weekday_refuses_other_text(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_weekday(text)


def test_weekday_name() -> None:
    assert weekday_name(SUN) == "Sunday"


# --------------------------------------------------------------------------------------------
# Timezone names
# --------------------------------------------------------------------------------------------


def test_parse_timezone_returns_zone() -> None:
    assert parse_timezone("Europe/Berlin") == ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize("text", ["europe/berlin", "EUROPE/BERLIN", "  Europe/Berlin  "])
def test_parse_timezone_ignores_case_and_outer_spaces(text: str) -> None:
    assert parse_timezone(text).key == "Europe/Berlin"


def test_parse_timezone_accepts_spaces_for_underscores() -> None:
    assert parse_timezone("america/new york").key == "America/New_York"


def test_parse_timezone_accepts_utc() -> None:
    assert parse_timezone("utc").key == "UTC"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "Mars/Olympus_Mons",
        "../../etc/passwd",
        "/etc/localtime",
        "Europe/../Europe/Berlin",
        "localtime",
        "Factory",
        "Europe/Berl\u00edn",
        "Europe/Berlin\x00",
        "Europe/Berlin; DROP TABLE guilds",
        "x" * 65,
    ],
)
def test_parse_timezone_refuses_invalid_names(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_timezone(text)


def test_parse_timezone_suggests_close_names() -> None:
    with pytest.raises(InvalidInput, match="Did you mean Europe/Berlin"):
        parse_timezone("Berlin")


def test_timezone_choices_are_at_most_25() -> None:
    assert len(timezone_choices("a")) == MAX_CHOICES


def test_timezone_choices_respect_a_smaller_limit() -> None:
    assert len(timezone_choices("a", limit=5)) == 5


def test_timezone_choices_never_exceed_25_even_when_asked() -> None:
    assert len(timezone_choices("a", limit=100)) == MAX_CHOICES


def test_timezone_choices_with_nothing_typed_are_common_zones() -> None:
    choices = timezone_choices("")

    assert choices[0] == "UTC"
    assert choices == list(COMMON_TIMEZONES)


def test_common_timezones_are_valid_names() -> None:
    assert set(COMMON_TIMEZONES) <= available_timezones()


def test_timezone_choices_rank_exact_name_first() -> None:
    assert timezone_choices("utc")[0] == "UTC"


def test_timezone_choices_rank_name_prefix_before_city_prefix() -> None:
    choices = timezone_choices("indian")
    indian = [i for i, name in enumerate(choices) if name.startswith("Indian/")]
    indiana = [i for i, name in enumerate(choices) if name.startswith("America/Indiana/")]

    assert indian and indiana
    assert max(indian) < min(indiana)


def test_timezone_choices_match_the_city_part() -> None:
    assert timezone_choices("berl") == ["Europe/Berlin"]


def test_timezone_choices_match_a_word_inside_the_city() -> None:
    assert timezone_choices("york")[0] == "America/New_York"


def test_timezone_choices_rank_prefix_before_substring() -> None:
    choices = timezone_choices("lin")

    assert choices.index("Australia/Lindeman") < choices.index("Europe/Berlin")


def test_timezone_choices_rank_canonical_names_before_aliases() -> None:
    choices = timezone_choices("pacific")

    assert choices[0].startswith("Pacific/")
    assert "US/Pacific" not in choices[:10]


def test_timezone_choices_without_match_are_empty() -> None:
    assert timezone_choices("zzzz") == []


@pytest.mark.parametrize("typed", ["ß", "東京", "🙂", "\x00", "x" * 1000])
def test_timezone_choices_handle_odd_input(typed: str) -> None:
    assert timezone_choices(typed) == []


@given(st.text(max_size=80))
def test_timezone_choices_fuzz_returns_valid_names_within_limit(typed: str) -> None:
    choices = timezone_choices(typed)

    assert len(choices) <= MAX_CHOICES
    assert set(choices) <= available_timezones()
