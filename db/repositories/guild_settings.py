"""Guild settings: timezone, week start, channels, moderator role, reviewers per submission."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from db.schema import guild_settings
from db.upsert import upsert

CHANNEL_PURPOSES = ("announcements", "checkins", "reviews", "faq")


@dataclass(frozen=True)
class GuildSettings:
    guild_id: int
    timezone: str = "UTC"
    week_start: int = 0
    announcements_channel_id: int | None = None
    checkins_channel_id: int | None = None
    reviews_channel_id: int | None = None
    faq_channel_id: int | None = None
    moderator_role_id: int | None = None
    reviewers_per_submission: int = 2

    def channel_for(self, purpose: str) -> int | None:
        """The channel set for a purpose; check-ins and FAQ fall back to announcements."""
        own: int | None = getattr(self, f"{purpose}_channel_id")
        if own is None and purpose in ("checkins", "faq"):
            return self.announcements_channel_id
        return own


_COLUMNS = tuple(f.name for f in fields(GuildSettings))


class GuildSettingsRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def get(self, guild_id: int) -> GuildSettings:
        """The guild's settings, or the defaults when it has never configured anything."""
        async with self._engine.connect() as conn:
            return await self._read(conn, guild_id)

    @staticmethod
    async def _read(conn: AsyncConnection, guild_id: int) -> GuildSettings:
        row = (
            await conn.execute(
                select(*(guild_settings.c[name] for name in _COLUMNS)).where(
                    guild_settings.c.guild_id == guild_id
                )
            )
        ).first()
        return GuildSettings(**row._mapping) if row else GuildSettings(guild_id=guild_id)

    async def update(self, guild_id: int, now: datetime, **changes: Any) -> GuildSettings:
        """Set some fields (creating the row with defaults if needed) and return the result."""
        unknown = set(changes) - set(_COLUMNS[1:])
        if unknown:
            raise ValueError(f"unknown guild settings: {sorted(unknown)}")
        values = {**changes, "guild_id": guild_id, "updated_at": now}
        async with self._engine.begin() as conn:
            await conn.execute(
                upsert(
                    conn.dialect.name,
                    guild_settings,
                    values,
                    conflict=["guild_id"],
                    update=[*changes, "updated_at"],
                )
            )
            # Read back inside the transaction: a concurrent update must not leak into our reply.
            return await self._read(conn, guild_id)
