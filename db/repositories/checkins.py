"""Daily check-ins: one row per member per local day, written by one upsert.

A second check-in the same day replaces only the fields it gives and keeps the others
(``SET field = COALESCE(excluded.field, field)``); the unique (guild_id, user_id, local_day)
constraint with INSERT … ON CONFLICT DO UPDATE leaves exactly one row however many submissions
race. Weekly figures are aggregated in SQL.

Writes are group-committed: check-ins that arrive while a write is in flight are written
together by the next one (a few statements per batch, one transaction), so throughput grows
with load instead of writers queueing for SQLite's lock. Which day a check-in is filed under
depends on the member's calendar (the guild's timezone and week start, the member's own
timezone); the batch reads those for all its members at once and asks the caller's
``DayResolver`` for the day, so no per-check-in lookups are needed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    SmallInteger,
    delete,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from db.dialect import insert
from db.repositories.guild_settings import GuildSettings
from db.schema.core import guild_settings, member_preferences
from db.schema.goals import checkins
from db.types import AnyRow

log = logging.getLogger(__name__)

# The fields a check-in may give; a later check-in the same day replaces only those it gives.
CHECKIN_FIELDS = ("hours", "done", "next_steps", "blockers", "mood")
_KEY = ("guild_id", "user_id", "local_day")


@dataclass(frozen=True)
class CheckIn:
    id: int
    guild_id: int
    user_id: int
    local_day: date
    week_key: date
    hours: float | None
    done: str | None
    next_steps: str | None
    blockers: str | None
    mood: int | None
    revision: int
    created_at: datetime
    updated_at: datetime

    @property
    def is_update(self) -> bool:
        """True when this day already had a check-in that this one updated."""
        return self.revision > 1


@dataclass(frozen=True)
class WeekCheckIns:
    """One member's check-ins in one week: how many days and the hours reported."""

    week_key: date
    days: int
    hours: float


@dataclass(frozen=True)
class Calendar:
    """What decides a member's check-in day and study week."""

    guild_timezone: str
    week_start: int
    member_timezone: str | None


# Given the member's calendar: the (local_day, week_key) to file the check-in under.
DayResolver = Callable[[Calendar], tuple[date, date]]


@dataclass(frozen=True)
class Recorded:
    """A check-in as stored, the calendar it was filed by, and the member's weeks that have
    check-ins, oldest first (read in the same transaction: the week's hours, the streak)."""

    checkin: CheckIn
    calendar: Calendar
    weeks: tuple[WeekCheckIns, ...]


@dataclass(frozen=True)
class GuildWeekCheckIns:
    """A guild's check-ins in one week: members who checked in and their total hours."""

    week_key: date
    members: int
    hours: float


_COLUMNS = (
    checkins.c.id,
    checkins.c.guild_id,
    checkins.c.user_id,
    checkins.c.local_day,
    checkins.c.week_key,
    checkins.c.hours,
    checkins.c.done,
    checkins.c.next_steps,
    checkins.c.blockers,
    checkins.c.mood,
    checkins.c.revision,
    checkins.c.created_at,
    checkins.c.updated_at,
)


def _checkin(row: AnyRow) -> CheckIn:
    values = dict(row._mapping)
    if values["hours"] is not None:
        values["hours"] = float(values["hours"])
    return CheckIn(**values)


def _member(guild_id: int, user_id: int) -> ColumnElement[bool]:
    return (checkins.c.guild_id == guild_id) & (checkins.c.user_id == user_id)


def _members_of(guild_id: int, user_ids: list[int]) -> ColumnElement[bool]:
    # guild_id = ? AND user_id IN (…) searches ix_checkins_member_week; a row-value IN
    # ((guild_id, user_id) IN …) would make SQLite scan the whole guild.
    return (checkins.c.guild_id == guild_id) & checkins.c.user_id.in_(user_ids)


@dataclass
class _Pending:
    guild_id: int
    user_id: int
    values: dict[str, Any]  # the row, without local_day and week_key until resolved
    resolve_day: DayResolver
    future: asyncio.Future[Recorded]

    @property
    def member(self) -> tuple[int, int]:
        return self.guild_id, self.user_id

    @property
    def key(self) -> tuple[Any, ...]:
        return self.guild_id, self.user_id, self.values["local_day"]

    def settle(self, result: Recorded | BaseException) -> None:
        if self.future.done():  # the caller gave up waiting
            return
        if isinstance(result, BaseException):
            self.future.set_exception(result)
        else:
            self.future.set_result(result)


def _upsert(dialect: str) -> Any:
    stmt = insert(dialect, checkins)
    return stmt.on_conflict_do_update(
        index_elements=list(_KEY),
        set_={
            **{
                name: func.coalesce(stmt.excluded[name], checkins.c[name])
                for name in CHECKIN_FIELDS
            },
            "updated_at": stmt.excluded.updated_at,
            "revision": checkins.c.revision + 1,
        },
    ).returning(*_COLUMNS)


# Built once per dialect: constructing an upsert costs more than executing it.
_UPSERTS = {dialect: _upsert(dialect) for dialect in ("sqlite", "postgresql")}


def _rounds(batch: list[_Pending]) -> list[list[_Pending]]:
    """Split a batch so no statement touches one day twice (PostgreSQL refuses that), keeping
    each member's submissions in order."""
    rounds: list[list[_Pending]] = []
    seen: dict[tuple[Any, ...], int] = {}
    for pending in batch:
        index = seen.get(pending.key, -1) + 1
        seen[pending.key] = index
        if index == len(rounds):
            rounds.append([])
        rounds[index].append(pending)
    return rounds


class CheckInsRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._queue: list[_Pending] = []
        self._writer: asyncio.Task[None] | None = None

    async def record(
        self,
        guild_id: int,
        user_id: int,
        local_day: date,
        week_key: date,
        now: datetime,
        **fields: Any,
    ) -> Recorded:
        """Create the check-in of `local_day` or merge the given `fields` into it."""
        return await self.record_for_member(
            guild_id, user_id, now, lambda _calendar: (local_day, week_key), **fields
        )

    async def record_for_member(
        self,
        guild_id: int,
        user_id: int,
        now: datetime,
        resolve_day: DayResolver,
        **fields: Any,
    ) -> Recorded:
        """Create the member's check-in of the day `resolve_day` picks from their calendar, or
        merge the given `fields` into it.

        A field given as None counts as not given (the stored value is kept). `week_key` and
        `created_at` stay those of the day's first check-in.
        """
        unknown = set(fields) - set(CHECKIN_FIELDS)
        if unknown:
            raise ValueError(f"unknown check-in fields: {sorted(unknown)}")
        values: dict[str, Any] = {
            "guild_id": guild_id,
            "user_id": user_id,
            "created_at": now,
            "updated_at": now,
            "revision": 1,
            **dict.fromkeys(CHECKIN_FIELDS),
            **fields,
        }
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Recorded] = loop.create_future()
        self._queue.append(_Pending(guild_id, user_id, values, resolve_day, future))
        writer = self._writer
        if writer is None or writer.done() or writer.get_loop() is not loop:
            self._writer = loop.create_task(self._write_queued())
        return await future

    async def on_day(self, guild_id: int, user_id: int, local_day: date) -> CheckIn | None:
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    select(*_COLUMNS).where(
                        _member(guild_id, user_id), checkins.c.local_day == local_day
                    )
                )
            ).first()
        return _checkin(row) if row else None

    async def weekly(
        self, guild_id: int, user_id: int, first_day: date | None, last_day: date
    ) -> list[WeekCheckIns]:
        """Per week key from `first_day` (None: the very first) to `last_day`, oldest first:
        days checked in and hours reported. Weeks without a check-in are absent."""
        where = [_member(guild_id, user_id), checkins.c.week_key <= last_day]
        if first_day is not None:
            where.append(checkins.c.week_key >= first_day)
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(
                    checkins.c.week_key,
                    func.count().label("days"),
                    func.coalesce(func.sum(checkins.c.hours), 0.0).label("hours"),
                )
                .where(*where)
                .group_by(checkins.c.week_key)
                .order_by(checkins.c.week_key)
            )
            return [WeekCheckIns(r.week_key, r.days, float(r.hours)) for r in rows]

    async def guild_weekly(
        self, guild_id: int, first_day: date, last_day: date
    ) -> list[GuildWeekCheckIns]:
        """Per week key of a guild: members who checked in and their total hours."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(
                    checkins.c.week_key,
                    func.count(checkins.c.user_id.distinct()).label("members"),
                    func.coalesce(func.sum(checkins.c.hours), 0.0).label("hours"),
                )
                .where(
                    checkins.c.guild_id == guild_id,
                    checkins.c.week_key.between(first_day, last_day),
                )
                .group_by(checkins.c.week_key)
                .order_by(checkins.c.week_key)
            )
            return [GuildWeekCheckIns(r.week_key, r.members, float(r.hours)) for r in rows]

    async def last_at(self, guild_id: int, user_id: int) -> datetime | None:
        """When the member last checked in (or updated a check-in) in this guild."""
        async with self._engine.connect() as conn:
            value: datetime | None = (
                await conn.execute(
                    select(func.max(checkins.c.updated_at)).where(_member(guild_id, user_id))
                )
            ).scalar_one()
        return value

    async def for_member(self, guild_id: int, user_id: int) -> list[CheckIn]:
        """All of a member's check-ins in a guild (for a data export)."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(*_COLUMNS).where(_member(guild_id, user_id)).order_by(checkins.c.local_day)
            )
            return [_checkin(row) for row in rows]

    async def delete_member(self, guild_id: int, user_id: int) -> int:
        """Delete all of a member's check-ins in a guild; returns how many."""
        async with self._engine.begin() as conn:
            result = await conn.execute(delete(checkins).where(_member(guild_id, user_id)))
        return int(result.rowcount or 0)

    async def delete_guild(self, guild_id: int) -> int:
        async with self._engine.begin() as conn:
            result = await conn.execute(delete(checkins).where(checkins.c.guild_id == guild_id))
        return int(result.rowcount or 0)

    # ---------------------------------------------------------------------------------------

    async def _write_queued(self) -> None:
        batch: list[_Pending] = []
        try:
            while self._queue:
                batch, self._queue = self._queue, []
                await self._write_batch(batch)
        except BaseException as exc:  # cancelled at shutdown: nobody may wait forever
            for pending in [*batch, *self._queue]:
                pending.settle(exc)
            self._queue = []
            raise

    async def _write_batch(self, batch: list[_Pending]) -> None:
        try:
            results = await self._write(batch)
        except Exception as exc:
            if _locked(exc):
                # Another writer holds the database: writing one by one would only wait again,
                # and so would what queued meanwhile, past Discord's 3 s. All hear "busy" now.
                waiting, self._queue = self._queue, []
                for pending in [*batch, *waiting]:
                    pending.settle(exc)
                return
            if len(batch) == 1:
                batch[0].settle(exc)
                return
            # One bad row must not fail the others: write them one by one.
            log.debug("check-in batch of %s failed (%s); writing one by one", len(batch), exc)
            for pending in batch:
                try:
                    (result,) = await self._write([pending])
                except Exception as single:
                    pending.settle(single)
                else:
                    pending.settle(result)
            return
        for pending, result in zip(batch, results, strict=True):
            pending.settle(result)

    async def _write(self, batch: list[_Pending]) -> list[Recorded]:
        members = {pending.member for pending in batch}
        async with self._engine.begin() as conn:
            calendars = await _calendars(conn, members)
            for pending in batch:
                local_day, week_key = pending.resolve_day(calendars[pending.member])
                pending.values.update(local_day=local_day, week_key=week_key)
            written: dict[int, CheckIn] = {}
            for round_ in _rounds(batch):
                by_key = await _upsert_rows(conn, [p.values for p in round_])
                for pending in round_:
                    written[id(pending)] = by_key[pending.key]
            weeks = await _weeks_of(conn, members)
        return [
            Recorded(written[id(p)], calendars[p.member], weeks.get(p.member, ())) for p in batch
        ]


def _locked(error: BaseException) -> bool:
    text = str(error).lower()
    return isinstance(error, OperationalError) and ("locked" in text or "busy" in text)


def _by_guild(members: set[tuple[int, int]]) -> dict[int, list[int]]:
    by_guild: dict[int, list[int]] = {}
    for guild_id, user_id in sorted(members):
        by_guild.setdefault(guild_id, []).append(user_id)
    return by_guild


async def _calendars(
    conn: AsyncConnection, members: set[tuple[int, int]]
) -> dict[tuple[int, int], Calendar]:
    """Each member's calendar: guild settings (or their defaults) and the member's own zone,
    in one round trip (UNION ALL of the guild rows and the member rows)."""
    by_guild = _by_guild(members)
    guild_rows = select(
        guild_settings.c.guild_id,
        literal(None, BigInteger).label("user_id"),
        guild_settings.c.timezone,
        guild_settings.c.week_start,
    ).where(guild_settings.c.guild_id.in_(list(by_guild)))
    member_rows = select(
        member_preferences.c.guild_id,
        member_preferences.c.user_id,
        member_preferences.c.timezone,
        literal(None, SmallInteger).label("week_start"),
    ).where(
        or_(
            *(
                (member_preferences.c.guild_id == guild_id)
                & member_preferences.c.user_id.in_(user_ids)
                for guild_id, user_ids in by_guild.items()
            )
        )
    )
    defaults = GuildSettings(guild_id=0)
    guilds: dict[int, tuple[str, int]] = {}
    zones: dict[tuple[int, int], str | None] = {}
    for row in await conn.execute(union_all(guild_rows, member_rows)):
        if row.user_id is None:
            guilds[row.guild_id] = (row.timezone, row.week_start)
        else:
            zones[(row.guild_id, row.user_id)] = row.timezone
    calendars = {}
    for member in members:
        timezone, week_start = guilds.get(member[0], (defaults.timezone, defaults.week_start))
        calendars[member] = Calendar(timezone, week_start, zones.get(member))
    return calendars


async def _upsert_rows(
    conn: AsyncConnection, rows: list[dict[str, Any]]
) -> dict[tuple[Any, ...], CheckIn]:
    result = await conn.execute(_UPSERTS[conn.dialect.name], rows)
    written = (_checkin(row) for row in result)
    return {(c.guild_id, c.user_id, c.local_day): c for c in written}


async def _weeks_of(
    conn: AsyncConnection, members: set[tuple[int, int]]
) -> dict[tuple[int, int], tuple[WeekCheckIns, ...]]:
    """Per member: the weeks with check-ins, oldest first, in one GROUP BY for the batch."""
    rows = await conn.execute(
        select(
            checkins.c.guild_id,
            checkins.c.user_id,
            checkins.c.week_key,
            func.count().label("days"),
            func.coalesce(func.sum(checkins.c.hours), 0.0).label("hours"),
        )
        .where(
            or_(*(_members_of(guild_id, users) for guild_id, users in _by_guild(members).items()))
        )
        .group_by(checkins.c.guild_id, checkins.c.user_id, checkins.c.week_key)
        .order_by(checkins.c.guild_id, checkins.c.user_id, checkins.c.week_key)
    )
    weeks: dict[tuple[int, int], list[WeekCheckIns]] = {}
    for row in rows:
        weeks.setdefault((row.guild_id, row.user_id), []).append(
            WeekCheckIns(row.week_key, row.days, float(row.hours))
        )
    return {member: tuple(found) for member, found in weeks.items()}
