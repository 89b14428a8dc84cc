"""Small key/value facts the bot keeps about itself (for example the last synced command tree)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.schema import bot_state
from db.upsert import upsert


class BotStateRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def get(self, key: str) -> str | None:
        async with self._engine.connect() as conn:
            value: str | None = (
                await conn.execute(select(bot_state.c.value).where(bot_state.c.key == key))
            ).scalar_one_or_none()
        return value

    async def set(self, key: str, value: str, now: datetime) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                upsert(
                    conn.dialect.name,
                    bot_state,
                    {"key": key, "value": value, "updated_at": now},
                    conflict=["key"],
                    update=["value", "updated_at"],
                )
            )
