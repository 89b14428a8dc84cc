"""Use-case behind /progress: a member's recent weeks in numbers and as a chart.

Per-week figures come from GROUP BY week_key queries; the chart is rendered in a worker
thread so the event loop keeps answering other members meanwhile.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime

from bot.charts import ProgressChartData, WeekPoint, render_progress_chart
from bot.clock import Clock
from bot.domain.weeks import StudyWeek, week_of
from bot.errors import InvalidInput
from bot.services.checkins import Streaks
from bot.services.goals import study_week
from db.repositories.checkins import CheckInsRepository
from db.repositories.goals import GoalsRepository
from db.repositories.guild_settings import GuildSettingsRepository

WEEKS_MIN, WEEKS_MAX, WEEKS_DEFAULT = 1, 52, 8


@dataclass(frozen=True)
class WeekProgress:
    week_start: date
    # None when the member did not check in that week.
    hours: float | None
    check_ins: int
    goals_done: int
    goals_set: int


@dataclass(frozen=True)
class Progress:
    guild_id: int
    user_id: int
    # Oldest first; the last one is the current study week.
    weeks: tuple[WeekProgress, ...]
    current_week: StudyWeek
    streak: int
    last_check_in: datetime | None

    @property
    def this_week(self) -> WeekProgress:
        return self.weeks[-1]

    @property
    def first_week_start(self) -> date:
        return self.weeks[0].week_start

    @property
    def total_hours(self) -> float:
        return sum(week.hours or 0.0 for week in self.weeks)

    @property
    def average_hours(self) -> float:
        """Hours per week over the whole range (weeks without a check-in count as zero)."""
        return self.total_hours / len(self.weeks)


class ProgressService:
    def __init__(
        self,
        goals: GoalsRepository,
        checkins: CheckInsRepository,
        settings: GuildSettingsRepository,
        clock: Clock,
        streaks: Streaks | None = None,
    ) -> None:
        self._goals = goals
        self._checkins = checkins
        self._settings = settings
        self._clock = clock
        self._streaks = streaks or Streaks()

    async def progress(self, guild_id: int, user_id: int, weeks: int = WEEKS_DEFAULT) -> Progress:
        if not WEEKS_MIN <= weeks <= WEEKS_MAX:
            raise InvalidInput(f"Show between {WEEKS_MIN} and {WEEKS_MAX} weeks.")
        settings = await self._settings.get(guild_id)
        current = study_week(settings, self._clock.now())
        first_key = current.key.toordinal() - 7 * (weeks - 1)
        first = date.fromordinal(first_key)
        goal_weeks, all_checkin_weeks, last_at = await asyncio.gather(
            self._goals.weekly(guild_id, user_id, first, current.end_date),
            # Every week, not only the range: the streak may be longer than the range.
            self._checkins.weekly(guild_id, user_id, None, current.end_date),
            self._checkins.last_at(guild_id, user_id),
        )
        checkin_weeks = [w for w in all_checkin_weeks if w.week_key >= first]

        def start_of(key: date) -> date:
            # Keys filed under an earlier week start count in the week that contains them.
            return week_of(key, current.tz, current.week_start).key

        starts = [date.fromordinal(first_key + 7 * i) for i in range(weeks)]
        hours: dict[date, float] = {}
        days: dict[date, int] = {}
        done: dict[date, int] = {}
        total: dict[date, int] = {}
        for row in checkin_weeks:
            start = start_of(row.week_key)
            hours[start] = hours.get(start, 0.0) + row.hours
            days[start] = days.get(start, 0) + row.days
        for goal_row in goal_weeks:
            start = start_of(goal_row.week_key)
            done[start] = done.get(start, 0) + goal_row.done
            total[start] = total.get(start, 0) + goal_row.total
        return Progress(
            guild_id=guild_id,
            user_id=user_id,
            weeks=tuple(
                WeekProgress(
                    week_start=start,
                    hours=hours.get(start) if start in days else None,
                    check_ins=days.get(start, 0),
                    goals_done=done.get(start, 0),
                    goals_set=total.get(start, 0),
                )
                for start in starts
            ),
            current_week=current,
            streak=await self._streaks.count(
                guild_id, user_id, [w.week_key for w in all_checkin_weeks], current
            ),
            last_check_in=last_at,
        )

    @staticmethod
    def chart_data(progress: Progress, display_name: str) -> ProgressChartData:
        return ProgressChartData(
            display_name=display_name,
            weeks=tuple(
                WeekPoint(
                    week_start=week.week_start,
                    hours=week.hours,
                    goals_done=week.goals_done,
                    goals_set=week.goals_set,
                )
                for week in progress.weeks
            ),
        )

    async def chart(self, progress: Progress, display_name: str) -> bytes:
        """The progress chart as PNG bytes, rendered off the event loop."""
        return await asyncio.to_thread(
            render_progress_chart, self.chart_data(progress, display_name)
        )
