"""Courses and modules, members' plans, finished modules, plan weeks and away periods.

Every read and change is scoped by guild (and member where it is theirs): a module id from another
guild's course matches nothing. Importing a course is one transaction: the course is created or
updated by key, its modules matched by title (case-insensitive) so their rows and members'
finished modules survive, new ones added and missing ones removed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, and_, case, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.domain.courses import CourseSpec
from db.schema.goals import checkins
from db.schema.plans import (
    away_periods,
    course_modules,
    courses,
    module_progress,
    plan_weeks,
    plans,
)
from db.types import AnyRow
from db.upsert import upsert


@dataclass(frozen=True)
class Course:
    id: int
    guild_id: int
    key: str
    title: str
    source: str | None


@dataclass(frozen=True)
class CourseModule:
    id: int
    course_id: int
    position: int
    title: str
    hours: float
    url: str | None


@dataclass(frozen=True)
class RemovedModule:
    title: str
    finished_by: int  # members who had finished it


@dataclass(frozen=True)
class Imported:
    course: Course
    created: bool
    added: int
    updated: int
    removed: tuple[RemovedModule, ...]


@dataclass(frozen=True)
class Plan:
    guild_id: int
    user_id: int
    course_id: int
    started_at: datetime
    start_day: date
    target_day: date
    weekly_hours: float | None


@dataclass(frozen=True)
class Finished:
    module_id: int
    finished_at: datetime


@dataclass(frozen=True)
class Away:
    id: int
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class GroupPlan:
    """One member's plan with what they finished, for group-wide figures."""

    plan: Plan
    done_ids: frozenset[int]


def _course(row: AnyRow) -> Course:
    return Course(row.id, row.guild_id, row.key, row.title, row.source)


def _module(row: AnyRow) -> CourseModule:
    return CourseModule(row.id, row.course_id, row.position, row.title, float(row.hours), row.url)


def _plan(row: AnyRow) -> Plan:
    # Columns in the order of _PLAN_COLUMNS, which is Plan's field order (the group's figures
    # build thousands of these).
    return Plan(*row)


_PLAN_COLUMNS = (
    plans.c.guild_id,
    plans.c.user_id,
    plans.c.course_id,
    plans.c.started_at,
    plans.c.start_day,
    plans.c.target_day,
    plans.c.weekly_hours,
)


class PlansRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @property
    def _dialect(self) -> str:
        return self._engine.dialect.name

    async def _add_once(self, table: Table, row: dict[str, Any], key: tuple[str, ...]) -> bool:
        """Insert `row` unless the table has one with the same `key`; whether it was inserted."""
        async with self._engine.begin() as conn:
            result = await conn.execute(upsert(self._dialect, table, row, key, ()))
            return bool(result.rowcount)

    # -- courses -----------------------------------------------------------------------------

    async def courses(self, guild_id: int) -> list[Course]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(courses).where(courses.c.guild_id == guild_id).order_by(courses.c.title)
            )
            return [_course(row) for row in rows]

    async def course(self, guild_id: int, course_id: int) -> Course | None:
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    select(courses).where(courses.c.guild_id == guild_id, courses.c.id == course_id)
                )
            ).first()
        return _course(row) if row else None

    async def course_by_key(self, guild_id: int, key: str) -> Course | None:
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    select(courses).where(courses.c.guild_id == guild_id, courses.c.key == key)
                )
            ).first()
        return _course(row) if row else None

    async def modules(self, course_ids: Sequence[int]) -> dict[int, list[CourseModule]]:
        """Each course's modules in order."""
        found: dict[int, list[CourseModule]] = {course_id: [] for course_id in course_ids}
        if not course_ids:
            return found
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(course_modules)
                .where(course_modules.c.course_id.in_(list(course_ids)))
                .order_by(course_modules.c.course_id, course_modules.c.position)
            )
            for row in rows:
                found[row.course_id].append(_module(row))
        return found

    async def import_course(self, guild_id: int, doc: CourseSpec, now: datetime) -> Imported:
        async with self._engine.begin() as conn:
            existing = (
                await conn.execute(
                    select(courses.c.id).where(
                        courses.c.guild_id == guild_id, courses.c.key == doc.key
                    )
                )
            ).scalar()
            await conn.execute(
                upsert(
                    self._dialect,
                    courses,
                    {
                        "guild_id": guild_id,
                        "key": doc.key,
                        "title": doc.title,
                        "source": doc.source,
                        "created_at": now,
                        "updated_at": now,
                    },
                    ("guild_id", "key"),
                    ("title", "source", "updated_at"),
                )
            )
            row = (
                await conn.execute(
                    select(courses).where(courses.c.guild_id == guild_id, courses.c.key == doc.key)
                )
            ).one()
            course = _course(row)
            old = {
                m.title.casefold(): m
                for m in map(
                    _module,
                    await conn.execute(
                        select(course_modules).where(course_modules.c.course_id == course.id)
                    ),
                )
            }
            added = updated = 0
            kept: set[int] = set()
            for position, module in enumerate(doc.modules, start=1):
                values = {
                    "position": position,
                    "title": module.title,
                    "hours": module.hours,
                    "url": module.url,
                }
                match = old.get(module.title.casefold())
                if match is None:
                    await conn.execute(insert(course_modules).values(course_id=course.id, **values))
                    added += 1
                    continue
                kept.add(match.id)
                if (match.position, match.title, match.hours, match.url) != tuple(values.values()):
                    await conn.execute(
                        update(course_modules)
                        .where(course_modules.c.id == match.id)
                        .values(**values)
                    )
                    updated += 1
            removed = [m for m in old.values() if m.id not in kept]
            counts = await _finished_counts(conn, [m.id for m in removed])
            if removed:
                await conn.execute(
                    delete(course_modules).where(course_modules.c.id.in_([m.id for m in removed]))
                )
        return Imported(
            course,
            existing is None,
            added,
            updated,
            tuple(RemovedModule(m.title, counts.get(m.id, 0)) for m in removed),
        )

    # -- plans -------------------------------------------------------------------------------

    async def plan_of(self, guild_id: int, user_id: int) -> Plan | None:
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    select(*_PLAN_COLUMNS).where(
                        plans.c.guild_id == guild_id, plans.c.user_id == user_id
                    )
                )
            ).first()
        return _plan(row) if row else None

    async def save_plan(self, plan: Plan, now: datetime) -> None:
        """Start a plan, or restart it (finished modules stay)."""
        values = {
            "guild_id": plan.guild_id,
            "user_id": plan.user_id,
            "course_id": plan.course_id,
            "started_at": plan.started_at,
            "start_day": plan.start_day,
            "target_day": plan.target_day,
            "weekly_hours": plan.weekly_hours,
            "updated_at": now,
        }
        async with self._engine.begin() as conn:
            await conn.execute(
                upsert(
                    self._dialect,
                    plans,
                    values,
                    ("guild_id", "user_id"),
                    [k for k in values if k not in ("guild_id", "user_id")],
                )
            )

    async def group_plans(self, guild_id: int) -> list[GroupPlan]:
        """Every plan in the guild with the modules each member finished (two queries)."""
        async with self._engine.connect() as conn:
            rows = (
                await conn.execute(select(*_PLAN_COLUMNS).where(plans.c.guild_id == guild_id))
            ).all()
            done: dict[int, set[int]] = defaultdict(set)
            for user_id, module_id in await conn.execute(
                select(module_progress.c.user_id, module_progress.c.module_id).where(
                    module_progress.c.guild_id == guild_id
                )
            ):
                done[user_id].add(module_id)
        return [GroupPlan(_plan(row), frozenset(done.get(row.user_id, ()))) for row in rows]

    # -- finished modules --------------------------------------------------------------------

    async def finished(self, guild_id: int, user_id: int) -> list[Finished]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(module_progress.c.module_id, module_progress.c.finished_at)
                .where(module_progress.c.guild_id == guild_id, module_progress.c.user_id == user_id)
                .order_by(module_progress.c.finished_at)
            )
            return [Finished(row.module_id, row.finished_at) for row in rows]

    async def finish(self, guild_id: int, user_id: int, module_id: int, now: datetime) -> bool:
        """Mark a module finished; False when it already was."""
        return await self._add_once(
            module_progress,
            {"guild_id": guild_id, "user_id": user_id, "module_id": module_id, "finished_at": now},
            ("guild_id", "user_id", "module_id"),
        )

    async def unfinish(self, guild_id: int, user_id: int, module_id: int) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(
                delete(module_progress).where(
                    module_progress.c.guild_id == guild_id,
                    module_progress.c.user_id == user_id,
                    module_progress.c.module_id == module_id,
                )
            )
            return bool(result.rowcount)

    # -- plan weeks --------------------------------------------------------------------------

    async def claim_plan_week(
        self, guild_id: int, user_id: int, week_key: date, now: datetime
    ) -> bool:
        """Record that the member added this week of their plan as goals; False if done before
        (also when two presses race)."""
        return await self._add_once(
            plan_weeks,
            {"guild_id": guild_id, "user_id": user_id, "week_key": week_key, "added_at": now},
            ("guild_id", "user_id", "week_key"),
        )

    async def plan_week_added(self, guild_id: int, user_id: int, week_key: date) -> bool:
        async with self._engine.connect() as conn:
            found = await conn.execute(
                select(plan_weeks.c.week_key).where(
                    plan_weeks.c.guild_id == guild_id,
                    plan_weeks.c.user_id == user_id,
                    plan_weeks.c.week_key == week_key,
                )
            )
            return found.first() is not None

    async def release_plan_week(self, guild_id: int, user_id: int, week_key: date) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                delete(plan_weeks).where(
                    plan_weeks.c.guild_id == guild_id,
                    plan_weeks.c.user_id == user_id,
                    plan_weeks.c.week_key == week_key,
                )
            )

    # -- away --------------------------------------------------------------------------------

    async def go_away(
        self, guild_id: int, user_id: int, starts_at: datetime, ends_at: datetime
    ) -> None:
        """Away from ``starts_at`` to ``ends_at``; a period still running is replaced (ended
        now), so the new one decides when the member is back."""
        async with self._engine.begin() as conn:
            await _end_running(conn, guild_id, user_id, starts_at)
            await conn.execute(
                insert(away_periods).values(
                    guild_id=guild_id,
                    user_id=user_id,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    created_at=starts_at,
                )
            )

    async def come_back(self, guild_id: int, user_id: int, now: datetime) -> bool:
        """End a running away period now; False when the member was not away."""
        async with self._engine.begin() as conn:
            return await _end_running(conn, guild_id, user_id, now) > 0

    async def away_periods(
        self, guild_id: int, user_ids: Sequence[int] | None = None
    ) -> dict[int, list[Away]]:
        """Away periods per member (every member of the guild when ``user_ids`` is None)."""
        query = select(away_periods).where(away_periods.c.guild_id == guild_id)
        if user_ids is not None:
            if not user_ids:
                return {}
            query = query.where(away_periods.c.user_id.in_(list(user_ids)))
        found: dict[int, list[Away]] = defaultdict(list)
        async with self._engine.connect() as conn:
            for row in await conn.execute(query.order_by(away_periods.c.starts_at)):
                found[row.user_id].append(Away(row.id, row.starts_at, row.ends_at))
        return dict(found)

    async def away_now(self, guild_id: int, user_ids: Sequence[int], now: datetime) -> set[int]:
        if not user_ids:
            return set()
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(away_periods.c.user_id).where(
                    away_periods.c.guild_id == guild_id,
                    away_periods.c.user_id.in_(list(user_ids)),
                    away_periods.c.starts_at <= now,
                    away_periods.c.ends_at > now,
                )
            )
            return {row.user_id for row in rows}

    # -- check-in hours ----------------------------------------------------------------------

    async def hours_per_week(
        self,
        guild_id: int,
        weeks: Sequence[tuple[date, date]],
        user_ids: Sequence[int] | None,
    ) -> dict[int, dict[date, float]]:
        """Hours checked in per member in each of ``weeks`` (first and last local date; keys
        are the first dates), summed in SQL: one row per member, whatever the week start was
        when each check-in was filed."""
        if not weeks or (user_ids is not None and not user_ids):
            return {}
        sums = [
            func.sum(case((checkins.c.week_key.between(first, last), checkins.c.hours)))
            for first, last in weeks
        ]
        query = (
            select(checkins.c.user_id, *sums)
            .where(
                checkins.c.guild_id == guild_id,
                checkins.c.week_key.between(min(f for f, _ in weeks), max(la for _, la in weeks)),
            )
            .group_by(checkins.c.user_id)
        )
        if user_ids is not None:
            query = query.where(checkins.c.user_id.in_(list(user_ids)))
        keys = [first for first, _ in weeks]
        found: dict[int, dict[date, float]] = {}
        async with self._engine.connect() as conn:
            for user_id, *values in await conn.execute(query):
                found[user_id] = {
                    key: float(value) for key, value in zip(keys, values, strict=True) if value
                }
        return found

    # -- members' data -----------------------------------------------------------------------

    async def for_member(self, guild_id: int, user_id: int) -> dict[str, Any]:
        plan = await self.plan_of(guild_id, user_id)
        finished = await self.finished(guild_id, user_id)
        async with self._engine.connect() as conn:
            titles = dict(
                (
                    await conn.execute(
                        select(course_modules.c.id, course_modules.c.title).where(
                            course_modules.c.id.in_([f.module_id for f in finished] or [-1])
                        )
                    )
                ).all()
            )
            weeks = [
                row.week_key
                for row in await conn.execute(
                    select(plan_weeks.c.week_key).where(
                        plan_weeks.c.guild_id == guild_id, plan_weeks.c.user_id == user_id
                    )
                )
            ]
        course = await self.course(guild_id, plan.course_id) if plan else None
        away = (await self.away_periods(guild_id, [user_id])).get(user_id, [])
        return {
            "plan": plan,
            "course": course,
            "finished": [(titles.get(f.module_id, "?"), f.finished_at) for f in finished],
            "plan_weeks": weeks,
            "away": away,
        }

    async def delete_member(self, guild_id: int, user_id: int) -> dict[str, int]:
        counts = {}
        async with self._engine.begin() as conn:
            for name, table in (
                ("plans", plans),
                ("finished modules", module_progress),
                ("plan weeks", plan_weeks),
                ("away periods", away_periods),
            ):
                result = await conn.execute(
                    delete(table).where(table.c.guild_id == guild_id, table.c.user_id == user_id)
                )
                counts[name] = result.rowcount or 0
        return counts

    async def delete_guild(self, guild_id: int) -> int:
        total = 0
        async with self._engine.begin() as conn:
            for table in (module_progress, plans, plan_weeks, away_periods):
                total += (
                    await conn.execute(delete(table).where(table.c.guild_id == guild_id))
                ).rowcount or 0
            total += (
                await conn.execute(delete(courses).where(courses.c.guild_id == guild_id))
            ).rowcount or 0
        return total


async def _end_running(conn: AsyncConnection, guild_id: int, user_id: int, at: datetime) -> int:
    """Cut running and future away periods of the member at ``at`` (future ones vanish)."""
    mine = and_(away_periods.c.guild_id == guild_id, away_periods.c.user_id == user_id)
    await conn.execute(delete(away_periods).where(mine, away_periods.c.starts_at >= at))
    result = await conn.execute(
        update(away_periods)
        .where(mine, away_periods.c.starts_at < at, away_periods.c.ends_at > at)
        .values(ends_at=at)
    )
    return result.rowcount or 0


async def _finished_counts(conn: AsyncConnection, module_ids: Sequence[int]) -> dict[int, int]:
    if not module_ids:
        return {}
    rows = await conn.execute(
        select(module_progress.c.module_id, func.count())
        .where(module_progress.c.module_id.in_(list(module_ids)))
        .group_by(module_progress.c.module_id)
    )
    return {module_id: count for module_id, count in rows}
