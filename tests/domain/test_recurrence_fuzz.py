"""Property tests for ``parse_when``/``next_fire`` and ``parse_timezone``.

The fire-time reference scans UTC minute by minute and applies the DST rules of
``bot.domain.recurrence`` independently: a wall time fires when it is first seen (``fold=0``), the
wall times a clock jump skips fire at the minute after the jump, and a fire less than 15 minutes
after another candidate is dropped.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from random import Random
from zoneinfo import ZoneInfo, available_timezones

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.recurrence import (
    MIN_INTERVAL,
    Cron,
    OneOff,
    Recurrence,
    Weekly,
    from_canonical,
    parse_when,
)
from bot.domain.weeks import parse_timezone
from bot.errors import InvalidInput

NOW = datetime(2026, 1, 1, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
ZONES = [
    ZoneInfo(name)
    for name in (
        "UTC",
        "Europe/Berlin",
        "America/New_York",
        "Asia/Kolkata",
        "Pacific/Chatham",
        "Australia/Lord_Howe",  # 30-minute DST
        "America/Santiago",  # changes at midnight
    )
]


def _transitions(tz: ZoneInfo, start: datetime, days: int) -> list[datetime]:
    """Instants (to the minute) where ``tz`` changes its UTC offset."""
    found = []
    for day in range(days):
        lo, hi = start + timedelta(days=day), start + timedelta(days=day + 1)
        if lo.astimezone(tz).utcoffset() == hi.astimezone(tz).utcoffset():
            continue
        while hi - lo > MINUTE:
            mid = lo + (hi - lo) / 2
            mid = mid.replace(second=0, microsecond=0)
            if mid.astimezone(tz).utcoffset() == lo.astimezone(tz).utcoffset():
                lo = mid
            else:
                hi = mid
        found.append(hi)
    return found


# DST changes in 2026–2027 in those zones, to start windows near them.
TRANSITIONS = sorted({t for tz in ZONES for t in _transitions(tz, NOW, 2 * 366)})

# -- strategies --------------------------------------------------------------------------------

DAY_WORDS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun", "monday", "Thursday", "SUNDAYS"]
# Hours and minutes near the DST changes of the zones below come up often.
HOURS = st.one_of(st.sampled_from([0, 1, 2, 3, 23]), st.integers(0, 23))
MINUTES = st.one_of(st.sampled_from([0, 15, 30, 45, 50, 55]), st.integers(0, 59))
times = st.builds(lambda h, m: f"{h}:{m:02d}", HOURS, MINUTES)
day_lists = st.lists(
    st.one_of(
        st.sampled_from(DAY_WORDS),
        st.builds(lambda a, b: f"{a}-{b}", st.sampled_from(DAY_WORDS), st.sampled_from(DAY_WORDS)),
    ),
    min_size=1,
    max_size=4,
).map(",".join)
weekly_texts = st.builds(
    lambda days, t: f"{days} {t}",
    st.one_of(day_lists, st.sampled_from(["daily", "weekdays", "weekends", "everyday"])),
    times,
)
one_off_texts = st.builds(
    lambda d, t: f"{d.isoformat()} {t}",
    st.dates(min_value=date(2025, 6, 1), max_value=date(2036, 12, 31)),
    times,
)


def _cron_field(low: int, high: int, names: list[str]) -> st.SearchStrategy[str]:
    value = st.one_of(st.integers(low, high).map(str), st.sampled_from(names or ["*"]))
    item = st.one_of(
        st.just("*"),
        value,
        st.builds(lambda a, b: f"{a}-{b}", value, value),
        st.builds(lambda n: f"*/{n}", st.integers(1, high + 1)),
        st.builds(lambda a, b, n: f"{a}-{b}/{n}", value, value, st.integers(1, 30)),
        st.builds(lambda a, n: f"{a}/{n}", value, st.integers(1, 30)),
    )
    return st.lists(item, min_size=1, max_size=3).map(",".join)


MINUTE_FIELDS = st.one_of(
    MINUTES.map(str),
    st.sampled_from(["*/15", "*/20", "*/30", "0,30", "5,55", "10,50", "10,25,40,55", "7/15"]),
    _cron_field(0, 59, []),
)
HOUR_FIELDS = st.one_of(
    st.just("*"),
    HOURS.map(str),
    st.sampled_from(["1-3", "0-4/2", "1,3", "23,0-2"]),
    _cron_field(0, 23, []),
)
cron_texts = st.builds(
    lambda *fields: " ".join(fields),
    MINUTE_FIELDS,
    HOUR_FIELDS,
    st.one_of(st.just("*"), _cron_field(1, 31, [])),
    st.one_of(st.just("*"), _cron_field(1, 12, ["jan", "feb", "mar", "dec", "july"])),
    st.one_of(st.just("*"), _cron_field(0, 7, ["mon", "fri", "sat", "sun", "sunday"])),
)
when_texts = st.one_of(weekly_texts, one_off_texts, cron_texts)
token_soup = st.lists(
    st.sampled_from(
        [
            *DAY_WORDS,
            "daily",
            "09:00",
            "25:00",
            "9:5",
            "*",
            "*/15",
            "*/0",
            "1-5",
            "5-1",
            "0",
            "59",
            "60",
            "jan",
            "7",
            "?",
            "L",
            "#",
            "2026-12-01",
            "2026-02-30",
            ",",
            "-",
            "/",
            " ",
            "\t",
            "\u0661",
            "\uff10",
            "'",
            ";",
            "--",
            "é",
        ]
    ),
    max_size=8,
).map(" ".join)
zones = st.sampled_from(ZONES)


def _parsed(text: str, tz: ZoneInfo) -> Recurrence | None:
    try:
        return parse_when(text, NOW, tz)
    except InvalidInput:
        return None


# -- reference ---------------------------------------------------------------------------------


def _matches(recurrence: Recurrence, wall: datetime) -> bool:
    minute = wall.hour * 60 + wall.minute
    if isinstance(recurrence, Weekly):
        return wall.weekday() in recurrence.days and minute == recurrence.hour * 60 + (
            recurrence.minute
        )
    if isinstance(recurrence, OneOff):
        return (wall.date(), minute) == (
            recurrence.day,
            recurrence.hour * 60 + recurrence.minute,
        )
    assert isinstance(recurrence, Cron)
    if (
        wall.minute not in recurrence.minutes
        or wall.hour not in recurrence.hours
        or wall.month not in recurrence.months
    ):
        return False
    dom = wall.day in recurrence.days_of_month
    dow = (wall.weekday() + 1) % 7 in recurrence.days_of_week
    if len(recurrence.days_of_month) < 31 and len(recurrence.days_of_week) < 7:
        return dom or dow
    return dom and dow


def _reference_fires(
    recurrence: Recurrence, tz: ZoneInfo, start: datetime, end: datetime
) -> list[datetime]:
    u = start.replace(second=0, microsecond=0) - timedelta(hours=1)
    previous_wall = (u - MINUTE).astimezone(tz).replace(tzinfo=None)
    candidates: list[datetime] = []
    while u <= end:
        local = u.astimezone(tz)
        wall = local.replace(tzinfo=None)
        fires = local.fold == 0 and _matches(recurrence, wall)
        skipped = previous_wall + MINUTE
        while not fires and skipped < wall:  # the clock jumped: these wall times never happen
            fires = _matches(recurrence, skipped)
            skipped += MINUTE
        if fires:
            candidates.append(u)
        previous_wall = wall
        u += MINUTE
    kept = [c for i, c in enumerate(candidates) if i == 0 or c - candidates[i - 1] >= MIN_INTERVAL]
    return [c for c in kept if start < c <= end]


# -- properties --------------------------------------------------------------------------------


@given(st.one_of(st.text(max_size=120), token_soup, when_texts), zones)
def test_parse_when_raises_nothing_but_invalid_input(text: str, tz: ZoneInfo) -> None:
    try:
        parse_when(text, NOW, tz)
    except InvalidInput as error:
        assert error.message


@given(when_texts, zones)
def test_canonical_form_round_trips(text: str, tz: ZoneInfo) -> None:
    recurrence = _parsed(text, tz)
    if recurrence is None:
        return

    again = parse_when(recurrence.canonical(), NOW, tz)

    assert again == recurrence
    assert again.canonical() == recurrence.canonical()
    assert from_canonical(recurrence.canonical()) == recurrence


@settings(deadline=None)
@given(
    st.one_of(weekly_texts, cron_texts),
    zones,
    st.sampled_from(TRANSITIONS),
    st.integers(-30 * 60, -60),
)
def test_next_fire_is_increasing_and_at_least_15_minutes_apart(
    text: str, tz: ZoneInfo, transition: datetime, offset_minutes: int
) -> None:
    recurrence = _parsed(text, tz)
    if recurrence is None:
        return
    fire: datetime | None = transition + timedelta(minutes=offset_minutes, seconds=17)
    chain: list[datetime] = []
    for _ in range(30):
        assert fire is not None
        previous = fire
        fire = recurrence.next_fire(previous, tz)
        if fire is None:
            break
        assert fire > previous
        chain.append(fire)

    assert all(b - a >= MIN_INTERVAL for a, b in pairwise(chain))


@settings(deadline=None, max_examples=60)
@given(
    st.one_of(weekly_texts, cron_texts, one_off_texts),
    zones,
    st.sampled_from(TRANSITIONS),
    st.integers(-28 * 60, -60),
)
def test_fire_times_match_a_minute_by_minute_reference(
    text: str, tz: ZoneInfo, transition: datetime, offset_minutes: int
) -> None:
    recurrence = _parsed(text, tz)
    if recurrence is None:
        return
    start = transition + timedelta(minutes=offset_minutes, seconds=5)
    end = start + timedelta(hours=30)

    assert recurrence.fires_between(start, end, tz) == _reference_fires(recurrence, tz, start, end)


VALID_ZONES = sorted(available_timezones() - {"Factory", "localtime"})


@given(st.text(max_size=80))
def test_parse_timezone_raises_nothing_but_invalid_input(text: str) -> None:
    try:
        zone = parse_timezone(text)
    except InvalidInput as error:
        assert error.message
    else:
        assert zone.key in VALID_ZONES


@given(st.sampled_from(VALID_ZONES), st.randoms(use_true_random=False))
def test_parse_timezone_accepts_any_valid_name_in_any_case(name: str, rnd: Random) -> None:
    mixed = "".join(c.upper() if rnd.random() < 0.5 else c.lower() for c in name)

    assert parse_timezone(mixed).key == name
