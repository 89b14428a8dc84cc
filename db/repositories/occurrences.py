"""Occurrences: one row per fire time of a schedule, moving pending → claimed → sent | missed.

Claiming is one conditional UPDATE, so of several claimers exactly one wins on both backends
(on PostgreSQL the row lock makes a second claimer re-check the condition and find it taken);
a claim holds a lease, and an expired lease can be claimed again (the previous claimer died).
Every claim increments ``attempts``, which is the claim's fencing token: recording the post,
moving the lease or giving up needs the claimer's token *and* its attempt number, so a holder
whose lease was taken over can never overwrite what the new holder does.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, delete, func, or_, select, type_coerce, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from db.dialect import insert
from db.repositories.schedules import ZonedSchedule, zoned_row, zoned_select
from db.schema.schedules import schedule_nudges, schedule_occurrences, schedules
from db.shards import owned
from db.types import AnyRow, UtcDateTime
from db.upsert import upsert

PENDING, CLAIMED, SENT, MISSED = "pending", "claimed", "sent", "missed"

_o = schedule_occurrences


@dataclass(frozen=True)
class Occurrence:
    id: int
    schedule_id: int
    fire_at: datetime
    manual: bool
    state: str
    claimed_by: str | None
    lease_until: datetime | None
    attempts: int
    message_id: int | None
    sent_at: datetime | None
    late: bool
    coalesced: int
    outcome: str | None


@dataclass(frozen=True)
class NewOccurrence:
    """A fire time to record: pending (to fire) or already missed (with why)."""

    schedule_id: int
    fire_at: datetime
    state: str = PENDING
    outcome: str | None = None


@dataclass(frozen=True)
class DueOccurrence:
    occurrence: Occurrence
    schedule: ZonedSchedule


@dataclass(frozen=True)
class NudgePlan:
    user_id: int
    due_at: datetime


_COLUMNS = (
    _o.c.id,
    _o.c.schedule_id,
    _o.c.fire_at,
    _o.c.manual,
    _o.c.state,
    _o.c.claimed_by,
    _o.c.lease_until,
    _o.c.attempts,
    _o.c.message_id,
    _o.c.sent_at,
    _o.c.late,
    _o.c.coalesced,
    _o.c.outcome,
)
_NAMES = tuple(c.name for c in _COLUMNS)
# Aliased so they do not clash with the schedule's columns in joined queries.
_LABELLED = tuple(c.label(f"occ_{c.name}") for c in _COLUMNS)


def _occurrence(row: AnyRow, prefix: str = "") -> Occurrence:
    m = row._mapping
    values = {name: m[prefix + name] for name in _NAMES}
    values["manual"] = bool(values["manual"])
    values["late"] = bool(values["late"])
    return Occurrence(**values)


def _held(occurrence_id: int, token: str, attempt: int | None) -> Any:
    """Still claimed by this claimer, and by this very claim when `attempt` is given."""
    held = and_(_o.c.id == occurrence_id, _o.c.state == CLAIMED, _o.c.claimed_by == token)
    return held if attempt is None else and_(held, _o.c.attempts == attempt)


def _claimable(now: datetime) -> Any:
    """Pending, or claimed by someone whose lease ran out."""
    return or_(_o.c.state == PENDING, and_(_o.c.state == CLAIMED, _o.c.lease_until < now))


def _row(new: NewOccurrence, now: datetime) -> dict[str, Any]:
    return {
        "schedule_id": new.schedule_id,
        "fire_at": new.fire_at,
        "manual": False,
        "state": new.state,
        "outcome": new.outcome,
        "created_at": now,
    }


def _insert_missing(dialect: str) -> Any:
    """INSERT … ON CONFLICT DO NOTHING for occurrence rows (given as execute parameters)."""
    return insert(dialect, _o).on_conflict_do_nothing(
        index_elements=["schedule_id", "fire_at", "manual"]
    )


# SQLite has one writer at a time; a burst of concurrent writers (a thousand occurrences due
# in the same minute) spins in SQLite's busy handler for seconds. Queueing them in-process
# keeps each write a millisecond and first come, first served.
_SQLITE_WRITERS: weakref.WeakKeyDictionary[Any, asyncio.Lock] = weakref.WeakKeyDictionary()


class OccurrenceRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._lock: asyncio.Lock | None = None
        if engine.dialect.name == "sqlite":
            self._lock = _SQLITE_WRITERS.setdefault(engine.sync_engine, asyncio.Lock())

    @contextlib.asynccontextmanager
    async def _writing(self) -> AsyncIterator[AsyncConnection]:
        if self._lock is None:
            async with self._engine.begin() as conn:
                yield conn
        else:
            async with self._lock, self._engine.begin() as conn:
                yield conn

    async def record(self, rows: Iterable[NewOccurrence], now: datetime) -> None:
        """Insert fire times that are not recorded yet (existing ones are left as they are)."""
        values = [_row(r, now) for r in rows]
        if not values:
            return
        async with self._writing() as conn:
            # One statement, many parameter sets: the start-up rebuild stays one round trip.
            await conn.execute(_insert_missing(conn.dialect.name), values)

    async def add_manual(self, schedule_id: int, now: datetime) -> Occurrence:
        """A `/schedule run`: its own occurrence at `now` (the same instant twice is one run)."""
        values = {
            "schedule_id": schedule_id,
            "fire_at": now,
            "manual": True,
            "state": PENDING,
            "created_at": now,
        }
        async with self._writing() as conn:
            await conn.execute(
                upsert(
                    conn.dialect.name,
                    _o,
                    values,
                    conflict=["schedule_id", "fire_at", "manual"],
                    update=[],
                )
            )
            row = (
                await conn.execute(
                    select(*_COLUMNS).where(
                        _o.c.schedule_id == schedule_id, _o.c.fire_at == now, _o.c.manual.is_(True)
                    )
                )
            ).one()
        return _occurrence(row)

    async def get(self, occurrence_id: int) -> Occurrence | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(*_COLUMNS).where(_o.c.id == occurrence_id))).first()
        return _occurrence(row) if row else None

    async def for_schedule(self, schedule_id: int) -> list[Occurrence]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(*_COLUMNS)
                .where(_o.c.schedule_id == schedule_id)
                .order_by(_o.c.fire_at, _o.c.id)
            )
            return [_occurrence(row) for row in rows]

    async def recorded_messages(self, message_ids: Sequence[int]) -> set[int]:
        """Which of these message ids an occurrence already recorded as its post."""
        if not message_ids:
            return set()
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(_o.c.message_id).where(_o.c.message_id.in_(list(message_ids)))
            )
            return {int(row[0]) for row in rows}

    async def claim(
        self,
        occurrence_id: int,
        token: str,
        now: datetime,
        lease_until: datetime,
        *,
        then: NewOccurrence | None = None,
    ) -> Occurrence | None:
        """Take the occurrence if it is pending or its lease expired; None if someone has it.

        ``then`` (the schedule's next fire time) is recorded in the same transaction, so the
        cadence goes on whatever happens to this post.
        """
        async with self._writing() as conn:
            row = (
                await conn.execute(
                    update(_o)
                    .where(_o.c.id == occurrence_id, _claimable(now))
                    .values(
                        state=CLAIMED,
                        claimed_by=token,
                        lease_until=lease_until,
                        attempts=_o.c.attempts + 1,
                    )
                    .returning(*_COLUMNS)
                )
            ).first()
            if row is not None and then is not None:
                await conn.execute(_insert_missing(conn.dialect.name), [_row(then, now)])
        return _occurrence(row) if row else None

    async def extend(
        self, occurrence_id: int, token: str, lease_until: datetime, *, attempt: int | None = None
    ) -> Occurrence | None:
        """Move the lease (a later retry, or giving it back early); only the holder can."""
        async with self._writing() as conn:
            row = (
                await conn.execute(
                    update(_o)
                    .where(_held(occurrence_id, token, attempt))
                    .values(lease_until=lease_until)
                    .returning(*_COLUMNS)
                )
            ).first()
        return _occurrence(row) if row else None

    async def mark_sent(
        self,
        occurrence_id: int,
        token: str,
        *,
        message_id: int,
        sent_at: datetime,
        late: bool,
        coalesced: int = 0,
        guild_id: int | None = None,
        nudges: Sequence[NudgePlan] = (),
        attempt: int | None = None,
    ) -> bool:
        """Record the post (and the DM nudges it plans) in one transaction; holder only."""
        async with self._writing() as conn:
            result = await conn.execute(
                update(_o)
                .where(_held(occurrence_id, token, attempt))
                .values(
                    state=SENT,
                    message_id=message_id,
                    sent_at=sent_at,
                    late=late,
                    coalesced=coalesced,
                    lease_until=None,
                )
            )
            if result.rowcount != 1:
                return False
            if nudges and guild_id is not None:
                rows = [
                    {
                        "occurrence_id": occurrence_id,
                        "user_id": n.user_id,
                        "guild_id": guild_id,
                        "due_at": n.due_at,
                        "state": "scheduled",
                    }
                    for n in nudges
                ]
                stmt = upsert(
                    conn.dialect.name,
                    schedule_nudges,
                    rows[0],
                    conflict=["occurrence_id", "user_id"],
                    update=[],
                )
                await conn.execute(stmt, rows)
        return True

    async def give_up(
        self, occurrence_id: int, token: str, outcome: str, *, attempt: int | None = None
    ) -> bool:
        """The holder records that this occurrence will not be posted."""
        async with self._writing() as conn:
            result = await conn.execute(
                update(_o)
                .where(_held(occurrence_id, token, attempt))
                .values(state=MISSED, outcome=outcome[:40], lease_until=None)
            )
        return result.rowcount == 1

    async def mark_missed(self, occurrence_ids: Sequence[int], outcome: str, now: datetime) -> int:
        """Mark unclaimed (or abandoned) occurrences missed; returns how many changed."""
        if not occurrence_ids:
            return 0
        async with self._writing() as conn:
            result = await conn.execute(
                update(_o)
                .where(_o.c.id.in_(occurrence_ids), _claimable(now))
                .values(state=MISSED, outcome=outcome[:40], lease_until=None)
            )
        return int(result.rowcount)

    async def due(
        self,
        now: datetime,
        limit: int = 5000,
        *,
        shard_count: int | None = None,
        shard_ids: Sequence[int] | None = None,
    ) -> list[DueOccurrence]:
        """Occurrences to act on now, with their schedules, oldest first; only of guilds in
        `shard_ids` of `shard_count` when given (the shards this process holds)."""
        query = (
            zoned_select()
            .add_columns(*_LABELLED)
            .join_from(schedules, _o, _o.c.schedule_id == schedules.c.id)
            .where(
                or_(
                    and_(_o.c.state == PENDING, _o.c.fire_at <= now),
                    and_(_o.c.state == CLAIMED, _o.c.lease_until < now),
                ),
                owned(schedules.c.guild_id, shard_count, shard_ids),
            )
            .order_by(_o.c.fire_at, _o.c.id)
            .limit(limit)
        )
        async with self._engine.connect() as conn:
            return [
                DueOccurrence(_occurrence(row, "occ_"), zoned_row(row))
                for row in await conn.execute(query)
            ]

    async def latest_fire_times(self) -> dict[int, datetime]:
        """Per schedule, the latest recorded fire time of its cadence (manual runs aside)."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(_o.c.schedule_id, func.max(_o.c.fire_at))
                .where(_o.c.manual.is_(False))
                .group_by(_o.c.schedule_id)
            )
            return {schedule_id: at for schedule_id, at in rows}

    async def wake_times(
        self,
        schedule_ids: Sequence[int] | None = None,
        *,
        shard_count: int | None = None,
        shard_ids: Sequence[int] | None = None,
    ) -> dict[int, datetime]:
        """Per schedule, when the timer should next look at it: the earliest pending fire time,
        or when a claim's lease runs out (only schedules of guilds in `shard_ids` when given)."""
        wake = type_coerce(
            func.min(case((_o.c.state == PENDING, _o.c.fire_at), else_=_o.c.lease_until)),
            UtcDateTime,
        )
        query = (
            select(_o.c.schedule_id, wake)
            .where(_o.c.state.in_((PENDING, CLAIMED)))
            .group_by(_o.c.schedule_id)
        )
        if schedule_ids is not None:
            query = query.where(_o.c.schedule_id.in_(schedule_ids))
        if shard_ids is not None:
            query = query.join_from(_o, schedules, schedules.c.id == _o.c.schedule_id).where(
                owned(schedules.c.guild_id, shard_count, shard_ids)
            )
        async with self._engine.connect() as conn:
            rows = await conn.execute(query)
            return {schedule_id: at for schedule_id, at in rows if at is not None}

    async def next_fire_times(self, schedule_ids: Sequence[int]) -> dict[int, datetime]:
        """Per schedule, its next recorded cadence fire time that has not fired yet."""
        if not schedule_ids:
            return {}
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(_o.c.schedule_id, func.min(_o.c.fire_at))
                .where(
                    _o.c.schedule_id.in_(schedule_ids),
                    _o.c.state == PENDING,
                    _o.c.manual.is_(False),
                )
                .group_by(_o.c.schedule_id)
            )
            return {schedule_id: at for schedule_id, at in rows}

    async def drop_pending(self, schedule_ids: Sequence[int], *, after: datetime) -> int:
        """Forget cadence fire times after `after` that nobody has claimed (a reschedule)."""
        if not schedule_ids:
            return 0
        async with self._writing() as conn:
            result = await conn.execute(
                delete(_o).where(
                    _o.c.schedule_id.in_(schedule_ids),
                    _o.c.state == PENDING,
                    _o.c.manual.is_(False),
                    _o.c.fire_at > after,
                )
            )
        return int(result.rowcount)

    async def miss_pending(self, schedule_ids: Sequence[int], outcome: str) -> int:
        """Every unclaimed occurrence of these schedules becomes missed (paused, disabled)."""
        if not schedule_ids:
            return 0
        async with self._writing() as conn:
            result = await conn.execute(
                update(_o)
                .where(_o.c.schedule_id.in_(schedule_ids), _o.c.state == PENDING)
                .values(state=MISSED, outcome=outcome[:40])
            )
        return int(result.rowcount)
