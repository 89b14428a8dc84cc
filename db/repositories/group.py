"""Per-member, per-week figures of a whole guild, for the moderators' overview and CSV export.

Everything is aggregated in SQL. The overview reads one row per member with its recent weeks
side by side; the export reads one row per member and week key, walking the members in pages
(keyset on the member id) so a guild of thousands never sits in memory at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.dialect import batches
from db.member_ids import member_page
from db.schema.goals import checkins, goals

# Ids in one IN (…) list: well under both backends' parameter limits.


@dataclass(frozen=True)
class MemberWeek:
    """One member's activity under one week key (a week with nothing is absent)."""

    user_id: int
    week_key: date
    goals_set: int = 0
    goals_done: int = 0
    check_ins: int = 0
    hours: float = 0.0


@dataclass(frozen=True)
class RecentActivity:
    """One member's activity in consecutive study weeks, index 0 the newest."""

    user_id: int
    goals_set: tuple[int, ...]
    goals_done: tuple[int, ...]
    check_ins: tuple[int, ...]
    hours: tuple[float, ...]


def _counts(sums: Sequence[Any]) -> tuple[int, ...]:
    """Sums of counts (NULL for a week without rows; PostgreSQL sums counts as numeric)."""
    return tuple(int(v or 0) for v in sums)


class GroupRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def member_ids(self, guild_id: int, *, after: int | None, limit: int) -> list[int]:
        """The next `limit` members (by id, above `after`) who ever set a goal or checked in."""
        sources = [
            (goals.c.user_id, goals.c.guild_id == guild_id),
            (checkins.c.user_id, checkins.c.guild_id == guild_id),
        ]
        return await member_page(self._engine, sources, after, limit)

    async def recent_activity(
        self, guild_id: int, week_starts: Sequence[date], last_day: date
    ) -> list[RecentActivity]:
        """Per member, their goals set and done, check-ins and hours in each study week, for
        weeks starting on `week_starts` (newest first, a week apart; the newest ends on
        `last_day`); members with nothing in any of them are absent. Ordered by member.

        A week holds every key from its start to the next one's, so keys filed under an
        earlier week start count in the week that contains them. The weeks are pivoted in
        SQL, over rows already grouped by member and key (the index's order), so a guild of
        5,000 members is 10,000 rows to convert rather than about 70,000.
        """
        ends = [last_day, *(start - timedelta(days=1) for start in week_starts[:-1])]
        n = len(week_starts)

        def pivot(table: Any, *figures: ColumnElement[Any]) -> Select[Any]:
            """Each figure of `table`, summed per member and week."""
            per_key = (
                select(table.c.user_id, table.c.week_key, *figures)
                .where(*_range(table.c, guild_id, week_starts[-1], last_day, None))
                .group_by(table.c.user_id, table.c.week_key)
                .subquery()
            )
            key = per_key.c.week_key
            return select(
                per_key.c.user_id,
                *(
                    func.sum(case((and_(key >= start, key <= end), column)))
                    for column in list(per_key.c)[2:]
                    for start, end in zip(week_starts, ends, strict=True)
                ),
            ).group_by(per_key.c.user_id)

        goal_query = pivot(
            goals, func.count().label("set"), func.count(goals.c.done_at).label("done")
        )
        checkin_query = pivot(
            checkins, func.count().label("days"), func.sum(checkins.c.hours).label("hours")
        )
        async with self._engine.connect() as conn:
            goal_rows = {
                user_id: (_counts(sums[:n]), _counts(sums[n:]))
                for user_id, *sums in await conn.execute(goal_query)
            }
            checkin_rows = {
                user_id: (_counts(sums[:n]), tuple(float(h or 0.0) for h in sums[n:]))
                for user_id, *sums in await conn.execute(checkin_query)
            }
        nothing = ((0,) * n, (0,) * n)
        no_hours = ((0,) * n, (0.0,) * n)
        return [
            RecentActivity(
                user_id, *goal_rows.get(user_id, nothing), *checkin_rows.get(user_id, no_hours)
            )
            for user_id in sorted(goal_rows.keys() | checkin_rows.keys())
        ]

    async def last_changes(
        self, guild_id: int, user_ids: Sequence[int], first_day: date, last_day: date
    ) -> dict[int, datetime]:
        """The latest change to each member's goals or check-ins filed under week keys between
        the two dates; members without any are absent."""
        found: dict[int, datetime] = {}
        async with self._engine.connect() as conn:
            for batch in batches(user_ids):
                for table in (goals, checkins):
                    rows = await conn.execute(
                        select(table.c.user_id, func.max(table.c.updated_at))
                        .where(*_range(table.c, guild_id, first_day, last_day, batch))
                        .group_by(table.c.user_id)
                    )
                    for user_id, at in rows:
                        found[user_id] = max(at, found.get(user_id, at))
        return found

    async def member_weeks(
        self,
        guild_id: int,
        first_day: date | None,
        last_day: date,
        user_ids: Sequence[int] | None = None,
    ) -> list[MemberWeek]:
        """Goals set and done, check-ins and hours per member and week key between the two
        dates (None: from the very first), ordered by member and week."""
        goal_stats: dict[tuple[int, date], tuple[int, int]] = {}
        checkin_stats: dict[tuple[int, date], tuple[int, float]] = {}
        slices: list[Sequence[int] | None] = (
            [None] if user_ids is None else list(batches(user_ids))
        )
        async with self._engine.connect() as conn:
            for batch in slices:
                goal_rows = await conn.execute(
                    select(
                        goals.c.user_id,
                        goals.c.week_key,
                        func.count(),
                        func.count(goals.c.done_at),
                    )
                    .where(*_range(goals.c, guild_id, first_day, last_day, batch))
                    .group_by(goals.c.user_id, goals.c.week_key)
                )
                for user_id, week_key, total, done in goal_rows:
                    goal_stats[(user_id, week_key)] = (total, done)
                checkin_rows = await conn.execute(
                    select(
                        checkins.c.user_id,
                        checkins.c.week_key,
                        func.count(),
                        func.coalesce(func.sum(checkins.c.hours), 0.0),
                    )
                    .where(*_range(checkins.c, guild_id, first_day, last_day, batch))
                    .group_by(checkins.c.user_id, checkins.c.week_key)
                )
                for user_id, week_key, days, hours in checkin_rows:
                    checkin_stats[(user_id, week_key)] = (days, float(hours))
        return [
            MemberWeek(
                key[0], key[1], *goal_stats.get(key, (0, 0)), *checkin_stats.get(key, (0, 0.0))
            )
            for key in sorted(goal_stats.keys() | checkin_stats.keys())
        ]


def _range(
    columns: Any,
    guild_id: int,
    first_day: date | None,
    last_day: date,
    user_ids: Sequence[int] | None,
) -> list[ColumnElement[bool]]:
    where = [columns.guild_id == guild_id, columns.week_key <= last_day]
    if first_day is not None:
        where.append(columns.week_key >= first_day)
    if user_ids is not None:
        where.append(columns.user_id.in_(user_ids))
    return where
