"""A member's own data: everything Cohort stores about them in a guild, exported or forgotten.

Each feature that stores something about members contributes through ``MemberDataContributor``:
its sections of the JSON export, what it deletes (or anonymises) when a member asks to be
forgotten, and how it purges a whole guild. The core contributor covers preferences, goals,
check-ins, DM nudges, closed DMs, departures and schedule authorship; features with their own
tables register theirs in the composition root.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from bot.clock import Clock
from db.repositories.checkins import CheckInsRepository
from db.repositories.goals import GoalsRepository
from db.repositories.lifecycle import LifecycleRepository
from db.repositories.member_records import MemberRecordsRepository

log = logging.getLogger(__name__)

EXPORT_FORMAT = "cohort-member-data"
EXPORT_VERSION = 1
DELETED, ANONYMISED, REASSIGNED = "deleted", "anonymised", "reassigned"


@dataclass(frozen=True)
class Forgotten:
    """What forgetting did to one kind of row: ``count`` of ``what`` were ``action``."""

    what: str
    count: int
    action: str = DELETED


class MemberDataContributor(Protocol):
    """One feature's part of a member's data (and of a guild's, for the purge)."""

    async def export_member(self, guild_id: int, user_id: int) -> dict[str, Any]:
        """Sections of the member's export (top-level keys, unique across contributors)."""
        ...

    async def forget_member(self, guild_id: int, user_id: int) -> list[Forgotten]:
        """Delete or anonymise every row about the member in the guild."""
        ...

    async def purge_guild(self, guild_id: int) -> int:
        """Delete everything of the guild; returns how many rows."""
        ...


def snowflake(value: int) -> str:
    """Ids as strings: JSON readers in JavaScript lose precision above 2**53."""
    return str(value)


def moment(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(frozen=True)
class ForgetReport:
    guild_id: int
    user_id: int
    items: tuple[Forgotten, ...]

    def total(self, action: str) -> int:
        return sum(item.count for item in self.items if item.action == action)

    def of(self, action: str) -> list[Forgotten]:
        return [item for item in self.items if item.action == action and item.count]


class CoreMemberData:
    """Preferences, goals, check-ins, DM nudges, closed DMs, departures, schedule authorship."""

    def __init__(
        self,
        goals: GoalsRepository,
        checkins: CheckInsRepository,
        records: MemberRecordsRepository,
        lifecycle: LifecycleRepository,
    ) -> None:
        self._goals = goals
        self._checkins = checkins
        self._records = records
        self._lifecycle = lifecycle

    async def export_member(self, guild_id: int, user_id: int) -> dict[str, Any]:
        records = await self._records.for_member(guild_id, user_id)
        goals = await self._goals.for_member(guild_id, user_id)
        checkins = await self._checkins.for_member(guild_id, user_id)
        prefs = records.preferences
        return {
            "preferences": {
                "timezone": prefs.timezone,
                "reminders_enabled": prefs.reminders_enabled,
                "updated_at": moment(prefs.updated_at),
            }
            if prefs
            else None,
            "goals": [
                {
                    "id": goal.id,
                    "week_start": moment(goal.week_key),
                    "text": goal.text,
                    "planned_hours": goal.hours,
                    "done_at": moment(goal.done_at),
                    "carried_from": goal.carried_from,
                    "created_at": moment(goal.created_at),
                }
                for goal in goals
            ],
            "check_ins": [
                {
                    "day": moment(c.local_day),
                    "week_start": moment(c.week_key),
                    "hours": c.hours,
                    "done": c.done,
                    "next": c.next_steps,
                    "blockers": c.blockers,
                    "mood": c.mood,
                    "created_at": moment(c.created_at),
                    "updated_at": moment(c.updated_at),
                }
                for c in checkins
            ],
            "reminders": {
                "dms_closed_noted_at": moment(records.dms_closed_at),
                "nudges": [
                    {"due_at": moment(n.due_at), "state": n.state, "done_at": moment(n.done_at)}
                    for n in records.nudges
                ],
            },
            "membership": {"left_at": moment(records.left_at)},
            "schedules_created": [
                {
                    "id": s.id,
                    "kind": s.kind,
                    "channel_id": snowflake(s.channel_id),
                    "created_at": moment(s.created_at),
                }
                for s in records.schedules_created
            ],
        }

    async def forget_member(self, guild_id: int, user_id: int) -> list[Forgotten]:
        goals = await self._goals.delete_member(guild_id, user_id)
        checkins = await self._checkins.delete_member(guild_id, user_id)
        records = await self._records.forget(guild_id, user_id)
        return [
            Forgotten("goals", goals),
            Forgotten("check-ins", checkins),
            Forgotten("preference settings", records.preferences),
            Forgotten("DM reminder records", records.nudges + records.closed_dms),
            Forgotten("departure notes", records.departures),
            Forgotten("schedules you created (they keep running)", records.schedules_anonymised,
                      ANONYMISED),
        ]  # fmt: skip

    async def purge_guild(self, guild_id: int) -> int:
        return sum((await self._lifecycle.purge_guild(guild_id)).values())


class MemberDataService:
    """/me data and /me forget over every registered contributor."""

    def __init__(self, core: MemberDataContributor, clock: Clock) -> None:
        self._contributors: list[MemberDataContributor] = [core]
        self._clock = clock
        # One forget at a time per member: a double press must not interleave two runs.
        self._forgetting: dict[tuple[int, int], tuple[asyncio.Lock, list[int]]] = {}

    def register(self, contributor: MemberDataContributor) -> None:
        self._contributors.append(contributor)

    @property
    def contributors(self) -> Sequence[MemberDataContributor]:
        return tuple(self._contributors)

    async def export(self, guild_id: int, user_id: int) -> dict[str, Any]:
        """Everything stored about the member in this guild, as JSON-ready data."""
        data: dict[str, Any] = {
            "format": EXPORT_FORMAT,
            "version": EXPORT_VERSION,
            "exported_at": moment(self._clock.now()),
            "guild_id": snowflake(guild_id),
            "user_id": snowflake(user_id),
        }
        for contributor in self._contributors:
            sections = await contributor.export_member(guild_id, user_id)
            clash = set(sections) & set(data)
            if clash:
                raise RuntimeError(f"export sections defined twice: {sorted(clash)}")
            data.update(sections)
        return data

    async def export_json(self, guild_id: int, user_id: int) -> bytes:
        data = await self.export(guild_id, user_id)
        return json.dumps(data, ensure_ascii=False, indent=2).encode()

    async def forget(self, guild_id: int, user_id: int) -> ForgetReport:
        """Delete or anonymise every row about the member in this guild (features with their
        own tables first, so they can still read what they reassign)."""
        key = (guild_id, user_id)
        lock, users = self._forgetting.setdefault(key, (asyncio.Lock(), [0]))
        users[0] += 1
        items: list[Forgotten] = []
        try:
            async with lock:
                for contributor in reversed(self._contributors):
                    items += await contributor.forget_member(guild_id, user_id)
        finally:
            users[0] -= 1
            if users[0] == 0:
                del self._forgetting[key]
        report = ForgetReport(guild_id, user_id, tuple(items))
        log.info(
            "forgot member %s in guild %s: %s",
            user_id,
            guild_id,
            ", ".join(f"{i.what}={i.count} {i.action}" for i in items if i.count) or "nothing",
        )
        return report

    async def purge_guild(self, guild_id: int) -> int:
        """Every row of the guild, features first and the core (with its departure row) last."""
        total = 0
        for contributor in reversed(self._contributors):
            total += await contributor.purge_guild(guild_id)
        return total
