"""DM nudges of check-in prompts: who gets one, when, and what happened (sent, skipped …)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from db.schema import guild_settings, member_preferences
from db.schema.lifecycle import member_departures
from db.schema.schedules import closed_dms, schedule_nudges, schedule_occurrences, schedules
from db.shards import owned
from db.upsert import upsert

_n = schedule_nudges


@dataclass(frozen=True)
class NudgeTarget:
    """A member with DM reminders on (and DMs not known to be closed)."""

    user_id: int
    timezone: str | None


@dataclass(frozen=True)
class Nudge:
    """A DM to send, with what its text needs: the prompt it follows and the guild's week."""

    occurrence_id: int
    user_id: int
    guild_id: int
    due_at: datetime
    channel_id: int
    prompt_message_id: int | None
    prompt_fire_at: datetime
    timezone: str
    week_start: int


class NudgeRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def targets(
        self, guild_id: int, now: datetime, closed_for: timedelta
    ) -> list[NudgeTarget]:
        """Members of the guild with reminders on, except those whose DMs refused us recently
        and who have not touched their preferences since, and those who left the guild."""
        mp = member_preferences
        closed = exists().where(
            closed_dms.c.guild_id == mp.c.guild_id,
            closed_dms.c.user_id == mp.c.user_id,
            closed_dms.c.noted_at >= mp.c.updated_at,
            closed_dms.c.noted_at > now - closed_for,
        )
        # Members who left the guild keep their preferences but get no nudges.
        left = exists().where(
            member_departures.c.guild_id == mp.c.guild_id,
            member_departures.c.user_id == mp.c.user_id,
        )
        query = (
            select(mp.c.user_id, mp.c.timezone)
            .where(mp.c.guild_id == guild_id, mp.c.reminders_enabled.is_(True), ~closed, ~left)
            .order_by(mp.c.user_id)
        )
        async with self._engine.connect() as conn:
            return [NudgeTarget(row.user_id, row.timezone) for row in await conn.execute(query)]

    async def due(
        self,
        now: datetime,
        limit: int,
        *,
        shard_count: int | None = None,
        shard_ids: Sequence[int] | None = None,
    ) -> list[Nudge]:
        """Nudges to send now; only of guilds in `shard_ids` of `shard_count` when given."""
        o, s, gs = schedule_occurrences, schedules, guild_settings
        query = (
            select(
                _n.c.occurrence_id,
                _n.c.user_id,
                _n.c.guild_id,
                _n.c.due_at,
                s.c.channel_id,
                o.c.message_id,
                o.c.fire_at,
                func.coalesce(gs.c.timezone, "UTC").label("timezone"),
                func.coalesce(gs.c.week_start, 0).label("week_start"),
            )
            .select_from(
                _n.join(o, o.c.id == _n.c.occurrence_id)
                .join(s, s.c.id == o.c.schedule_id)
                .outerjoin(gs, gs.c.guild_id == s.c.guild_id)
            )
            .where(
                _n.c.state == "scheduled",
                _n.c.due_at <= now,
                owned(_n.c.guild_id, shard_count, shard_ids),
            )
            .order_by(_n.c.due_at, _n.c.occurrence_id, _n.c.user_id)
            .limit(limit)
        )
        async with self._engine.connect() as conn:
            return [
                Nudge(
                    occurrence_id=row.occurrence_id,
                    user_id=row.user_id,
                    guild_id=row.guild_id,
                    due_at=row.due_at,
                    channel_id=row.channel_id,
                    prompt_message_id=row.message_id,
                    prompt_fire_at=row.fire_at,
                    timezone=row.timezone,
                    week_start=int(row.week_start),
                )
                for row in await conn.execute(query)
            ]

    async def next_due(self) -> datetime | None:
        async with self._engine.connect() as conn:
            return await conn.scalar(select(func.min(_n.c.due_at)).where(_n.c.state == "scheduled"))

    async def claim(self, occurrence_id: int, user_id: int) -> bool:
        """Take one nudge to send. A nudge is sent at most once: a crash while sending leaves
        it 'sending', never scheduled again."""
        return await self._move(occurrence_id, user_id, "scheduled", "sending", None)

    async def finish(self, occurrence_id: int, user_id: int, state: str, now: datetime) -> bool:
        return await self._move(occurrence_id, user_id, "sending", state, now)

    async def skip(self, occurrence_id: int, user_id: int, now: datetime) -> bool:
        return await self._move(occurrence_id, user_id, "scheduled", "skipped", now)

    async def sent_since(self, guild_id: int, since: datetime) -> int:
        async with self._engine.connect() as conn:
            count = await conn.scalar(
                select(func.count())
                .select_from(_n)
                .where(_n.c.guild_id == guild_id, _n.c.state == "sent", _n.c.done_at >= since)
            )
        return int(count or 0)

    async def for_occurrence(self, occurrence_id: int) -> dict[int, str]:
        """user id → state, for one occurrence's nudges."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(_n.c.user_id, _n.c.state).where(_n.c.occurrence_id == occurrence_id)
            )
            return {user_id: state for user_id, state in rows}

    async def note_closed(self, guild_id: int, user_id: int, now: datetime) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                upsert(
                    conn.dialect.name,
                    closed_dms,
                    {"guild_id": guild_id, "user_id": user_id, "noted_at": now},
                    conflict=["guild_id", "user_id"],
                    update=["noted_at"],
                )
            )

    async def _move(
        self, occurrence_id: int, user_id: int, before: str, after: str, now: datetime | None
    ) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(
                update(_n)
                .where(
                    and_(
                        _n.c.occurrence_id == occurrence_id,
                        _n.c.user_id == user_id,
                        _n.c.state == before,
                    )
                )
                .values(state=after, done_at=now)
            )
        return result.rowcount == 1
