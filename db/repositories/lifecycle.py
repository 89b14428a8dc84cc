"""Guild and member departures, and purging everything the core tables hold about a guild.

Features with tables of their own purge them through their member-data contributors; this
module covers the core: settings, preferences, goals, check-ins, schedules with their
occurrences and nudges, closed DMs and the departure rows themselves.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, union, update
from sqlalchemy.ext.asyncio import AsyncEngine

from db.schema.core import guild_settings, member_preferences
from db.schema.goals import checkins, goals
from db.schema.lifecycle import guild_departures, member_departures
from db.schema.schedules import (
    closed_dms,
    schedule_defaults,
    schedule_nudges,
    schedule_occurrences,
    schedules,
)
from db.upsert import upsert


class LifecycleRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    # -- guilds ------------------------------------------------------------------------------

    async def guild_left(self, guild_id: int, now: datetime) -> datetime:
        """Record that the bot left the guild; a repeated notice keeps the first time."""
        async with self._engine.begin() as conn:
            await conn.execute(
                upsert(
                    conn.dialect.name,
                    guild_departures,
                    {"guild_id": guild_id, "left_at": now},
                    conflict=["guild_id"],
                    update=[],
                )
            )
            left_at: datetime = (
                await conn.execute(
                    select(guild_departures.c.left_at).where(
                        guild_departures.c.guild_id == guild_id
                    )
                )
            ).scalar_one()
        return left_at

    async def guild_returned(self, guild_id: int) -> datetime | None:
        """Forget the guild's departure; returns when it had left (None: it had not)."""
        async with self._engine.begin() as conn:
            row = (
                await conn.execute(
                    delete(guild_departures)
                    .where(guild_departures.c.guild_id == guild_id)
                    .returning(guild_departures.c.left_at)
                )
            ).first()
        return row.left_at if row else None

    async def departed_guilds(self) -> dict[int, datetime]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(guild_departures.c.guild_id, guild_departures.c.left_at)
            )
            return {guild_id: left_at for guild_id, left_at in rows}

    async def left_before(self, moment: datetime) -> list[int]:
        """Guilds the bot left at or before `moment` (due for purging), oldest first."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(guild_departures.c.guild_id)
                .where(guild_departures.c.left_at <= moment)
                .order_by(guild_departures.c.left_at, guild_departures.c.guild_id)
            )
            return [guild_id for (guild_id,) in rows]

    async def guilds_with_data(self) -> set[int]:
        """Every guild the core tables hold something for."""
        query = union(
            select(guild_settings.c.guild_id),
            select(schedules.c.guild_id),
            select(member_preferences.c.guild_id),
            select(goals.c.guild_id),
            select(checkins.c.guild_id),
        )
        async with self._engine.connect() as conn:
            return {guild_id for (guild_id,) in await conn.execute(query)}

    async def skip_scheduled_nudges(
        self, guild_id: int, now: datetime, user_id: int | None = None
    ) -> int:
        """DM nudges not sent yet (of a guild, or of one member there) will not be sent."""
        where = [schedule_nudges.c.guild_id == guild_id, schedule_nudges.c.state == "scheduled"]
        if user_id is not None:
            where.append(schedule_nudges.c.user_id == user_id)
        async with self._engine.begin() as conn:
            result = await conn.execute(
                update(schedule_nudges).where(*where).values(state="skipped", done_at=now)
            )
        return int(result.rowcount or 0)

    async def purge_guild(self, guild_id: int) -> dict[str, int]:
        """Delete every core row of the guild in one transaction; rows deleted per table."""
        guild_schedules = select(schedules.c.id).where(schedules.c.guild_id == guild_id)
        statements = (
            ("goals", delete(goals).where(goals.c.guild_id == guild_id)),
            ("checkins", delete(checkins).where(checkins.c.guild_id == guild_id)),
            (
                "member_preferences",
                delete(member_preferences).where(member_preferences.c.guild_id == guild_id),
            ),
            (
                "schedule_nudges",
                delete(schedule_nudges).where(schedule_nudges.c.guild_id == guild_id),
            ),
            (
                "schedule_occurrences",
                delete(schedule_occurrences).where(
                    schedule_occurrences.c.schedule_id.in_(guild_schedules)
                ),
            ),
            ("schedules", delete(schedules).where(schedules.c.guild_id == guild_id)),
            (
                "schedule_defaults",
                delete(schedule_defaults).where(schedule_defaults.c.guild_id == guild_id),
            ),
            ("closed_dms", delete(closed_dms).where(closed_dms.c.guild_id == guild_id)),
            (
                "member_departures",
                delete(member_departures).where(member_departures.c.guild_id == guild_id),
            ),
            ("guild_settings", delete(guild_settings).where(guild_settings.c.guild_id == guild_id)),
            (
                "guild_departures",
                delete(guild_departures).where(guild_departures.c.guild_id == guild_id),
            ),
        )
        counts: dict[str, int] = {}
        async with self._engine.begin() as conn:
            for table, statement in statements:
                counts[table] = int((await conn.execute(statement)).rowcount or 0)
        return counts

    # -- members -----------------------------------------------------------------------------

    async def member_left(self, guild_id: int, user_id: int, now: datetime) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                upsert(
                    conn.dialect.name,
                    member_departures,
                    {"guild_id": guild_id, "user_id": user_id, "left_at": now},
                    conflict=["guild_id", "user_id"],
                    update=[],
                )
            )

    async def member_returned(self, guild_id: int, user_id: int) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(
                delete(member_departures).where(
                    member_departures.c.guild_id == guild_id,
                    member_departures.c.user_id == user_id,
                )
            )
        return result.rowcount == 1

    async def departed_members(self, guild_id: int) -> dict[int, datetime]:
        """Members who left the guild → when."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(member_departures.c.user_id, member_departures.c.left_at).where(
                    member_departures.c.guild_id == guild_id
                )
            )
            return {user_id: left_at for user_id, left_at in rows}
