"""A member's own rows in the core tables besides goals and check-ins: preferences, the DM
nudges sent to them, a closed-DMs note, their departure, and schedules they created.

Used to export a member's data and to forget them. A schedule belongs to the guild, so
forgetting its author only blanks the author (``FORMER_MEMBER``); the schedule keeps running.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from db.schema.core import member_preferences
from db.schema.lifecycle import member_departures
from db.schema.schedules import closed_dms, schedule_nudges, schedules

# Stands for "a member who asked to be forgotten" where a user id is kept for others' sake.
# Not NULL: a NULL author means the schedule is part of Cohort's default rhythm.
FORMER_MEMBER = 0

# Short names for the tables a member's records are in.
_mp, _n, _cd, _md = member_preferences, schedule_nudges, closed_dms, member_departures
_s = schedules


@dataclass(frozen=True)
class StoredPreferences:
    timezone: str | None
    reminders_enabled: bool
    updated_at: datetime


@dataclass(frozen=True)
class NudgeRecord:
    occurrence_id: int
    due_at: datetime
    state: str
    done_at: datetime | None


@dataclass(frozen=True)
class AuthoredSchedule:
    id: int
    kind: str
    channel_id: int
    created_at: datetime


@dataclass(frozen=True)
class MemberRecords:
    preferences: StoredPreferences | None
    nudges: tuple[NudgeRecord, ...]
    dms_closed_at: datetime | None
    left_at: datetime | None
    schedules_created: tuple[AuthoredSchedule, ...]


@dataclass(frozen=True)
class ForgottenRecords:
    preferences: int
    nudges: int
    closed_dms: int
    departures: int
    schedules_anonymised: int


class MemberRecordsRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def for_member(self, guild_id: int, user_id: int) -> MemberRecords:
        async with self._engine.connect() as conn:
            prefs = (
                await conn.execute(
                    select(_mp.c.timezone, _mp.c.reminders_enabled, _mp.c.updated_at).where(
                        _mp.c.guild_id == guild_id, _mp.c.user_id == user_id
                    )
                )
            ).first()
            nudges = await conn.execute(
                select(_n.c.occurrence_id, _n.c.due_at, _n.c.state, _n.c.done_at)
                .where(_n.c.guild_id == guild_id, _n.c.user_id == user_id)
                .order_by(_n.c.due_at, _n.c.occurrence_id)
            )
            nudge_records = tuple(NudgeRecord(*row) for row in nudges)
            closed_at = await conn.scalar(
                select(_cd.c.noted_at).where(_cd.c.guild_id == guild_id, _cd.c.user_id == user_id)
            )
            left_at = await conn.scalar(
                select(_md.c.left_at).where(_md.c.guild_id == guild_id, _md.c.user_id == user_id)
            )
            created = await conn.execute(
                select(_s.c.id, _s.c.kind, _s.c.channel_id, _s.c.created_at)
                .where(_s.c.guild_id == guild_id, _s.c.created_by == user_id)
                .order_by(_s.c.id)
            )
            authored = tuple(AuthoredSchedule(*row) for row in created)
        return MemberRecords(
            preferences=(
                StoredPreferences(prefs.timezone, bool(prefs.reminders_enabled), prefs.updated_at)
                if prefs
                else None
            ),
            nudges=nudge_records,
            dms_closed_at=closed_at,
            left_at=left_at,
            schedules_created=authored,
        )

    async def forget(self, guild_id: int, user_id: int) -> ForgottenRecords:
        """Delete the member's rows and blank them as author of schedules, in one transaction."""
        async with self._engine.begin() as conn:

            async def count(statement: object) -> int:
                return int((await conn.execute(statement)).rowcount or 0)  # type: ignore[call-overload]

            return ForgottenRecords(
                preferences=await count(
                    delete(_mp).where(_mp.c.guild_id == guild_id, _mp.c.user_id == user_id)
                ),
                nudges=await count(
                    delete(_n).where(_n.c.guild_id == guild_id, _n.c.user_id == user_id)
                ),
                closed_dms=await count(
                    delete(_cd).where(_cd.c.guild_id == guild_id, _cd.c.user_id == user_id)
                ),
                departures=await count(
                    delete(_md).where(_md.c.guild_id == guild_id, _md.c.user_id == user_id)
                ),
                schedules_anonymised=await count(
                    update(_s)
                    .where(_s.c.guild_id == guild_id, _s.c.created_by == user_id)
                    .values(created_by=FORMER_MEMBER)
                ),
            )
