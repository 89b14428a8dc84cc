"""Rows written straight into the tables, for tests that need a lot of history quickly."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from db.schema.goals import checkins, goals


def noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


def goal_row(
    guild_id: int, user_id: int, week: date, slot: int, *, done: bool = False, text: str = "Goal"
) -> dict[str, Any]:
    at = noon(week)
    return {
        "guild_id": guild_id,
        "user_id": user_id,
        "week_key": week,
        "slot": slot,
        "text": text,
        "hours": None,
        "done_at": at + timedelta(days=1) if done else None,
        "created_at": at,
        "updated_at": at + timedelta(days=1) if done else at,
    }


def checkin_row(
    guild_id: int,
    user_id: int,
    week: date,
    day_offset: int = 0,
    *,
    hours: float | None = 1.0,
    done: str | None = None,
) -> dict[str, Any]:
    day = week + timedelta(days=day_offset)
    return {
        "guild_id": guild_id,
        "user_id": user_id,
        "local_day": day,
        "week_key": week,
        "hours": hours,
        "done": done,
        "created_at": noon(day),
        "updated_at": noon(day),
    }


async def insert_rows(
    engine: AsyncEngine,
    goal_rows: Iterable[dict[str, Any]] = (),
    checkin_rows: Iterable[dict[str, Any]] = (),
) -> None:
    goal_list, checkin_list = list(goal_rows), list(checkin_rows)
    async with engine.begin() as conn:
        if goal_list:
            await conn.execute(insert(goals), goal_list)
        if checkin_list:
            await conn.execute(insert(checkins), checkin_list)
