"""Check-in writes through the service layer, beside raw inserts of the same rows.

`CheckInService.record` is what `/checkin` calls: validation, the member's calendar, one upsert,
the week's hours and the streak read back. Writers run concurrently (members checking in at
once), each check-in by another member, on a guild with eight weeks of history. The baseline
inserts the same rows with the bare driver in the same run, one commit per row (each check-in
is answered only once it is stored); a single transaction for all rows is reported beside it.
On PostgreSQL the seeded history is analysed first, as autovacuum would; SQLite gathers no
statistics unless asked, and the bot never asks.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

from benchmarks.framework import Result, median, percentile
from benchmarks.support import POSTGRES_URL, frozen_heap, migrated, postgres_database, scratch
from bot.clock import FrozenClock
from bot.services.checkins import CheckInService
from db.engine import SQLITE_BUSY_TIMEOUT_MS, Database
from db.repositories.checkins import CheckInsRepository
from db.repositories.guild_settings import GuildSettingsRepository
from db.schema.goals import checkins

GUILD = 1_100_000_000_000_000_001
FIRST_USER = 1_300_000_000_000_000_000
NOW = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)  # a Wednesday
WEEK_KEY = date(2026, 11, 16)
HISTORY_WEEKS = 8
WRITERS = 50
TARGET = 1000.0

COLUMNS = (
    "guild_id", "user_id", "local_day", "week_key", "hours", "done", "next_steps",
    "blockers", "mood", "revision", "created_at", "updated_at",
)  # fmt: skip


def members(round_: int, count: int) -> list[int]:
    return [FIRST_USER + round_ * 1_000_000 + n for n in range(count)]


def answers(n: int) -> dict[str, Any]:
    return {
        "hours": 0.5 + n % 6,
        "done": f"Watched lesson {n % 40} and did the quiz",
        "next_steps": "Start the next module",
        "blockers": None if n % 3 else "Docker on Windows",
        "mood": 1 + n % 5,
    }


def raw_row(user_id: int, n: int, sqlite: bool) -> tuple[Any, ...]:
    a = answers(n)
    now: Any = NOW.replace(tzinfo=None).isoformat(sep=" ") if sqlite else NOW
    day: Any = NOW.date().isoformat() if sqlite else NOW.date()
    week: Any = WEEK_KEY.isoformat() if sqlite else WEEK_KEY
    return (
        GUILD, user_id, day, week, a["hours"], a["done"], a["next_steps"], a["blockers"],
        a["mood"], 1, now, now,
    )  # fmt: skip


async def seed_history(database: Database, users: list[int]) -> None:
    """Eight earlier weeks with a check-in for every member (streaks and hours read them)."""
    rows = []
    for week in range(1, HISTORY_WEEKS + 1):
        key = WEEK_KEY - timedelta(weeks=week)
        at = NOW - timedelta(weeks=week)
        for n, user_id in enumerate(users):
            rows.append(
                {"guild_id": GUILD, "user_id": user_id, "local_day": key + timedelta(days=2),
                 "week_key": key, "revision": 1, "created_at": at, "updated_at": at,
                 **answers(n)}
            )  # fmt: skip
    async with database.engine.begin() as conn:
        await conn.execute(checkins.insert(), rows)


async def through_service(database: Database, users: list[int]) -> tuple[float, list[float]]:
    """(seconds for all, latency of each) with WRITERS concurrent callers."""
    service = CheckInService(
        CheckInsRepository(database.engine),
        GuildSettingsRepository(database.engine),
        FrozenClock(NOW),
    )
    queue = list(enumerate(users))
    latencies: list[float] = []

    async def writer() -> None:
        while queue:
            n, user_id = queue.pop()
            start = time.perf_counter()
            await service.record(GUILD, user_id, **answers(n))
            latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    await asyncio.gather(*(writer() for _ in range(WRITERS)))
    return time.perf_counter() - start, latencies


Raw = tuple[float, list[float], float]  # rows/s one commit per row, its latencies, rows/s bulk


def raw_sqlite(path: Path, rows: list[tuple[Any, ...]]) -> Raw:
    """Rows/s and latencies with one commit per row, rows/s all in one transaction; with the
    bot's pragmas."""
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in (
        "journal_mode=WAL", "foreign_keys=ON", f"busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
        "synchronous=NORMAL",
    ):  # fmt: skip
        conn.execute(f"PRAGMA {pragma}")
    sql = f"INSERT INTO checkins ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
    half = len(rows) // 2
    latencies = []
    start = time.perf_counter()
    for row in rows[:half]:
        began = time.perf_counter()
        conn.execute(sql, row)  # autocommit: one transaction per row
        latencies.append(time.perf_counter() - began)
    per_row = half / (time.perf_counter() - start)
    start = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany(sql, rows[half:])
    conn.execute("COMMIT")
    bulk = (len(rows) - half) / (time.perf_counter() - start)
    conn.close()
    return per_row, latencies, bulk


async def raw_postgres(url: str, rows: list[tuple[Any, ...]]) -> Raw:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql://", "postgres://", 1))
    sql = (
        f"INSERT INTO checkins ({', '.join(COLUMNS)}) "
        f"VALUES ({', '.join(f'${i}' for i in range(1, len(COLUMNS) + 1))})"
    )
    half = len(rows) // 2
    latencies = []
    try:
        start = time.perf_counter()
        for row in rows[:half]:
            began = time.perf_counter()
            await conn.execute(sql, *row)
            latencies.append(time.perf_counter() - began)
        per_row = half / (time.perf_counter() - start)
        start = time.perf_counter()
        async with conn.transaction():
            await conn.executemany(sql, rows[half:])
        bulk = (len(rows) - half) / (time.perf_counter() - start)
    finally:
        await conn.close()
    return per_row, latencies, bulk


async def measure(url: str, backend: str, per_round: int, rounds: int) -> list[Result]:
    history = members(99, per_round)
    rates: list[float] = []
    latencies: list[float] = []
    async with migrated(url) as database:
        await seed_history(database, history)
        if backend == "postgresql":
            # What autovacuum does within a minute of a bulk load; without it the planner
            # still believes the table is empty and scans it for every batch's weeks.
            async with database.engine.begin() as conn:
                await conn.execute(text("ANALYZE"))
        await through_service(database, history[: per_round // 5])  # warm-up: updates
        for round_ in range(rounds):
            # Half the writers are members with history, half are new.
            users = history[round_::rounds][: per_round // 2] + members(round_, per_round // 2)
            with frozen_heap():
                seconds, each = await through_service(database, users)
            rates.append(len(users) / seconds)
            latencies += each
    rows = [raw_row(u, n, backend == "sqlite") for n, u in enumerate(members(50, per_round))]
    if backend == "sqlite":
        with scratch() as workdir:
            raw_url = f"sqlite:///{workdir}/raw.sqlite3"
            async with migrated(raw_url):
                pass
            per_row, raw_latencies, bulk = raw_sqlite(workdir / "raw.sqlite3", rows)
    else:
        async with postgres_database() as raw_url:
            async with migrated(raw_url):
                pass
            per_row, raw_latencies, bulk = await raw_postgres(raw_url, rows)
    rate = median(rates)
    p50, p99 = median(latencies), percentile(latencies, 99)
    raw_p99 = percentile(raw_latencies, 99)
    name = "SQLite WAL" if backend == "sqlite" else "PostgreSQL"
    driver = "sqlite3" if backend == "sqlite" else "asyncpg"
    workload = f"CheckInService.record, {WRITERS} concurrent, {rounds}×{per_round:,} check-ins"
    return [
        Result(
            benchmark=f"check-in writes ({name})",
            workload=workload,
            unit="/s",
            median=rate,
            target="≥ 1,000/s",
            met=rate >= TARGET,
            baseline_name=f"raw {driver}, commit per row",
            baseline=per_row,
            ratio=rate / per_row,
            notes=f"raw {driver}, one transaction for all rows: {bulk:,.0f}/s",
            extra={"rates": rates, "raw_one_transaction": bulk},
        ),
        Result(
            benchmark=f"check-in latency ({name})",
            workload=f"the same, per call (answered after its commit, {WRITERS} in flight)",
            unit="s",
            median=p50,
            p99=p99,
            target="— (see writes/s)",
            # Not a ratio: the raw inserts run one at a time, these with 50 waiting together.
            baseline_name=f"raw {driver} insert+commit, one at a time, p99",
            baseline=raw_p99,
            extra={"max": max(latencies), "raw_p50": median(raw_latencies)},
        ),
    ]


async def run(quick: bool) -> list[Result]:
    per_round, rounds = (2000, 2) if quick else (6000, 3)
    results: list[Result] = []
    with scratch() as workdir:
        url = f"sqlite:///{workdir}/cohort.sqlite3"
        results += await measure(url, "sqlite", per_round, rounds)
    if POSTGRES_URL:
        async with postgres_database() as url:
            results += await measure(url, "postgresql", per_round, rounds)
    return results
