"""Course plans: pace toward a finish date, week by week (README.md, Commands).
Pure, no I/O.

A plan runs from a start date to a target date through a course's ordered modules, each with
estimated hours. *Hours left* are the estimated hours of unfinished modules; *pace needed* is
hours left ÷ weeks to the target (days ÷ 7); *pace kept* is the hours checked in per week over
the last 4 finished study weeks the member was not away (fewer when the plan is younger, and the
current week alone while the plan has no finished week yet); the *projected finish* is today +
hours left ÷ pace kept; a member is on track when pace kept ≥ 90 % of pace needed. Time spent
away moves the target by as long as the member was (or will be) away.

Dates here are local calendar dates of the guild; away spans are UTC instants, compared with
each study week's UTC bounds (a week with a DST change lasts 167 or 169 hours).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.domain.weeks import StudyWeek
from bot.errors import InvalidInput

WEEKLY_HOURS_MAX = 60.0
TARGET_YEARS_MAX = 5
PACE_WEEKS = 4
AWAY_WEEKS_MAX = 12
ON_TRACK_SHARE = 0.9
GOAL_HOURS_MIN = 0.5
PROJECTION_DAYS_MAX = 365 * 50
_WEEK = timedelta(days=7)
_DAY = timedelta(days=1)
_EPSILON = 1e-9

_RELATIVE = re.compile(r"^\s*(\d{1,3})\s*(day|week|month|year)s?\s*$", re.IGNORECASE)
_ISO_DATE = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})\s*$")
TARGET_FORMS = "a date like `2027-06-30`, or `6 months`, `26 weeks`"


@dataclass(frozen=True)
class Module:
    id: int
    title: str
    hours: float


@dataclass(frozen=True)
class AwaySpan:
    """Away from ``start`` (included) to ``end`` (excluded), UTC."""

    start: datetime
    end: datetime

    def overlap(self, start: datetime, end: datetime) -> timedelta:
        return max(min(self.end, end) - max(self.start, start), timedelta(0))


# ------------------------------------------------------------------------- reading input


def add_months(day: date, months: int) -> date:
    """``day`` plus whole calendar months, the day clamped to the month's length."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


def parse_target(text: str, today: date) -> date:
    """A target typed by a member: ``2027-06-30``, ``6 months``, ``26 weeks``, ``90 days``,
    ``2 years``. Checked: not in the past, at most five years ahead."""
    iso = _ISO_DATE.match(text) if text.isascii() else None
    relative = _RELATIVE.match(text) if text.isascii() else None
    if iso:
        try:
            target = date(int(iso[1]), int(iso[2]), int(iso[3]))
        except ValueError:
            raise InvalidInput(f"{text.strip()} is not a calendar date.") from None
    elif relative:
        count, unit = int(relative[1]), relative[2].lower()
        if unit == "day":
            target = today + timedelta(days=count)
        elif unit == "week":
            target = today + timedelta(weeks=count)
        else:
            months = count * (12 if unit == "year" else 1)
            if months > 12 * (TARGET_YEARS_MAX + 1):
                months = 12 * (TARGET_YEARS_MAX + 1)  # far enough to be refused below
            target = add_months(today, months)
    else:
        raise InvalidInput(f"Give the target as {TARGET_FORMS}.")
    return check_target(target, today)


def check_target(target: date, today: date) -> date:
    if target <= today:
        raise InvalidInput(f"The target {target.isoformat()} is not in the future.")
    if target > add_months(today, 12 * TARGET_YEARS_MAX):
        raise InvalidInput(
            f"The target {target.isoformat()} is more than {TARGET_YEARS_MAX} years ahead."
        )
    return target


def check_weekly_hours(hours: float) -> float:
    if not math.isfinite(hours) or hours <= 0 or hours > WEEKLY_HOURS_MAX:
        raise InvalidInput(f"Weekly hours must be more than 0 and at most {WEEKLY_HOURS_MAX:g}.")
    return hours


# ------------------------------------------------------------------------- pace maths


def weeks_between(start: date, end: date) -> float:
    return (end - start).days / 7


def pace_needed(hours_left: float, today: date, target: date) -> float:
    """Hours per week to finish by the target; at or past the target, everything left is due
    within a day's worth of a week."""
    if hours_left <= 0:
        return 0.0
    days = max((target - today).days, 1)
    return hours_left * 7 / days


def target_for_pace(hours_left: float, weekly_hours: float, today: date) -> date:
    """The date ``hours_left`` take at ``weekly_hours`` a week (at least tomorrow)."""
    days = math.ceil(hours_left / weekly_hours * 7 - _EPSILON) if hours_left > 0 else 1
    return today + timedelta(days=max(days, 1))


def plan_terms(
    hours_left: float, today: date, target: date | None, weekly_hours: float | None
) -> tuple[date, float]:
    """The target and weekly hours of a new plan: one of them given, the other derived.
    A target that needs more than 60 h a week is refused with the pace it would need."""
    if target is None and weekly_hours is None:
        raise InvalidInput(f"Give a `target` ({TARGET_FORMS}) or weekly `hours`, or both.")
    if weekly_hours is not None:
        check_weekly_hours(weekly_hours)
    if target is None:
        assert weekly_hours is not None
        target = target_for_pace(hours_left, weekly_hours, today)
        return check_target(target, today), weekly_hours
    needed = pace_needed(hours_left, today, target)
    if needed > WEEKLY_HOURS_MAX + _EPSILON:
        raise InvalidInput(
            f"Finishing by {target.isoformat()} would need {needed:.1f} h a week; the most a "
            f"plan allows is {WEEKLY_HOURS_MAX:g}. Pick a later target."
        )
    return target, weekly_hours if weekly_hours is not None else needed


def away_weeks(spans: Iterable[AwaySpan], weeks: Iterable[StudyWeek]) -> set[date]:
    """Keys of the weeks the member was away for at least half of."""
    spans = list(spans)
    found = set()
    for week in weeks:
        away = sum((s.overlap(week.start_utc, week.end_utc) for s in spans), timedelta(0))
        if away * 2 >= week.duration:
            found.add(week.key)
    return found


def away_shift(spans: Iterable[AwaySpan], since: datetime) -> timedelta:
    """How far away time moves a plan's target: every span (past, current or booked ahead)
    from the plan's start on, as long as it lasts."""
    far = datetime.max.replace(tzinfo=since.tzinfo)
    return sum((s.overlap(since, far) for s in spans), timedelta(0))


def shifted_target(target: date, shift: timedelta) -> date:
    """The target moved by ``shift``, rounded up to a whole day."""
    days = math.ceil(shift / _DAY - _EPSILON) if shift > timedelta(0) else 0
    return target + timedelta(days=days)


def pace_weeks(
    plan_week: date, current_week: date, away: set[date], count: int = PACE_WEEKS
) -> list[date]:
    """The week keys pace kept is measured over: the last ``count`` finished weeks since the
    plan's first week that the member was not away; the current week alone when there are none
    (a plan started this week). Keys are week start dates, seven days apart."""
    chosen: list[date] = []
    cursor = current_week - _WEEK
    while cursor >= plan_week and len(chosen) < count:
        if cursor not in away:
            chosen.append(cursor)
        cursor -= _WEEK
    return chosen or [current_week]


def pace_kept(hours_by_week: Mapping[date, float], weeks: Sequence[date]) -> float | None:
    """Average hours checked in over ``weeks`` (weeks without a check-in count as 0)."""
    if not weeks:
        return None
    return sum(hours_by_week.get(week, 0.0) for week in weeks) / len(weeks)


def projected_finish(today: date, hours_left: float, kept: float | None) -> date | None:
    """Today + hours left ÷ pace kept; None when nothing is being kept up."""
    if hours_left <= 0:
        return today
    if kept is None or kept <= 0:
        return None
    days = hours_left / kept * 7
    if days > PROJECTION_DAYS_MAX:  # a trickle of hours: no date worth showing
        return None
    return today + timedelta(days=math.ceil(days - _EPSILON))


def on_track(kept: float | None, needed: float) -> bool:
    if needed <= 0:
        return True
    return kept is not None and kept + _EPSILON >= ON_TRACK_SHARE * needed


def planned_hours(total: float, start: date, target: date, day: date) -> float:
    """Where the plan expects a member on ``day``: a straight line from 0 at the start to the
    course's total at the target."""
    span = (target - start).days
    if span <= 0 or day >= target:
        return total
    if day <= start:
        return 0.0
    return total * (day - start).days / span


# ------------------------------------------------------------------------- assessment


@dataclass(frozen=True)
class Assessment:
    total_hours: float
    done_hours: float
    hours_left: float
    modules_done: int
    modules_left: int
    start: date
    target: date  # with away time added
    shift_days: int
    pace_needed: float
    pace_kept: float | None
    projected: date | None
    on_track: bool
    # Positive: ahead of the straight line from start to target; negative: behind.
    ahead_hours: float
    ahead_weeks: float
    away: bool

    @property
    def finished(self) -> bool:
        return self.hours_left <= 0


def assess(
    modules: Sequence[Module],
    done: Iterable[int],
    *,
    start: date,
    target: date,
    today: date,
    shift: timedelta,
    kept: float | None,
    away: bool = False,
) -> Assessment:
    finished = done if isinstance(done, set | frozenset) else set(done)
    total = done_hours = 0.0
    modules_done = 0
    for module in modules:
        total += module.hours
        if module.id in finished:
            done_hours += module.hours
            modules_done += 1
    left = max(total - done_hours, 0.0)
    moved = shifted_target(target, shift)
    needed = pace_needed(left, today, moved)
    ahead = done_hours - planned_hours(total, start, moved, today)
    plan_rate = total / max(weeks_between(start, moved), 1 / 7)
    return Assessment(
        total_hours=total,
        done_hours=done_hours,
        hours_left=left,
        modules_done=modules_done,
        modules_left=len(modules) - modules_done,
        start=start,
        target=moved,
        shift_days=(moved - target).days,
        pace_needed=needed,
        pace_kept=kept,
        projected=projected_finish(today, left, kept),
        on_track=on_track(kept, needed),
        ahead_hours=ahead,
        ahead_weeks=ahead / plan_rate if plan_rate > 0 else 0.0,
        away=away,
    )


# ------------------------------------------------------------------------- the week's share


@dataclass(frozen=True)
class Share:
    module: Module
    hours: float  # this week's hours on it (may be part of the module)


def week_hours(assessment: Assessment) -> float:
    """This week's share of the plan: the pace needed, never more than what is left nor more
    than a plan may ask of a week (a target already passed would otherwise ask for it all)."""
    return min(assessment.hours_left, assessment.pace_needed, WEEKLY_HOURS_MAX)


def week_share(left: Sequence[Module], hours: float) -> list[Share]:
    """``hours`` spread over the unfinished modules in course order: each module takes what it
    needs until the week's hours run out. Shares are rounded to half hours (a goal's smallest
    planned time) and never exceed the module's own estimate."""
    shares: list[Share] = []
    budget = hours
    for module in left:
        if budget < GOAL_HOURS_MIN / 2:
            break
        take = min(module.hours, budget)
        budget -= take
        rounded = max(round(take * 2) / 2, GOAL_HOURS_MIN)
        shares.append(Share(module, min(rounded, max(module.hours, GOAL_HOURS_MIN))))
    return shares
