"""Weekly goals: add into a free slot, mark done, edit, remove, carry over, weekly counts.

Every change is scoped by (guild_id, user_id) in its WHERE clause, so a goal id from another
member or guild matches nothing. Week ranges are given as the first and last local date of a
study week: goals filed under any key inside it belong to it (keys stay valid when a guild
changes its week start).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from db.dialect import insert
from db.schema.goals import GOALS_PER_WEEK, goals
from db.types import AnyRow

# More attempts than slots: each failed attempt means a concurrent writer took a slot.
_MAX_ATTEMPTS = GOALS_PER_WEEK + 5


@dataclass(frozen=True)
class Goal:
    id: int
    guild_id: int
    user_id: int
    week_key: date
    slot: int
    text: str
    hours: float | None
    done_at: datetime | None
    carried_from: int | None
    created_at: datetime

    @property
    def done(self) -> bool:
        return self.done_at is not None


@dataclass(frozen=True)
class WeekGoals:
    """One member's goals in one week, counted in SQL."""

    week_key: date
    total: int
    done: int
    hours_planned: float


@dataclass(frozen=True)
class GuildWeekGoals:
    """A guild's goals in one week: members who set any, goals set and done."""

    week_key: date
    members: int
    total: int
    done: int


@dataclass(frozen=True)
class CarryOutcome:
    copied: tuple[Goal, ...]
    # Copied earlier (by a previous or concurrent carry).
    already: int
    # Left behind because the week was full.
    skipped: int


_COLUMNS = (
    goals.c.id,
    goals.c.guild_id,
    goals.c.user_id,
    goals.c.week_key,
    goals.c.slot,
    goals.c.text,
    goals.c.hours,
    goals.c.done_at,
    goals.c.carried_from,
    goals.c.created_at,
)


def _goal(row: AnyRow) -> Goal:
    values = dict(row._mapping)
    if values["hours"] is not None:  # SQLite may hand back 2.0 as 2
        values["hours"] = float(values["hours"])
    return Goal(**values)


def _insert(dialect: str) -> Any:
    return insert(dialect, goals)


def _in_week(first_day: date, last_day: date) -> ColumnElement[bool]:
    return goals.c.week_key.between(first_day, last_day)


class GoalsRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def for_member_week(
        self, guild_id: int, user_id: int, first_day: date, last_day: date
    ) -> list[Goal]:
        """The member's goals of one study week, in the order they were added."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(*_COLUMNS)
                .where(
                    goals.c.guild_id == guild_id,
                    goals.c.user_id == user_id,
                    _in_week(first_day, last_day),
                )
                .order_by(goals.c.id)
            )
            return [_goal(row) for row in rows]

    async def get(self, guild_id: int, user_id: int, goal_id: int) -> Goal | None:
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(select(*_COLUMNS).where(_owned(guild_id, user_id, goal_id)))
            ).first()
        return _goal(row) if row else None

    async def add(
        self,
        guild_id: int,
        user_id: int,
        week_key: date,
        text: str,
        hours: float | None,
        now: datetime,
        *,
        limit: int = GOALS_PER_WEEK,
    ) -> Goal | None:
        """Add a goal in the first free slot of the week; None when all `limit` slots are taken."""
        for _ in range(_MAX_ATTEMPTS):
            slot = _first_free(await self._used_slots(guild_id, user_id, week_key), limit)
            if slot is None:
                return None
            goal = await self._insert_into_slot(
                guild_id, user_id, week_key, slot, text, hours, None, now
            )
            if goal is not None:
                return goal
        raise RuntimeError("could not find a free goal slot: too much contention")

    async def carry(
        self,
        guild_id: int,
        user_id: int,
        source: tuple[date, date],
        target_key: date,
        now: datetime,
        *,
        limit: int = GOALS_PER_WEEK,
    ) -> CarryOutcome:
        """Copy the open goals of the `source` week (first, last day) into week `target_key`.

        Each goal is carried at most once: the unique carried_from column makes repeated and
        concurrent carries safe.
        """
        async with self._engine.connect() as conn:
            open_goals = [
                _goal(row)
                for row in await conn.execute(
                    select(*_COLUMNS)
                    .where(
                        goals.c.guild_id == guild_id,
                        goals.c.user_id == user_id,
                        _in_week(*source),
                        goals.c.done_at.is_(None),
                    )
                    .order_by(goals.c.id)
                )
            ]
            carried = await _already_carried(conn, [g.id for g in open_goals])
        copied: list[Goal] = []
        already = skipped = 0
        for source_goal in open_goals:
            if source_goal.id in carried:
                already += 1
                continue
            outcome = await self._carry_one(source_goal, target_key, now, limit)
            if isinstance(outcome, Goal):
                copied.append(outcome)
            elif outcome == "full":
                skipped += 1
            else:
                already += 1
        return CarryOutcome(tuple(copied), already, skipped)

    async def mark_done(
        self, guild_id: int, user_id: int, goal_id: int, now: datetime
    ) -> tuple[Goal, bool] | None:
        """Mark the member's goal done: (goal, True) if it was open, (goal, False) if it was done
        already; None when the member has no such goal."""
        async with self._engine.begin() as conn:
            row = (
                await conn.execute(
                    update(goals)
                    .where(_owned(guild_id, user_id, goal_id), goals.c.done_at.is_(None))
                    .values(done_at=now, updated_at=now)
                    .returning(*_COLUMNS)
                )
            ).first()
        if row is not None:
            return _goal(row), True
        existing = await self.get(guild_id, user_id, goal_id)
        return (existing, False) if existing else None

    async def edit_text(
        self, guild_id: int, user_id: int, goal_id: int, text: str, now: datetime
    ) -> Goal | None:
        async with self._engine.begin() as conn:
            row = (
                await conn.execute(
                    update(goals)
                    .where(_owned(guild_id, user_id, goal_id))
                    .values(text=text, updated_at=now)
                    .returning(*_COLUMNS)
                )
            ).first()
        return _goal(row) if row else None

    async def remove(self, guild_id: int, user_id: int, goal_id: int) -> Goal | None:
        async with self._engine.begin() as conn:
            row = (
                await conn.execute(
                    delete(goals).where(_owned(guild_id, user_id, goal_id)).returning(*_COLUMNS)
                )
            ).first()
        return _goal(row) if row else None

    async def weekly(
        self, guild_id: int, user_id: int, first_day: date, last_day: date
    ) -> list[WeekGoals]:
        """Per week key between the two dates (inclusive): goals set, done and hours planned."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(
                    goals.c.week_key,
                    func.count().label("total"),
                    func.count(goals.c.done_at).label("done"),
                    func.coalesce(func.sum(goals.c.hours), 0.0).label("hours_planned"),
                )
                .where(
                    goals.c.guild_id == guild_id,
                    goals.c.user_id == user_id,
                    _in_week(first_day, last_day),
                )
                .group_by(goals.c.week_key)
                .order_by(goals.c.week_key)
            )
            return [
                WeekGoals(row.week_key, row.total, row.done, float(row.hours_planned))
                for row in rows
            ]

    async def guild_weekly(
        self, guild_id: int, first_day: date, last_day: date
    ) -> list[GuildWeekGoals]:
        """Per week key of a guild: members who set goals, goals set, goals done."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(
                    goals.c.week_key,
                    func.count(goals.c.user_id.distinct()).label("members"),
                    func.count().label("total"),
                    func.count(goals.c.done_at).label("done"),
                )
                .where(goals.c.guild_id == guild_id, _in_week(first_day, last_day))
                .group_by(goals.c.week_key)
                .order_by(goals.c.week_key)
            )
            return [GuildWeekGoals(r.week_key, r.members, r.total, r.done) for r in rows]

    async def for_member(self, guild_id: int, user_id: int) -> list[Goal]:
        """All of a member's goals in a guild (for a data export)."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(*_COLUMNS)
                .where(goals.c.guild_id == guild_id, goals.c.user_id == user_id)
                .order_by(goals.c.week_key, goals.c.id)
            )
            return [_goal(row) for row in rows]

    async def delete_member(self, guild_id: int, user_id: int) -> int:
        """Delete all of a member's goals in a guild; returns how many."""
        return await self._delete(goals.c.guild_id == guild_id, goals.c.user_id == user_id)

    async def delete_guild(self, guild_id: int) -> int:
        return await self._delete(goals.c.guild_id == guild_id)

    # ---------------------------------------------------------------------------------------

    async def _delete(self, *where: ColumnElement[bool]) -> int:
        async with self._engine.begin() as conn:
            result = await conn.execute(delete(goals).where(*where))
        return int(result.rowcount or 0)

    async def _used_slots(self, guild_id: int, user_id: int, week_key: date) -> set[int]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(goals.c.slot).where(
                    goals.c.guild_id == guild_id,
                    goals.c.user_id == user_id,
                    goals.c.week_key == week_key,
                )
            )
            return {slot for (slot,) in rows}

    async def _insert_into_slot(
        self,
        guild_id: int,
        user_id: int,
        week_key: date,
        slot: int,
        text: str,
        hours: float | None,
        carried_from: int | None,
        now: datetime,
    ) -> Goal | None:
        """Insert, or None when a unique constraint (slot, carried_from) says someone was first."""
        async with self._engine.begin() as conn:
            stmt = (
                _insert(conn.dialect.name)
                .values(
                    guild_id=guild_id,
                    user_id=user_id,
                    week_key=week_key,
                    slot=slot,
                    text=text,
                    hours=hours,
                    carried_from=carried_from,
                    created_at=now,
                    updated_at=now,
                )
                .on_conflict_do_nothing()
                .returning(*_COLUMNS)
            )
            row = (await conn.execute(stmt)).first()
        return _goal(row) if row else None

    async def _carry_one(
        self, source: Goal, target_key: date, now: datetime, limit: int
    ) -> Goal | str:
        """The copy, "full", or "already" (a concurrent carry copied it first)."""
        guild_id, user_id = source.guild_id, source.user_id
        for _ in range(_MAX_ATTEMPTS):
            slot = _first_free(await self._used_slots(guild_id, user_id, target_key), limit)
            if slot is None:
                return "full"
            copy = await self._insert_into_slot(
                guild_id, user_id, target_key, slot, source.text, source.hours, source.id, now
            )
            if copy is not None:
                return copy
            async with self._engine.connect() as conn:
                if await _already_carried(conn, [source.id]):
                    return "already"
        raise RuntimeError("could not find a free goal slot: too much contention")


def _owned(guild_id: int, user_id: int, goal_id: int) -> ColumnElement[bool]:
    return (goals.c.id == goal_id) & (goals.c.guild_id == guild_id) & (goals.c.user_id == user_id)


def _first_free(used: set[int], limit: int) -> int | None:
    return next((slot for slot in range(1, limit + 1) if slot not in used), None)


async def _already_carried(conn: AsyncConnection, goal_ids: list[int]) -> set[int]:
    """Which of these goals already have a carried-over copy."""
    if not goal_ids:
        return set()
    rows = await conn.execute(
        select(goals.c.carried_from).where(goals.c.carried_from.in_(goal_ids))
    )
    return {goal_id for (goal_id,) in rows}
