"""`/me away`: time off (holiday, exams, illness) that Cohort works around.

While a member is away they get no DM nudges, no review assignments (reviews they owe move to
others, as with `/review pause`), weeks they were away neither count nor break their streak, and
their plan's target moves by as long as they are away. Coming back early (`/me away 0`) ends the
period now, so the target moves only by the time actually spent away.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.clock import Clock
from bot.domain.plans import AWAY_WEEKS_MAX, AwaySpan, away_weeks
from bot.domain.weeks import StudyWeek, week_containing
from bot.errors import InvalidInput
from bot.services.reviews import Paused, ReviewService
from db.repositories.plans import Away, PlansRepository


@dataclass(frozen=True)
class AwayOutcome:
    """``until`` is None when the member came back; ``paused`` is the review side."""

    until: datetime | None
    was_away: bool
    paused: Paused | None = None


class AwayService:
    def __init__(self, plans: PlansRepository, reviews: ReviewService, clock: Clock) -> None:
        self._plans = plans
        self._reviews = reviews
        self._clock = clock

    async def go(self, guild_id: int, user_id: int, weeks: int) -> AwayOutcome:
        if not 0 <= weeks <= AWAY_WEEKS_MAX:
            raise InvalidInput(f"Away lasts 1 to {AWAY_WEEKS_MAX} weeks; 0 means you're back.")
        now = self._clock.now()
        if weeks == 0:
            was_away = await self._plans.come_back(guild_id, user_id, now)
            await self._reviews.resume(guild_id, user_id)
            return AwayOutcome(None, was_away)
        was_away = bool(await self._plans.away_now(guild_id, [user_id], now))
        until = now + timedelta(weeks=weeks)
        await self._plans.go_away(guild_id, user_id, now, until)
        paused = await self._reviews.pause(guild_id, user_id, weeks)
        return AwayOutcome(until, was_away, paused)

    async def away_now(self, guild_id: int, user_ids: Sequence[int]) -> set[int]:
        return await self._plans.away_now(guild_id, list(user_ids), self._clock.now())

    async def members_away(self, guild_id: int) -> set[int]:
        """Members of the guild away right now."""
        now = self._clock.now()
        periods = await self._plans.away_periods(guild_id)
        return {
            user_id
            for user_id, spans in periods.items()
            if any(p.starts_at <= now < p.ends_at for p in spans)
        }

    async def weeks_away(self, guild_id: int, user_id: int, current: StudyWeek) -> set[date]:
        """Keys of the study weeks (calendar of ``current``) the member was away for at least
        half of, up to the current week."""
        periods = (await self._plans.away_periods(guild_id, [user_id])).get(user_id, [])
        return _weeks_away(periods, current)

    async def guild_weeks_away(self, guild_id: int, current: StudyWeek) -> dict[int, set[date]]:
        """The same for every member who was ever away (for the summary's longest streaks)."""
        periods = await self._plans.away_periods(guild_id)
        found = {user_id: _weeks_away(spans, current) for user_id, spans in periods.items()}
        return {user_id: weeks for user_id, weeks in found.items() if weeks}


def _weeks_away(periods: Sequence[Away], current: StudyWeek) -> set[date]:
    spans = [AwaySpan(p.starts_at, p.ends_at) for p in periods]
    weeks: dict[date, StudyWeek] = {}
    for span in spans:
        week = week_containing(span.start, current.tz, current.week_start)
        while week.start_utc < span.end and week.key <= current.key:
            weeks[week.key] = week
            week = week.next()
    return away_weeks(spans, weeks.values())
