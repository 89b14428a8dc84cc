"""When schedules fire: parsing the ``when`` of ``/schedule add`` and computing fire times.

``parse_when`` accepts, case-insensitively and in the guild's timezone, ``mon 09:00``,
``mon,thu 18:30`` (day lists and ranges, full names too), ``daily 07:00``, ``weekdays 08:00``,
``weekends 10:00``, a one-off ``2026-12-01 09:00`` and five-field cron expressions. A
``Recurrence`` stores local wall times only; the timezone is passed when fire times are computed,
so a guild that changes its timezone moves every future fire with it. ``canonical()`` is the form
stored in the database: ``parse_when`` (or ``from_canonical``) reads it back to an equal value.

DST rules (how a scheduled local wall time becomes an instant):

1. A wall time that exists once fires then.
2. An ambiguous wall time (autumn fall-back: the hour that happens twice) fires once, at its first
   occurrence (``fold=0``). So a cron schedule firing every N minutes does not repeat the repeated
   hour: after 02:45 (summer time) the next fire in Europe/Berlin is 03:00 (winter time).
3. A wall time inside a spring-forward gap fires at the end of the gap, the first valid local minute
   (02:30 Europe/Berlin → 03:00 summer time). Several gap times of one schedule, and a regular fire
   at the end of the gap, are the same instant and fire once.
4. Minimum spacing: an occurrence less than 15 minutes after the schedule's previous occurrence
   (after rules 1–3) is skipped. Wall times are validated to be at least 15 minutes apart, so this
   only happens next to a spring-forward gap: an hourly ``50 * * * *`` fires at 01:50 and then
   03:50 in Europe/Berlin, because its 02:50 would land on 03:00, ten minutes after 01:50. A fire
   time never comes less than 15 minutes after the one before it, in real time.

Cron semantics follow classic cron: minute hour day-of-month month day-of-week; ``*``, ``a-b``,
``*/n``, ``a-b/n``, ``a/n`` (from a to the end), lists, English month and day names; day of week 0
and 7 are Sunday. A day matches when both day-of-month and day-of-week match, except that when
both are restricted (neither covers its whole range) either one is enough. Unlike Vixie cron this
is decided by the values, not by whether the field text starts with ``*``.
"""

from __future__ import annotations

import calendar
import re
from abc import ABC, abstractmethod
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from itertools import pairwise

from bot.domain.weeks import WEEKDAY_NAMES, parse_weekday, wall_time_to_utc
from bot.errors import InvalidInput
from bot.formatting import runs

__all__ = [
    "ACCEPTED_FORMS",
    "MAX_WHEN_LENGTH",
    "MIN_INTERVAL",
    "Cron",
    "OneOff",
    "Recurrence",
    "Weekly",
    "from_canonical",
    "parse_when",
]

#: Schedules may not fire more often than this.
MIN_INTERVAL = timedelta(minutes=15)
MAX_WHEN_LENGTH = 100
#: A one-off may be at most this far ahead.
MAX_ONE_OFF_AHEAD = timedelta(days=3653)

#: Shown with every parse error (and wherever people are told what ``when`` accepts).
ACCEPTED_FORMS = (
    "Accepted forms (24-hour times in the server's timezone):\n"
    "• `mon 09:00` — every week on that day\n"
    "• `mon,thu 18:30` — several days; full names and ranges like `mon-fri` work too\n"
    "• `daily 07:00`, `weekdays 08:00`, `weekends 10:00`\n"
    "• `2026-12-01 09:00` — once, at a future date and time\n"
    "• a five-field cron expression `minute hour day month weekday`, e.g. `0 9 * * 1-5`\n"
    "Schedules can fire at most every 15 minutes."
)

_MIN_GAP = int(MIN_INTERVAL.total_seconds()) // 60  # minutes
_DAY_MINUTES = 24 * 60
# A cron schedule whose next date is further away than this never fires (Feb 29 recurs within 8).
_HORIZON_YEARS = 12
# Longest month lengths; February may have 29 days.
_MAX_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_DAY_ABBR = tuple(name[:3].lower() for name in WEEKDAY_NAMES)  # "mon" … "sun"

_WallTime = tuple[date, int]  # local date and minute of the day


def _invalid(reason: str) -> InvalidInput:
    return InvalidInput(f"{reason}\n\n{ACCEPTED_FORMS}")


def _hhmm(minute_of_day: int) -> str:
    return f"{minute_of_day // 60:02d}:{minute_of_day % 60:02d}"


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime")


def _wall_to_utc(day: date, minute_of_day: int, tz: tzinfo) -> datetime:
    """The instant a scheduled local wall time fires at (DST rules 1–3 of the module docstring)."""
    hour, minute = divmod(minute_of_day, 60)
    return wall_time_to_utc(datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz))


class Recurrence(ABC):
    """A schedule's cadence as local wall times; fire instants need the timezone."""

    __slots__ = ()

    @property
    @abstractmethod
    def kind(self) -> str:
        """``"weekly"``, ``"once"`` or ``"cron"``."""

    @abstractmethod
    def canonical(self) -> str:
        """Normalised text that ``parse_when``/``from_canonical`` read back to an equal value."""

    @abstractmethod
    def describe(self) -> str:
        """Human text, e.g. "Mondays and Thursdays at 18:30"."""

    @abstractmethod
    def _next_wall(self, day: date, minute_of_day: int) -> _WallTime | None:
        """The first scheduled wall time at or after (day, minute_of_day), or None."""

    def __str__(self) -> str:
        return self.canonical()

    def next_fire(self, after_utc: datetime, tz: tzinfo) -> datetime | None:
        """The first fire time (UTC) strictly after ``after_utc``; None when there is none."""
        _require_aware(after_utc, "after_utc")
        fire = self._next_candidate(after_utc, tz)
        while fire is not None:
            earlier = self._next_candidate(fire - MIN_INTERVAL, tz)
            if earlier is None or earlier >= fire:
                return fire
            fire = self._next_candidate(fire, tz)  # too close to the one before (rule 4)
        return None

    def fires_between(
        self, start_utc: datetime, end_utc: datetime, tz: tzinfo, *, limit: int = 10_000
    ) -> list[datetime]:
        """Fire times ``f`` with ``start_utc < f <= end_utc``, oldest first, at most ``limit``."""
        _require_aware(end_utc, "end_utc")
        fires: list[datetime] = []
        fire = self.next_fire(start_utc, tz)
        while fire is not None and fire <= end_utc and len(fires) < limit:
            fires.append(fire)
            fire = self.next_fire(fire, tz)
        return fires

    def _next_candidate(self, after: datetime, tz: tzinfo) -> datetime | None:
        """Rules 1–3 only: the first mapped wall time strictly after ``after``."""
        local = after.astimezone(tz)
        wall = self._next_wall(local.date(), local.hour * 60 + local.minute)
        # Mapping is monotonic, so start at the wall clock of `after`; only inside a fall-back
        # hour do a few wall times map before `after` (their first occurrence has passed).
        while wall is not None:
            instant = _wall_to_utc(wall[0], wall[1], tz)
            if instant > after:
                return instant
            day, minute = wall
            wall = (
                self._next_wall(day, minute + 1)
                if minute + 1 < _DAY_MINUTES
                else self._next_wall(day + timedelta(days=1), 0)
            )
        return None


# --------------------------------------------------------------------------------------------
# Weekly (daily, weekdays, weekends, day lists)
# --------------------------------------------------------------------------------------------

_EVERY_DAY = frozenset(range(7))
_WEEKDAYS = frozenset(range(5))
_WEEKENDS = frozenset({5, 6})
_DAY_KEYWORDS = {
    "daily": _EVERY_DAY,
    "everyday": _EVERY_DAY,
    "weekdays": _WEEKDAYS,
    "weekends": _WEEKENDS,
}


@dataclass(frozen=True)
class Weekly(Recurrence):
    """At one local time on some days of the week (0 = Monday)."""

    days: frozenset[int]
    hour: int
    minute: int

    def __post_init__(self) -> None:
        if not self.days or not self.days <= _EVERY_DAY:
            raise ValueError("days must be a non-empty set of 0..6")
        if not (0 <= self.hour <= 23 and 0 <= self.minute <= 59):
            raise ValueError("hour and minute out of range")

    @property
    def kind(self) -> str:
        return "weekly"

    @property
    def _at(self) -> int:
        return self.hour * 60 + self.minute

    def canonical(self) -> str:
        for word in ("daily", "weekdays", "weekends"):
            if self.days == _DAY_KEYWORDS[word]:
                return f"{word} {_hhmm(self._at)}"
        return f"{','.join(_DAY_ABBR[d] for d in sorted(self.days))} {_hhmm(self._at)}"

    def describe(self) -> str:
        at = _hhmm(self._at)
        if self.days == _EVERY_DAY:
            return f"Every day at {at}"
        if self.days == _WEEKDAYS:
            return f"Weekdays at {at}"
        if self.days == _WEEKENDS:
            return f"Weekends at {at}"
        return f"{_join([WEEKDAY_NAMES[d] + 's' for d in sorted(self.days)])} at {at}"

    def _next_wall(self, day: date, minute_of_day: int) -> _WallTime | None:
        at = self._at
        start = 0 if minute_of_day <= at else 1
        weekday = day.weekday()
        for offset in range(start, start + 7):
            if (weekday + offset) % 7 in self.days:
                return day + timedelta(days=offset), at
        return None  # unreachable: days is not empty


# --------------------------------------------------------------------------------------------
# One-off
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OneOff(Recurrence):
    """Once, at a local date and time."""

    day: date
    hour: int
    minute: int

    def __post_init__(self) -> None:
        if not (0 <= self.hour <= 23 and 0 <= self.minute <= 59):
            raise ValueError("hour and minute out of range")

    @property
    def kind(self) -> str:
        return "once"

    def canonical(self) -> str:
        return f"{self.day.isoformat()} {self.hour:02d}:{self.minute:02d}"

    def describe(self) -> str:
        d = self.day
        weekday = WEEKDAY_NAMES[d.weekday()][:3]
        return (
            f"Once, on {weekday} {d.day} {_MONTH_ABBR[d.month - 1]} {d.year} "
            f"at {self.hour:02d}:{self.minute:02d}"
        )

    def _next_wall(self, day: date, minute_of_day: int) -> _WallTime | None:
        at = (self.day, self.hour * 60 + self.minute)
        return at if at >= (day, minute_of_day) else None


# --------------------------------------------------------------------------------------------
# Cron
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cron(Recurrence):
    """A five-field cron expression, kept as the sets of values it allows.

    Days of week use cron numbering here (0 = Sunday … 6 = Saturday).
    """

    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days_of_month: tuple[int, ...]
    months: tuple[int, ...]
    days_of_week: tuple[int, ...]
    _times: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _dom: frozenset[int] = field(init=False, repr=False, compare=False)
    _dow: frozenset[int] = field(init=False, repr=False, compare=False)
    _month_set: frozenset[int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for values, lo, hi in zip(self._fields(), _LOWS, _HIGHS, strict=True):
            if not values or list(values) != sorted(set(values)):
                raise ValueError("cron fields must be sorted and distinct")
            if values[0] < lo or values[-1] > hi:
                raise ValueError("cron field values out of range")
        times = tuple(h * 60 + m for h in self.hours for m in self.minutes)
        object.__setattr__(self, "_times", times)
        object.__setattr__(self, "_dom", frozenset(self.days_of_month))
        object.__setattr__(self, "_dow", frozenset(self.days_of_week))
        object.__setattr__(self, "_month_set", frozenset(self.months))

    def _fields(self) -> tuple[tuple[int, ...], ...]:
        return (self.minutes, self.hours, self.days_of_month, self.months, self.days_of_week)

    @property
    def kind(self) -> str:
        return "cron"

    @property
    def dom_restricted(self) -> bool:
        return len(self.days_of_month) < 31

    @property
    def dow_restricted(self) -> bool:
        return len(self.days_of_week) < 7

    def canonical(self) -> str:
        return " ".join(
            _render_field(values, lo, hi)
            for values, lo, hi in zip(self._fields(), _LOWS, _HIGHS, strict=True)
        )

    def describe(self) -> str:
        return f"{self._describe_times()}, {self._describe_days()}{self._describe_months()}"

    def _describe_times(self) -> str:
        minutes, hours = self.minutes, self.hours
        if len(hours) == 24:
            step = minutes[1] - minutes[0] if len(minutes) > 1 else 60
            if minutes == tuple(range(0, 60, step)) and step < 60:
                return f"Every {step} minutes"
            return f"Every hour at {_join([f':{m:02d}' for m in minutes])}"
        if len(self._times) <= 6:
            return f"At {_join([_hhmm(t) for t in self._times])}"
        return (
            f"At minute {_join([str(m) for m in minutes])} "
            f"past hour {_join([str(h) for h in hours])}"
        )

    def _describe_days(self) -> str:
        # Python weekday order for names: cron 1..6,0 → Monday..Sunday.
        weekdays = sorted((d - 1) % 7 for d in self.days_of_week)
        if set(weekdays) == _WEEKDAYS:
            dow_text = "on weekdays"
        elif set(weekdays) == _WEEKENDS:
            dow_text = "on weekends"
        else:
            dow_text = "on " + _join([WEEKDAY_NAMES[d] + "s" for d in weekdays])
        dom_text = f"on day {_join([str(d) for d in self.days_of_month])} of the month"
        if self.dom_restricted and self.dow_restricted:
            return f"{dom_text} or {dow_text}"
        if self.dom_restricted:
            return dom_text
        if self.dow_restricted:
            return dow_text
        return "every day"

    def _describe_months(self) -> str:
        if len(self.months) == 12:
            return ""
        return " in " + _join([_MONTH_NAMES[m - 1] for m in self.months])

    def _day_matches(self, d: date) -> bool:
        if d.month not in self._month_set:
            return False
        dom_ok = d.day in self._dom
        dow_ok = (d.weekday() + 1) % 7 in self._dow
        if self.dom_restricted and self.dow_restricted:
            return dom_ok or dow_ok
        return dom_ok and dow_ok

    def _next_day(self, d: date) -> date | None:
        """The first matching local date at or after ``d``."""
        last_year = d.year + _HORIZON_YEARS
        while d.year <= last_year:
            if d.month in self._month_set:
                if not self.dow_restricted:  # day of month alone decides: jump to it
                    month_days = calendar.monthrange(d.year, d.month)[1]
                    i = bisect_left(self.days_of_month, d.day)
                    if i < len(self.days_of_month) and self.days_of_month[i] <= month_days:
                        return d.replace(day=self.days_of_month[i])
                else:  # a week covers every weekday, so this finds a match or leaves the month
                    for _ in range(7):
                        if self._day_matches(d):
                            return d
                        nxt = d + timedelta(days=1)
                        if nxt.month != d.month:
                            break
                        d = nxt
            # Jump to the first day of the next allowed month.
            i = bisect_right(self.months, d.month)
            d = (
                date(d.year, self.months[i], 1)
                if i < len(self.months)
                else date(d.year + 1, self.months[0], 1)
            )
        return None

    def _next_wall(self, day: date, minute_of_day: int) -> _WallTime | None:
        if self._day_matches(day):
            i = bisect_left(self._times, minute_of_day)
            if i < len(self._times):
                return day, self._times[i]
        nxt = self._next_day(day + timedelta(days=1))
        return None if nxt is None else (nxt, self._times[0])

    # -- validation ---------------------------------------------------------------------------

    def _check(self) -> None:
        """Refuse schedules that never fire or fire more often than every 15 minutes."""
        if (
            self.dom_restricted
            and not self.dow_restricted
            and not any(
                d <= _MAX_MONTH_DAYS[m - 1] for m in self.months for d in self.days_of_month
            )
        ):
            raise _invalid("That cron expression never fires: no month has that day.")
        times = self._times
        gaps = [b - a for a, b in pairwise(times)]
        if gaps and min(gaps) < _MIN_GAP:
            raise _too_frequent(min(gaps))
        wrap = _DAY_MINUTES - times[-1] + times[0]  # last fire of a day → first of the next
        if wrap < _MIN_GAP and self._consecutive_days_possible():
            raise _too_frequent(wrap)

    def _consecutive_days_possible(self) -> bool:
        """Can two consecutive calendar days both match?

        Over the 400-year calendar cycle every date (29 February included) falls on every weekday,
        so it is enough to try each pair of adjacent dates with each weekday.
        """
        pairs: list[tuple[int, int, int, int]] = []
        for m in self.months:
            last = _MAX_MONTH_DAYS[m - 1]
            pairs += [(m, d, m, d + 1) for d in range(1, last)]
            following = m % 12 + 1
            if following in self._month_set:
                pairs.append((m, last, following, 1))
                if m == 2:
                    pairs.append((2, 28, 3, 1))  # common years
        both = self.dom_restricted and self.dow_restricted

        def matches(day: int, weekday: int) -> bool:
            dom_ok, dow_ok = day in self._dom, weekday in self._dow
            return (dom_ok or dow_ok) if both else (dom_ok and dow_ok)

        return any(
            matches(d1, w) and matches(d2, (w + 1) % 7) for _, d1, _, d2 in pairs for w in range(7)
        )


_LOWS = (0, 0, 1, 1, 0)
_HIGHS = (59, 23, 31, 12, 6)
_FIELD_NAMES = ("minute", "hour", "day-of-month", "month", "day-of-week")
_CRON_MONTHS = {name[:3].lower(): i + 1 for i, name in enumerate(_MONTH_NAMES)} | {
    name.lower(): i + 1 for i, name in enumerate(_MONTH_NAMES)
}
_CRON_DAYS = {name[:3].lower(): (i + 1) % 7 for i, name in enumerate(WEEKDAY_NAMES)} | {
    name.lower(): (i + 1) % 7 for i, name in enumerate(WEEKDAY_NAMES)
}
_NUMBER = re.compile(r"[0-9]{1,2}")


def _too_frequent(gap_minutes: int) -> InvalidInput:
    return _invalid(
        f"That schedule would fire {gap_minutes} minute(s) apart; schedules can fire at most "
        "every 15 minutes."
    )


def _render_field(values: tuple[int, ...], lo: int, hi: int) -> str:
    if len(values) == hi - lo + 1:
        return "*"
    if len(values) > 2 and values == tuple(range(lo, hi + 1, values[1] - values[0])):
        return f"*/{values[1] - values[0]}"
    parts: list[str] = []
    for first, last in runs(values):
        if last - first >= 2:
            parts.append(f"{first}-{last}")
        else:
            parts.extend(str(x) for x in range(first, last + 1))
    return ",".join(parts)


def _cron_value(text: str, index: int) -> int:
    names = _CRON_MONTHS if index == 3 else _CRON_DAYS if index == 4 else None
    if _NUMBER.fullmatch(text):
        value = int(text)
    elif names is not None and text in names:
        value = names[text]
    else:
        raise _invalid(f"The cron {_FIELD_NAMES[index]} field has a value I can't read.")
    high = 7 if index == 4 else _HIGHS[index]
    if not _LOWS[index] <= value <= high:
        raise _invalid(f"Cron {_FIELD_NAMES[index]} values go from {_LOWS[index]} to {high}.")
    return value


def _parse_cron_field(text: str, index: int) -> tuple[int, ...]:
    lo, hi = _LOWS[index], (7 if index == 4 else _HIGHS[index])
    values: set[int] = set()
    for item in text.split(","):
        base, slash, step_text = item.partition("/")
        step = 1
        if slash:
            if not _NUMBER.fullmatch(step_text) or int(step_text) == 0:
                raise _invalid(f"The cron {_FIELD_NAMES[index]} step must be a number from 1.")
            step = int(step_text)
        if base == "*":
            start, end = lo, hi
        elif "-" in base:
            first, _, last = base.partition("-")
            start, end = _cron_value(first, index), _cron_value(last, index)
            if index == 4 and end == 0 and start > 0:
                end = 7  # "sat-sun", "5-0"
            if start > end:
                raise _invalid(f"A cron {_FIELD_NAMES[index]} range must go from low to high.")
        else:
            start = _cron_value(base, index)
            end = hi if slash else start  # "5/15" means from 5 to the end, every 15
        values.update(range(start, end + 1, step))
    if index == 4 and 7 in values:
        values.discard(7)
        values.add(0)
    return tuple(sorted(values))


def _parse_cron(tokens: list[str]) -> Cron:
    fields = [_parse_cron_field(token, i) for i, token in enumerate(tokens)]
    minutes, hours = fields[0], fields[1]
    if len(minutes) > 60 // _MIN_GAP:  # five minutes in one hour: two are < 15 minutes apart
        gap = min(b - a for a, b in pairwise(minutes))
        raise _too_frequent(gap)
    cron = Cron(minutes, hours, fields[2], fields[3], fields[4])
    cron._check()
    return cron


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------

_TIME = re.compile(r"([0-9]{1,2}):([0-9]{2})")
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_CRON_TOKEN = re.compile(r"[0-9a-z*/,\-]+")
_SEPARATORS = re.compile(r"\s*([,\-/])\s*")


def _parse_time(text: str) -> tuple[int, int]:
    match = _TIME.fullmatch(text)
    if match is None:
        raise _invalid("The time must look like 09:00 (24-hour clock).")
    hour, minute = int(match[1]), int(match[2])
    if hour > 23 or minute > 59:
        raise _invalid("The time must be between 00:00 and 23:59.")
    return hour, minute


def _parse_days(text: str) -> frozenset[int]:
    if text in _DAY_KEYWORDS:
        return _DAY_KEYWORDS[text]
    days: set[int] = set()
    for item in text.split(","):
        first, dash, last = item.partition("-")
        try:
            start = parse_weekday(first)
            end = parse_weekday(last) if dash else start
        except InvalidInput:
            raise _invalid("I don't recognise those days; use names like mon or monday.") from None
        days.update((start + i) % 7 for i in range((end - start) % 7 + 1))  # "fri-mon" wraps
    return frozenset(days)


def _parse_one_off(date_text: str, time_text: str) -> OneOff:
    match = _DATE.fullmatch(date_text)
    if match is None:  # pragma: no cover - callers check the shape first
        raise _invalid("A date must look like 2026-12-01.")
    if not 2000 <= int(match[1]) <= 2999:
        raise _invalid("A one-off date must be in this millennium.")
    try:
        day = date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise _invalid("That date does not exist.") from None
    hour, minute = _parse_time(time_text)
    return OneOff(day, hour, minute)


def _parse(text: str) -> Recurrence:
    if len(text) > MAX_WHEN_LENGTH:
        raise _invalid(f"That is too long: a schedule is at most {MAX_WHEN_LENGTH} characters.")
    if not text.isascii():
        raise _invalid("Use plain digits and English day names.")
    normal = _SEPARATORS.sub(r"\1", " ".join(text.lower().split()))
    if not normal:
        raise _invalid("Say when the schedule should fire.")
    tokens = normal.split(" ")
    if len(tokens) == 1 and "t" in normal and _DATE.fullmatch(normal.partition("t")[0]):
        tokens = list(normal.partition("t")[::2])  # 2026-12-01T09:00
    if len(tokens) == 5:
        if not all(_CRON_TOKEN.fullmatch(token) for token in tokens):
            raise _invalid("A cron field may only use digits, names, and * / , -.")
        return _parse_cron(tokens)
    if len(tokens) == 2:
        first, time_text = tokens
        if _DATE.fullmatch(first):
            return _parse_one_off(first, time_text)
        days = _parse_days(first)
        hour, minute = _parse_time(time_text)
        return Weekly(days, hour, minute)
    raise _invalid("I can't read that schedule.")


def parse_when(text: str, now_utc: datetime, tz: tzinfo) -> Recurrence:
    """Parse a schedule typed by a moderator; times are in the guild's ``tz``.

    Raises ``InvalidInput`` (whose message ends with ``ACCEPTED_FORMS``) for anything else,
    including schedules firing more often than every 15 minutes, cron expressions that never fire
    and one-offs that are not in the future (or more than ten years ahead).
    """
    _require_aware(now_utc, "now_utc")
    recurrence = _parse(text)
    if isinstance(recurrence, OneOff):
        if recurrence.day.year > now_utc.year + 11:  # keeps the arithmetic far from year 9999
            raise _invalid("A one-off can be at most ten years ahead.")
        fire = recurrence.next_fire(now_utc, tz)
        if fire is None:
            raise _invalid("That date and time has already passed.")
        if fire - now_utc > MAX_ONE_OFF_AHEAD:
            raise _invalid("A one-off can be at most ten years ahead.")
    return recurrence


def from_canonical(text: str) -> Recurrence:
    """Read back a stored ``canonical()`` form (a one-off may be in the past)."""
    return _parse(text)
