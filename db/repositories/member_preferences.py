"""A member's own preferences in one guild: personal timezone and DM reminders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.schema import member_preferences
from db.upsert import upsert


@dataclass(frozen=True)
class MemberPreferences:
    guild_id: int
    user_id: int
    timezone: str | None = None
    reminders_enabled: bool = False


class MemberPreferencesRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def get(self, guild_id: int, user_id: int) -> MemberPreferences:
        t = member_preferences
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    select(t.c.timezone, t.c.reminders_enabled).where(
                        t.c.guild_id == guild_id, t.c.user_id == user_id
                    )
                )
            ).first()
        if row is None:
            return MemberPreferences(guild_id, user_id)
        return MemberPreferences(guild_id, user_id, row.timezone, bool(row.reminders_enabled))

    async def set_timezone(
        self, guild_id: int, user_id: int, timezone: str | None, now: datetime
    ) -> MemberPreferences:
        return await self._set(guild_id, user_id, now, timezone=timezone)

    async def set_reminders(
        self, guild_id: int, user_id: int, enabled: bool, now: datetime
    ) -> MemberPreferences:
        return await self._set(guild_id, user_id, now, reminders_enabled=enabled)

    async def _set(
        self, guild_id: int, user_id: int, now: datetime, **changes: object
    ) -> MemberPreferences:
        values = {"guild_id": guild_id, "user_id": user_id, "updated_at": now, **changes}
        async with self._engine.begin() as conn:
            await conn.execute(
                upsert(
                    conn.dialect.name,
                    member_preferences,
                    values,
                    conflict=["guild_id", "user_id"],
                    update=[*changes, "updated_at"],
                )
            )
        return await self.get(guild_id, user_id)
