"""Per-member, per-week figures of a whole guild, for the moderators' overview and CSV export.

Everything is aggregated in SQL (GROUP BY member and week key). The export walks the members in
pages (keyset on the member id) so a guild of thousands never sits in memory at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, func, literal, select, union
from sqlalchemy.ext.asyncio import AsyncEngine

from db.schema.goals import checkins, goals

# Ids in one IN (…) list: well under both backends' parameter limits.
_BATCH = 500


@dataclass(frozen=True)
class MemberWeek:
    """One member's activity under one week key (a week with nothing is absent)."""

    user_id: int
    week_key: date
    goals_set: int = 0
    goals_done: int = 0
    check_ins: int = 0
    hours: float = 0.0
    # The latest change to a goal or check-in filed under this week.
    last_at: datetime | None = None


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None or b is None:
        return a or b
    return max(a, b)


def _batches(ids: Sequence[int]) -> list[Sequence[int]]:
    return [ids[i : i + _BATCH] for i in range(0, len(ids), _BATCH)]


class GroupRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def member_ids(self, guild_id: int, *, after: int | None, limit: int) -> list[int]:
        """The next `limit` members (by id, above `after`) who ever set a goal or checked in."""
        with_goals = select(goals.c.user_id).where(goals.c.guild_id == guild_id)
        with_checkins = select(checkins.c.user_id).where(checkins.c.guild_id == guild_id)
        if after is not None:
            with_goals = with_goals.where(goals.c.user_id > after)
            with_checkins = with_checkins.where(checkins.c.user_id > after)
        members = union(with_goals, with_checkins).subquery()
        query = select(members.c.user_id).order_by(members.c.user_id).limit(limit)
        async with self._engine.connect() as conn:
            return [user_id for (user_id,) in await conn.execute(query)]

    async def member_weeks(
        self,
        guild_id: int,
        first_day: date | None,
        last_day: date,
        user_ids: Sequence[int] | None = None,
        *,
        with_last_at: bool = True,
    ) -> list[MemberWeek]:
        """Goals set and done, check-ins, hours and (unless not wanted) the latest change, per
        member and week key between the two dates (None: from the very first), ordered by
        member and week."""
        goal_stats: dict[tuple[int, date], tuple[int, int, datetime | None]] = {}
        checkin_stats: dict[tuple[int, date], tuple[int, float, datetime | None]] = {}
        batches: list[Sequence[int] | None] = (
            [None] if user_ids is None else list(_batches(user_ids))
        )
        async with self._engine.connect() as conn:
            for batch in batches:
                goal_rows = await conn.execute(
                    select(
                        goals.c.user_id,
                        goals.c.week_key,
                        func.count(),
                        func.count(goals.c.done_at),
                        func.max(goals.c.updated_at) if with_last_at else literal(None),
                    )
                    .where(*_range(goals.c, guild_id, first_day, last_day, batch))
                    .group_by(goals.c.user_id, goals.c.week_key)
                )
                for user_id, week_key, total, done, last_at in goal_rows:
                    goal_stats[(user_id, week_key)] = (total, done, last_at)
                checkin_rows = await conn.execute(
                    select(
                        checkins.c.user_id,
                        checkins.c.week_key,
                        func.count(),
                        func.coalesce(func.sum(checkins.c.hours), 0.0),
                        func.max(checkins.c.updated_at) if with_last_at else literal(None),
                    )
                    .where(*_range(checkins.c, guild_id, first_day, last_day, batch))
                    .group_by(checkins.c.user_id, checkins.c.week_key)
                )
                for user_id, week_key, days, hours, last_at in checkin_rows:
                    checkin_stats[(user_id, week_key)] = (days, float(hours), last_at)
        weeks = []
        no_goals: tuple[int, int, datetime | None] = (0, 0, None)
        no_checkins: tuple[int, float, datetime | None] = (0, 0.0, None)
        for key in sorted(goal_stats.keys() | checkin_stats.keys()):
            total, done, goal_at = goal_stats.get(key, no_goals)
            days, hours, checkin_at = checkin_stats.get(key, no_checkins)
            weeks.append(
                MemberWeek(key[0], key[1], total, done, days, hours, _latest(goal_at, checkin_at))
            )
        return weeks


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
