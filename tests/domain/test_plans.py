"""Course plan maths: pace needed and kept, projected finish, on track, away, the week's share."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.plans import (
    Assessment,
    AwaySpan,
    Module,
    add_months,
    assess,
    away_shift,
    away_weeks,
    on_track,
    pace_kept,
    pace_needed,
    pace_weeks,
    parse_target,
    plan_terms,
    projected_finish,
    shifted_target,
    week_hours,
    week_share,
)
from bot.domain.weeks import StudyWeek, streak, week_of
from bot.errors import InvalidInput

TODAY = date(2026, 11, 18)
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
MODULES = [Module(1, "Intro", 18), Module(2, "Python", 30), Module(3, "Git", 16)]

hours = st.floats(min_value=0.5, max_value=500, allow_nan=False)
modules_st = st.lists(hours, min_size=1, max_size=30).map(
    lambda hs: [Module(i + 1, f"m{i}", h) for i, h in enumerate(hs)]
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def assessed(done: set[int], kept: float | None, **kw: object) -> Assessment:
    args: dict[object, object] = {
        "start": TODAY - timedelta(weeks=4),
        "target": TODAY + timedelta(weeks=8),
        "today": TODAY,
        "shift": timedelta(0),
        "kept": kept,
    }
    args.update(kw)
    return assess(MODULES, done, **args)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- targets


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2027-06-30", date(2027, 6, 30)),
        (" 26 weeks ", TODAY + timedelta(weeks=26)),
        ("6 months", date(2027, 5, 18)),
        ("1 month", date(2026, 12, 18)),
        ("90 days", TODAY + timedelta(days=90)),
        ("2 years", date(2028, 11, 18)),
        ("1 WEEK", TODAY + timedelta(weeks=1)),
    ],
)
def test_targets_people_type(text: str, expected: date) -> None:
    assert parse_target(text, TODAY) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("2026-11-18", "not in the future"),
        ("2020-01-01", "not in the future"),
        ("2032-01-01", "more than 5 years"),
        ("61 months", "more than 5 years"),
        ("999 years", "more than 5 years"),
        ("2027-02-30", "not a calendar date"),
        ("soon", "2027-06-30"),
        ("", "2027-06-30"),
        ("２６ weeks", "2027-06-30"),
        ("0 weeks", "not in the future"),
    ],
)
def test_bad_targets_say_why(text: str, words: str) -> None:
    with pytest.raises(InvalidInput, match=words):
        parse_target(text, TODAY)


def test_month_arithmetic_clamps_to_the_month_end() -> None:
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2026, 12, 15), 1) == date(2027, 1, 15)


def test_terms_derive_the_missing_half() -> None:
    target, weekly = plan_terms(60, TODAY, None, 6)
    assert (target, weekly) == (TODAY + timedelta(weeks=10), 6)
    target, weekly = plan_terms(60, TODAY, TODAY + timedelta(weeks=12), None)
    assert weekly == pytest.approx(5)
    with pytest.raises(InvalidInput, match="target"):
        plan_terms(60, TODAY, None, None)


def test_a_target_needing_more_than_60_hours_a_week_says_the_pace() -> None:
    with pytest.raises(InvalidInput, match=r"194\.0 h a week"):
        plan_terms(194, TODAY, TODAY + timedelta(weeks=1), None)
    with pytest.raises(InvalidInput, match="at most 60"):
        plan_terms(194, TODAY, None, 61)
    with pytest.raises(InvalidInput, match="more than 0"):
        plan_terms(194, TODAY, None, 0)


# --------------------------------------------------------------------------- pace


def test_pace_needed_is_hours_left_over_weeks_to_target() -> None:
    assert pace_needed(70, TODAY, TODAY + timedelta(days=70)) == pytest.approx(7)
    assert pace_needed(0, TODAY, TODAY + timedelta(days=7)) == 0
    # At or past the target everything left is due now.
    assert pace_needed(10, TODAY, TODAY) == pytest.approx(70)


def test_pace_is_kept_over_the_last_four_finished_weeks_not_away() -> None:
    week = date(2026, 11, 16)
    weeks = [week - timedelta(weeks=n) for n in range(1, 8)]
    away = {weeks[1]}
    chosen = pace_weeks(weeks[-1], week, away)
    assert chosen == [weeks[0], weeks[2], weeks[3], weeks[4]]
    hours = {weeks[0]: 8.0, weeks[1]: 0.0, weeks[2]: 4.0}
    assert pace_kept(hours, chosen) == pytest.approx(3.0)


def test_a_young_plan_keeps_pace_over_fewer_weeks() -> None:
    week = date(2026, 11, 16)
    assert pace_weeks(week - timedelta(weeks=2), week, set()) == [
        week - timedelta(weeks=1),
        week - timedelta(weeks=2),
    ]
    # Started this week: the current week alone.
    assert pace_weeks(week, week, set()) == [week]
    assert pace_kept({week: 3.0}, [week]) == 3.0
    assert pace_kept({}, []) is None


def test_projected_finish_and_on_track_rule() -> None:
    assert projected_finish(TODAY, 14, 7) == TODAY + timedelta(days=14)
    assert projected_finish(TODAY, 0, None) == TODAY
    assert projected_finish(TODAY, 10, 0) is None
    assert projected_finish(TODAY, 10, None) is None
    assert on_track(9, 10) and not on_track(8.9, 10)
    assert on_track(None, 0) and not on_track(None, 1)


def test_assessment_says_how_far_ahead_or_behind() -> None:
    # Halfway through a 12-week plan of 64 h with nothing done: 21.3 h and 4 weeks behind.
    behind = assessed(set(), kept=2.0)
    assert behind.ahead_hours == pytest.approx(-64 / 3)
    assert behind.ahead_weeks == pytest.approx(-4)
    assert behind.pace_needed == pytest.approx(8)
    assert not behind.on_track and behind.projected == TODAY + timedelta(weeks=32)
    ahead = assessed({1, 2}, kept=4.0)
    assert ahead.hours_left == 16 and ahead.ahead_hours > 0 and ahead.on_track
    done = assessed({1, 2, 3}, kept=None)
    assert done.finished and done.projected == TODAY and done.on_track


# --------------------------------------------------------------------------- away


def test_away_moves_the_target_by_the_same_weeks() -> None:
    start = utc(2026, 11, 1)
    spans = [AwaySpan(utc(2026, 11, 18, 12), utc(2026, 12, 9, 12))]
    shift = away_shift(spans, start)
    assert shift == timedelta(weeks=3)
    moved = assessed(set(), kept=None, shift=shift)
    assert moved.target == TODAY + timedelta(weeks=11) and moved.shift_days == 21
    # Time away before the plan started does not count.
    assert away_shift([AwaySpan(utc(2026, 10, 1), utc(2026, 10, 8))], start) == timedelta(0)
    assert shifted_target(TODAY, timedelta(hours=1)) == TODAY + timedelta(days=1)


@pytest.mark.parametrize("week_start", range(7))
def test_a_week_counts_as_away_when_half_of_it_was(week_start: int) -> None:
    week = week_of(TODAY, BERLIN, week_start)
    half = week.start_utc + week.duration / 2
    assert away_weeks([AwaySpan(week.start_utc, half)], [week]) == {week.key}
    just_less = half - timedelta(minutes=1)
    assert away_weeks([AwaySpan(week.start_utc, just_less)], [week]) == set()


@pytest.mark.parametrize("zone", [BERLIN, NEW_YORK])
def test_away_weeks_use_the_real_length_of_dst_weeks(zone: ZoneInfo) -> None:
    # The weeks containing the autumn change last 169 hours: 84 h away is less than half.
    week = week_of(date(2026, 10, 26) if zone is BERLIN else date(2026, 11, 2), zone)
    week = week.previous()
    assert week.duration == timedelta(hours=169)
    assert (
        away_weeks([AwaySpan(week.start_utc, week.start_utc + timedelta(hours=84))], [week])
        == set()
    )
    assert away_weeks(
        [AwaySpan(week.start_utc, week.start_utc + timedelta(hours=84, minutes=30))], [week]
    ) == {week.key}


@pytest.mark.parametrize("week_start", range(7))
def test_away_weeks_do_not_break_a_streak(week_start: int) -> None:
    current = week_of(TODAY, UTC, week_start)
    keys = [current.key - timedelta(weeks=n) for n in (1, 4, 5)]
    away = [current.key - timedelta(weeks=n) for n in (2, 3)]
    assert streak(keys, current) == 1
    assert streak(keys, current, away) == 3
    # An away week with a check-in still counts.
    assert streak([*keys, away[0]], current, away) == 4


# --------------------------------------------------------------------------- the week's share


def test_the_weeks_share_walks_the_unfinished_modules_in_order() -> None:
    shares = week_share(MODULES[1:], 34)
    assert [(s.module.title, s.hours) for s in shares] == [("Python", 30), ("Git", 4)]
    assert week_share(MODULES, 0) == []
    small = week_share(MODULES, 0.3)
    assert [(s.module.id, s.hours) for s in small] == [(1, 0.5)]


def test_the_weeks_hours_are_the_pace_needed_capped_by_what_is_left() -> None:
    assert week_hours(assessed(set(), kept=None)) == pytest.approx(8)
    nearly = assessed({1, 2}, kept=None, target=TODAY + timedelta(days=1))
    assert week_hours(nearly) == 16
    overdue = assessed(set(), kept=None, target=TODAY - timedelta(weeks=1))
    assert week_hours(overdue) == 60


# --------------------------------------------------------------------------- properties


@given(modules_st, st.data())
def test_finishing_a_module_never_moves_the_projected_finish_later(
    modules: list[Module], data: st.DataObject
) -> None:
    done = data.draw(st.sets(st.sampled_from([m.id for m in modules])))
    extra = data.draw(st.sampled_from([m.id for m in modules]))
    kept = data.draw(st.floats(min_value=0.1, max_value=60))
    kw = {
        "start": TODAY,
        "target": TODAY + timedelta(weeks=30),
        "today": TODAY,
        "shift": timedelta(0),
        "kept": kept,
    }
    before = assess(modules, done, **kw)  # type: ignore[arg-type]
    after = assess(modules, done | {extra}, **kw)  # type: ignore[arg-type]
    # None: too far to show (later than any date).
    if after.projected is None:
        assert before.projected is None
    elif before.projected is not None:
        assert after.projected <= before.projected
    assert after.hours_left <= before.hours_left
    assert after.pace_needed <= before.pace_needed + 1e-9


@given(modules_st, st.data())
def test_hours_left_are_never_negative(modules: list[Module], data: st.DataObject) -> None:
    done = data.draw(st.sets(st.integers(min_value=-5, max_value=40)))
    today = TODAY + timedelta(days=data.draw(st.integers(min_value=-400, max_value=4000)))
    result = assess(
        modules,
        done,
        start=TODAY,
        target=TODAY + timedelta(days=1),
        today=today,
        shift=timedelta(0),
        kept=data.draw(st.none() | st.floats(min_value=0, max_value=100)),
    )
    assert result.hours_left >= 0 and result.pace_needed >= 0
    assert result.done_hours + result.hours_left == pytest.approx(result.total_hours)


@given(modules_st, st.floats(min_value=0, max_value=200))
def test_the_weeks_share_never_exceeds_a_module_or_the_week(
    modules: list[Module], budget: float
) -> None:
    shares = week_share(modules, budget)
    assert len({s.module.id for s in shares}) == len(shares)
    for share in shares:
        assert 0.5 <= share.hours <= max(share.module.hours, 0.5)
    assert sum(s.hours for s in shares) <= budget + 0.25 * len(shares) + 0.5


@given(st.integers(min_value=1, max_value=12), st.integers(min_value=0, max_value=6))
def test_away_for_n_weeks_moves_the_target_by_n_weeks(weeks: int, weekday: int) -> None:
    start = utc(2026, 3, 2) + timedelta(days=weekday)
    spans = [AwaySpan(start + timedelta(days=10), start + timedelta(days=10, weeks=weeks))]
    target = date(2027, 1, 1)
    assert shifted_target(target, away_shift(spans, start)) == target + timedelta(weeks=weeks)


@given(st.integers(min_value=0, max_value=400), st.integers(min_value=1, max_value=400))
def test_planned_line_and_pace_needed_stay_finite(days_in: int, length: int) -> None:
    start = TODAY - timedelta(days=days_in)
    result = assess(
        MODULES,
        set(),
        start=start,
        target=start + timedelta(days=length),
        today=TODAY,
        shift=timedelta(0),
        kept=1.0,
    )
    assert -result.total_hours <= result.ahead_hours <= 0
    assert result.pace_needed <= result.hours_left * 7


def test_study_week_of_a_dst_change_is_what_away_weeks_compare_with() -> None:
    week = StudyWeek(date(2027, 3, 22), BERLIN)
    assert week.duration == timedelta(hours=167)
    assert away_weeks([AwaySpan(week.start_utc, week.start_utc + timedelta(hours=84))], [week])
