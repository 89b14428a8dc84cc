"""Read-only group figures over goals and check-ins for scheduled posts (summary, nudges).

Weeks are given as the first and last local date of a study week, like the goals and check-ins
repositories: rows filed under any key inside the range belong to it. Everything is aggregated
in SQL so a summary of thousands of members is a handful of queries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Integer, cast, func, literal, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from db.schema.goals import checkins, goals

# Batches of ids in one IN (…) list stay well under both backends' parameter limits.
_BATCH = 500


def _days_before(dialect: str, day: date, column: Any) -> Any:
    """Whole days from `column` (a date) to `day`, in SQL."""
    if dialect == "sqlite":
        return cast(func.julianday(literal(day.isoformat())) - func.julianday(column), Integer)
    return literal(day) - column


class StudySummaryRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def member_hours(
        self, guild_id: int, first_day: date, last_day: date
    ) -> dict[int, float]:
        """Members who checked in during the week → the hours they reported."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(checkins.c.user_id, func.coalesce(func.sum(checkins.c.hours), 0.0))
                .where(
                    checkins.c.guild_id == guild_id,
                    checkins.c.week_key.between(first_day, last_day),
                )
                .group_by(checkins.c.user_id)
            )
            return {user_id: float(hours) for user_id, hours in rows}

    async def checked_in(
        self, guild_id: int, first_day: date, last_day: date, user_ids: Sequence[int]
    ) -> set[int]:
        """Which of these members checked in during the week."""
        found: set[int] = set()
        async with self._engine.connect() as conn:
            for batch in _batches(user_ids):
                rows = await conn.execute(
                    select(checkins.c.user_id)
                    .distinct()
                    .where(
                        checkins.c.guild_id == guild_id,
                        checkins.c.week_key.between(first_day, last_day),
                        checkins.c.user_id.in_(batch),
                    )
                )
                found.update(user_id for (user_id,) in rows)
        return found

    async def open_goals(
        self, guild_id: int, first_day: date, last_day: date, user_ids: Sequence[int]
    ) -> dict[int, list[str]]:
        """These members' unfinished goals of the week, in slot order."""
        found: dict[int, list[str]] = defaultdict(list)
        async with self._engine.connect() as conn:
            for batch in _batches(user_ids):
                rows = await conn.execute(
                    select(goals.c.user_id, goals.c.text)
                    .where(
                        goals.c.guild_id == guild_id,
                        goals.c.week_key.between(first_day, last_day),
                        goals.c.user_id.in_(batch),
                        goals.c.done_at.is_(None),
                    )
                    .order_by(goals.c.user_id, goals.c.week_key, goals.c.slot)
                )
                for user_id, text in rows:
                    found[user_id].append(text)
        return dict(found)

    async def top_streaks(
        self, guild_id: int, week_start: date, last_day: date, limit: int
    ) -> list[tuple[int, int]]:
        """(member, streak) for the longest streaks, longest first (ties by member id).

        A streak is consecutive study weeks with a check-in, ending this week or last (as
        bot.domain.weeks.streak). Keys are mapped to the current week start, so a change of
        week start keeps old check-ins counting: weeks_ago = ceil(days before week start / 7).
        """
        async with self._engine.connect() as conn:
            return await self._top_streaks(conn, guild_id, week_start, last_day, limit)

    @staticmethod
    async def _top_streaks(
        conn: AsyncConnection, guild_id: int, week_start: date, last_day: date, limit: int
    ) -> list[tuple[int, int]]:
        days = _days_before(conn.dialect.name, week_start, checkins.c.week_key)
        weeks_ago = ((days + 6) // 7).label("weeks_ago")  # days + 6 >= 0: no negative floors
        per_week = (
            select(checkins.c.user_id, weeks_ago)
            .where(checkins.c.guild_id == guild_id, checkins.c.week_key <= last_day)
            .group_by(checkins.c.user_id, weeks_ago)
            .subquery()
        )
        ranked = select(
            per_week.c.user_id,
            per_week.c.weeks_ago,
            func.row_number()
            .over(partition_by=per_week.c.user_id, order_by=per_week.c.weeks_ago)
            .label("rn"),
            func.min(per_week.c.weeks_ago).over(partition_by=per_week.c.user_id).label("first"),
        ).subquery()
        # The leading run of consecutive weeks is where weeks_ago - (rn - 1) stays at its first
        # value; it counts only if it reaches this week or last week.
        streak = func.count().label("streak")
        query = (
            select(ranked.c.user_id, streak)
            .where(
                ranked.c.first <= 1,
                ranked.c.weeks_ago - ranked.c.rn + 1 == ranked.c.first,
            )
            .group_by(ranked.c.user_id)
            .order_by(streak.desc(), ranked.c.user_id)
            .limit(limit)
        )
        return [(user_id, int(count)) for user_id, count in await conn.execute(query)]


def _batches(ids: Sequence[int]) -> list[Sequence[int]]:
    return [ids[i : i + _BATCH] for i in range(0, len(ids), _BATCH)]
