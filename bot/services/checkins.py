"""Use-cases for check-ins: one per member per local day, the week's hours and the streak.

The day is the member's own calendar day (their timezone, else the guild's); the week is the
guild's study week containing the moment. A second check-in the same day updates the first:
the fields it gives replace the stored ones, the others are kept.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from typing import Any

from bot.clock import Clock
from bot.domain.weeks import StudyWeek, member_local_day, streak, week_containing
from bot.errors import InvalidInput
from bot.services.goals import parse_number, study_week, zone_named
from db.repositories.checkins import Calendar, CheckIn, CheckInsRepository
from db.repositories.guild_settings import GuildSettingsRepository

HOURS_MAX = 100.0
TEXT_MAX = 1000
MOOD_MIN, MOOD_MAX = 1, 5
HOURS_MESSAGE = "Check-in hours must be a number between 0 and 100."
MOOD_MESSAGE = "Mood must be a whole number from 1 (rough) to 5 (great)."


@dataclass(frozen=True)
class CheckInResult:
    checkin: CheckIn
    week: StudyWeek
    week_hours: float
    streak: int


def calendar_week(calendar: Calendar, now: datetime) -> StudyWeek:
    """The guild study week containing `now`."""
    return week_containing(now, zone_named(calendar.guild_timezone), calendar.week_start)


def day_and_week(now: datetime, calendar: Calendar) -> tuple[date, date]:
    """Where a check-in made at `now` is filed: the member's own calendar day (their timezone,
    else the guild's) and the guild study week containing the moment."""
    guild_zone = zone_named(calendar.guild_timezone)
    member_zone = zone_named(calendar.member_timezone) if calendar.member_timezone else None
    return member_local_day(now, member_zone, guild_zone), calendar_week(calendar, now).key


def valid_hours(hours: float | None) -> float | None:
    if hours is None:
        return None
    if not math.isfinite(hours) or not 0 <= hours <= HOURS_MAX:
        raise InvalidInput(HOURS_MESSAGE)
    return float(hours)


def valid_mood(mood: int | None) -> int | None:
    if mood is None:
        return None
    if isinstance(mood, bool) or not MOOD_MIN <= mood <= MOOD_MAX:
        raise InvalidInput(MOOD_MESSAGE)
    return int(mood)


def valid_note(label: str, text: str | None) -> str | None:
    """A free-text answer: trimmed, at most 1000 characters; empty means not given."""
    if text is None:
        return None
    trimmed = text.strip()
    if not trimmed:
        return None
    if len(trimmed) > TEXT_MAX:
        raise InvalidInput(
            f"“{label}” is at most {TEXT_MAX} characters (yours has {len(trimmed)})."
        )
    return trimmed


def parse_mood(text: str) -> int | None:
    value = text.strip()
    if not value:
        return None
    if not value.isdecimal():  # isdigit() admits superscripts int() rejects
        raise InvalidInput(MOOD_MESSAGE)
    return valid_mood(int(value))


def parse_hours(text: str) -> float | None:
    hours = parse_number(text)
    if hours is not None and math.isnan(hours):
        raise InvalidInput(HOURS_MESSAGE)
    return valid_hours(hours)


# (guild_id, user_id, current week) → keys of weeks the member was away (they keep streaks).
AwayWeeks = Callable[[int, int, StudyWeek], Awaitable[set[date]]]


async def no_away_weeks(_guild_id: int, _user_id: int, _week: StudyWeek) -> set[date]:
    return set()


class Streaks:
    """Members' streaks of study weeks with a check-in; weeks they were away keep a streak
    (where those weeks come from is registered by the composition root)."""

    def __init__(self) -> None:
        self._away_weeks: AwayWeeks = no_away_weeks

    def register_away_weeks(self, provider: AwayWeeks) -> None:
        self._away_weeks = provider

    async def count(
        self, guild_id: int, user_id: int, week_keys: Sequence[date], week: StudyWeek
    ) -> int:
        """The streak up to `week` of a member who checked in in the weeks `week_keys`."""
        return streak(week_keys, week, await self._away_weeks(guild_id, user_id, week))


class CheckInService:
    def __init__(
        self,
        checkins: CheckInsRepository,
        settings: GuildSettingsRepository,
        clock: Clock,
        streaks: Streaks | None = None,
    ) -> None:
        self._checkins = checkins
        self._settings = settings
        self._clock = clock
        self._streaks = streaks or Streaks()

    async def record(
        self,
        guild_id: int,
        user_id: int,
        *,
        hours: float | None = None,
        done: str | None = None,
        next_steps: str | None = None,
        blockers: str | None = None,
        mood: int | None = None,
    ) -> CheckInResult:
        """Record today's check-in (or update it) and return it with the week's hours and
        the streak. Values left as None are not given: a stored value for them is kept."""
        values: dict[str, Any] = {
            "hours": valid_hours(hours),
            "done": valid_note("Done", done),
            "next_steps": valid_note("Next", next_steps),
            "blockers": valid_note("Blockers", blockers),
            "mood": valid_mood(mood),
        }
        given = {name: value for name, value in values.items() if value is not None}
        now = self._clock.now()
        recorded = await self._checkins.record_for_member(
            guild_id, user_id, now, partial(day_and_week, now), **given
        )
        week = calendar_week(recorded.calendar, now)
        weeks = [w for w in recorded.weeks if w.week_key <= week.end_date]
        hours = sum(w.hours for w in weeks if w.week_key >= week.key)
        keys = [w.week_key for w in weeks]
        streak_weeks = await self._streaks.count(guild_id, user_id, keys, week)
        return CheckInResult(recorded.checkin, week, hours, streak_weeks)

    async def record_form(
        self,
        guild_id: int,
        user_id: int,
        *,
        hours: str = "",
        done: str = "",
        next_steps: str = "",
        blockers: str = "",
        mood: str = "",
    ) -> CheckInResult:
        """Record a check-in from a modal, where every answer arrives as text."""
        return await self.record(
            guild_id,
            user_id,
            hours=parse_hours(hours),
            done=done,
            next_steps=next_steps,
            blockers=blockers,
            mood=parse_mood(mood),
        )

    async def streak(self, guild_id: int, user_id: int) -> int:
        week = study_week(await self._settings.get(guild_id), self._clock.now())
        weeks = await self._checkins.weekly(guild_id, user_id, None, week.end_date)
        return await self._streaks.count(guild_id, user_id, [w.week_key for w in weeks], week)
