"""Use-cases for weekly goals: add, list, done, edit, remove, carry over, autocomplete.

Goals belong to the study week of the guild (its timezone and week start) that contains the
moment they are added. Every change names the caller's guild and user, so a goal id of another
member or guild is "not found" rather than changed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.domain.weeks import StudyWeek, parse_timezone, week_containing
from bot.errors import InvalidInput, LimitReached, NotFound, UserError
from bot.formatting import one_line
from db.repositories.goals import Goal, GoalsRepository
from db.repositories.guild_settings import GuildSettings, GuildSettingsRepository

GOALS_PER_WEEK = 10
GOAL_TEXT_MAX = 200
GOAL_HOURS_MIN = 0.5
GOAL_HOURS_MAX = 80.0
# Discord shows at most 25 autocomplete choices.
MAX_SUGGESTIONS = 25

WeekChoice = Literal["this", "last", "next"]
NO_SUCH_GOAL = "There's no such goal of yours — pick one from the list as you type."


@lru_cache(maxsize=512)
def zone_named(name: str) -> ZoneInfo:
    """The zone for a stored name; UTC if the system no longer knows it."""
    try:
        return parse_timezone(name)
    except UserError:
        return ZoneInfo("UTC")


def study_week(settings: GuildSettings, moment: datetime) -> StudyWeek:
    """The guild's study week containing `moment`."""
    return week_containing(moment, zone_named(settings.timezone), settings.week_start)


def parse_number(text: str) -> float | None:
    """A number typed into a form ("2", "1.5", "1,5", "2h"); None when the field is empty."""
    value = text.strip().lower().removesuffix("hours").removesuffix("h").strip()
    if not value:
        return None
    try:
        number = float(value.replace(",", "."))
    except ValueError:
        return math.nan
    return number


def valid_goal_text(text: str) -> str:
    cleaned = one_line(text)
    if not cleaned:
        raise InvalidInput("A goal needs some text, for example “Finish module 3 videos”.")
    if len(cleaned) > GOAL_TEXT_MAX:
        raise InvalidInput(
            f"A goal is at most {GOAL_TEXT_MAX} characters (yours has {len(cleaned)})."
        )
    return cleaned


def valid_goal_hours(hours: float | None) -> float | None:
    if hours is None:
        return None
    if not math.isfinite(hours) or not GOAL_HOURS_MIN <= hours <= GOAL_HOURS_MAX:
        raise InvalidInput("Planned hours must be a number between 0.5 and 80.")
    return float(hours)


@dataclass(frozen=True)
class WeekGoals:
    """A member's goals in one study week."""

    week: StudyWeek
    goals: tuple[Goal, ...]

    @property
    def done(self) -> int:
        return sum(goal.done for goal in self.goals)

    @property
    def hours_planned(self) -> float:
        return sum(goal.hours or 0.0 for goal in self.goals)


@dataclass(frozen=True)
class Done:
    goal: Goal
    # False when the goal was already done.
    newly_done: bool
    week: WeekGoals


@dataclass(frozen=True)
class Carried:
    week: StudyWeek
    copied: tuple[Goal, ...]
    already: int
    skipped: int


class GoalsService:
    def __init__(
        self, goals: GoalsRepository, settings: GuildSettingsRepository, clock: Clock
    ) -> None:
        self._goals = goals
        self._settings = settings
        self._clock = clock

    async def current_week(self, guild_id: int) -> StudyWeek:
        return study_week(await self._settings.get(guild_id), self._clock.now())

    async def add(self, guild_id: int, user_id: int, text: str, hours: float | None) -> Goal:
        """Add a goal to the member's current study week (at most ten a week)."""
        cleaned = valid_goal_text(text)
        planned = valid_goal_hours(hours)
        week = await self.current_week(guild_id)
        goal = await self._goals.add(
            guild_id, user_id, week.key, cleaned, planned, self._clock.now(), limit=GOALS_PER_WEEK
        )
        if goal is None:
            raise LimitReached(
                f"You already have {GOALS_PER_WEEK} goals this week — finish or remove one first."
            )
        return goal

    async def add_from_form(self, guild_id: int, user_id: int, text: str, hours_text: str) -> Goal:
        """Add a goal from a modal, where hours arrive as typed text."""
        return await self.add(guild_id, user_id, text, parse_number(hours_text))

    async def week_goals(
        self, guild_id: int, user_id: int, which: WeekChoice = "this"
    ) -> WeekGoals:
        week = await self.current_week(guild_id)
        if which == "last":
            week = week.previous()
        elif which == "next":
            week = week.next()
        elif which != "this":
            raise InvalidInput("The week is one of this, last or next.")
        goals = await self._goals.for_member_week(guild_id, user_id, week.key, week.end_date)
        return WeekGoals(week, tuple(goals))

    async def mark_done(self, guild_id: int, user_id: int, goal_id: int) -> Done:
        outcome = await self._goals.mark_done(guild_id, user_id, goal_id, self._clock.now())
        if outcome is None:
            raise NotFound(NO_SUCH_GOAL)
        goal, newly = outcome
        return Done(goal, newly, await self.week_goals(guild_id, user_id))

    async def edit(self, guild_id: int, user_id: int, goal_id: int, text: str) -> Goal:
        cleaned = valid_goal_text(text)
        goal = await self._goals.edit_text(guild_id, user_id, goal_id, cleaned, self._clock.now())
        if goal is None:
            raise NotFound(NO_SUCH_GOAL)
        return goal

    async def remove(self, guild_id: int, user_id: int, goal_id: int) -> Goal:
        goal = await self._goals.remove(guild_id, user_id, goal_id)
        if goal is None:
            raise NotFound(NO_SUCH_GOAL)
        return goal

    async def carry(self, guild_id: int, user_id: int) -> Carried:
        """Copy last week's unfinished goals into this week, each once, within the limit."""
        week = await self.current_week(guild_id)
        last = week.previous()
        outcome = await self._goals.carry(
            guild_id,
            user_id,
            (last.key, last.end_date),
            week.key,
            self._clock.now(),
            limit=GOALS_PER_WEEK,
        )
        return Carried(week, outcome.copied, outcome.already, outcome.skipped)

    async def suggestions(
        self, guild_id: int, user_id: int, typed: str, *, open_only: bool = False
    ) -> list[Goal]:
        """The caller's own goals of this week matching what was typed (for autocomplete)."""
        week = await self.week_goals(guild_id, user_id)
        needle = one_line(typed).casefold()
        matches = [
            goal
            for goal in week.goals
            if not (open_only and goal.done)
            and (not needle or needle in goal.text.casefold() or str(goal.id) == needle)
        ]
        return matches[:MAX_SUGGESTIONS]
