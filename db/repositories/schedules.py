"""Schedules: what a guild posts automatically, where, and when (as canonical `when` text)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from db.schema import guild_settings
from db.schema.schedules import SCHEDULE_KINDS, schedule_defaults, schedules
from db.types import AnyRow
from db.upsert import upsert

__all__ = ["SCHEDULE_KINDS", "NewSchedule", "Schedule", "ScheduleRepository", "ZonedSchedule"]


@dataclass(frozen=True)
class NewSchedule:
    guild_id: int
    kind: str
    recurrence: str
    channel_id: int
    message: str | None
    created_by: int | None


@dataclass(frozen=True)
class Schedule:
    id: int
    guild_id: int
    kind: str
    recurrence: str
    channel_id: int
    message: str | None
    paused: bool
    disabled_reason: str | None
    created_by: int | None
    created_at: datetime

    @property
    def active(self) -> bool:
        return not self.paused and self.disabled_reason is None


@dataclass(frozen=True)
class ZonedSchedule:
    """A schedule with its guild's timezone and week start (what fire times depend on)."""

    schedule: Schedule
    timezone: str
    week_start: int


_COLUMNS = (
    schedules.c.id,
    schedules.c.guild_id,
    schedules.c.kind,
    schedules.c.recurrence,
    schedules.c.channel_id,
    schedules.c.message,
    schedules.c.paused,
    schedules.c.disabled_reason,
    schedules.c.created_by,
    schedules.c.created_at,
)


def _schedule(row: AnyRow) -> Schedule:
    m = row._mapping
    return Schedule(
        id=m["id"],
        guild_id=m["guild_id"],
        kind=m["kind"],
        recurrence=m["recurrence"],
        channel_id=m["channel_id"],
        message=m["message"],
        paused=bool(m["paused"]),
        disabled_reason=m["disabled_reason"],
        created_by=m["created_by"],
        created_at=m["created_at"],
    )


def zoned_select() -> Any:
    gs = guild_settings
    return select(
        *_COLUMNS,
        func.coalesce(gs.c.timezone, "UTC").label("timezone"),
        func.coalesce(gs.c.week_start, 0).label("week_start"),
    ).select_from(schedules.outerjoin(gs, gs.c.guild_id == schedules.c.guild_id))


def zoned_row(row: AnyRow) -> ZonedSchedule:
    return ZonedSchedule(_schedule(row), row.timezone, int(row.week_start))


class ScheduleRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def add(self, new: NewSchedule, now: datetime) -> Schedule:
        async with self._engine.begin() as conn:
            return await self._insert(conn, new, now)

    async def add_defaults(
        self, guild_id: int, new: Sequence[NewSchedule], now: datetime, *, with_pairing: bool
    ) -> list[Schedule]:
        """Create a guild's default rhythm at most once, race-free: only the transaction that
        creates the guild's marker row inserts the schedules."""
        marker = {
            "guild_id": guild_id,
            "created_at": now,
            "pairing_created_at": now if with_pairing else None,
        }
        async with self._engine.begin() as conn:
            won = await conn.execute(
                upsert(conn.dialect.name, schedule_defaults, marker, ["guild_id"], update=[])
            )
            if won.rowcount != 1:
                return []
            return [await self._insert(conn, item, now) for item in new]

    async def add_default_pairing(
        self, guild_id: int, new: NewSchedule, now: datetime
    ) -> list[Schedule]:
        """The pairing part of the default rhythm, once, for a guild that got its rhythm
        before it had a reviews channel."""
        async with self._engine.begin() as conn:
            won = await conn.execute(
                update(schedule_defaults)
                .where(
                    schedule_defaults.c.guild_id == guild_id,
                    schedule_defaults.c.pairing_created_at.is_(None),
                )
                .values(pairing_created_at=now)
            )
            if won.rowcount != 1:
                return []
            return [await self._insert(conn, new, now)]

    async def get(self, guild_id: int, schedule_id: int) -> Schedule | None:
        """The schedule if it belongs to this guild (ids of other guilds are not visible)."""
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    select(*_COLUMNS).where(
                        schedules.c.id == schedule_id, schedules.c.guild_id == guild_id
                    )
                )
            ).first()
        return _schedule(row) if row else None

    async def get_zoned(self, schedule_id: int) -> ZonedSchedule | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(zoned_select().where(schedules.c.id == schedule_id))).first()
        return zoned_row(row) if row else None

    async def list_for_guild(self, guild_id: int) -> list[Schedule]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(*_COLUMNS).where(schedules.c.guild_id == guild_id).order_by(schedules.c.id)
            )
            return [_schedule(row) for row in rows]

    async def count_for_guild(self, guild_id: int) -> int:
        async with self._engine.connect() as conn:
            count = await conn.scalar(
                select(func.count()).select_from(schedules).where(schedules.c.guild_id == guild_id)
            )
        return int(count or 0)

    async def active_zoned(self, guild_id: int | None = None) -> list[ZonedSchedule]:
        """Every schedule that fires (not paused, not disabled), with its guild's zone."""
        query = zoned_select().where(
            schedules.c.paused.is_(False), schedules.c.disabled_reason.is_(None)
        )
        if guild_id is not None:
            query = query.where(schedules.c.guild_id == guild_id)
        async with self._engine.connect() as conn:
            return [zoned_row(row) for row in await conn.execute(query.order_by(schedules.c.id))]

    async def remove(self, guild_id: int, schedule_id: int) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(
                delete(schedules).where(
                    schedules.c.id == schedule_id, schedules.c.guild_id == guild_id
                )
            )
        return result.rowcount == 1

    async def set_paused(self, guild_id: int, schedule_id: int, paused: bool) -> Schedule | None:
        """Pause, or resume (which also clears a disabled reason: the moderator fixed it)."""
        values: dict[str, Any] = {"paused": paused}
        if not paused:
            values["disabled_reason"] = None
        async with self._engine.begin() as conn:
            await conn.execute(
                update(schedules)
                .where(schedules.c.id == schedule_id, schedules.c.guild_id == guild_id)
                .values(**values)
            )
        return await self.get(guild_id, schedule_id)

    async def disable(self, schedule_ids: Sequence[int], reason: str) -> list[Schedule]:
        """Disable these schedules; returns only those this call disabled (tell people once)."""
        if not schedule_ids:
            return []
        async with self._engine.begin() as conn:
            changed = await conn.execute(
                update(schedules)
                .where(schedules.c.id.in_(schedule_ids), schedules.c.disabled_reason.is_(None))
                .values(disabled_reason=reason[:300])
                .returning(*_COLUMNS)
            )
            return [_schedule(row) for row in changed]

    async def in_channel(self, guild_id: int, channel_id: int) -> list[Schedule]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(*_COLUMNS).where(
                    schedules.c.guild_id == guild_id, schedules.c.channel_id == channel_id
                )
            )
            return [_schedule(row) for row in rows]

    @staticmethod
    async def _insert(conn: AsyncConnection, new: NewSchedule, now: datetime) -> Schedule:
        row = (
            await conn.execute(
                insert(schedules)
                .values(
                    guild_id=new.guild_id,
                    kind=new.kind,
                    recurrence=new.recurrence,
                    channel_id=new.channel_id,
                    message=new.message,
                    created_by=new.created_by,
                    created_at=now,
                )
                .returning(*_COLUMNS)
            )
        ).one()
        return _schedule(row)
