"""/group plans and the weekly summary for a group of 5,000 members on course plans.

Data on SQLite, seeded with plain SQL: the Meta Back-End pack (9 modules), 5,000 plans started
over the last half year with targets 4–14 months out, 0–9 finished modules each, 12 weeks of
check-ins (1–5 days a week for most members), and one member in twenty away. `/group plans` is
timed as the command computes it without Discord: every member assessed (pace needed and kept,
projection, on track) and the pages built. The weekly summary (with its "on track" figure) is
timed without its chart, as in bench_summary.

Baseline: reading the rows those figures come from (plans, finished modules, the weeks of
check-ins the pace looks at, away periods) once with the bare sqlite3 driver, in the same run.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from unittest import mock
from zoneinfo import ZoneInfo

from benchmarks.framework import Result, median, percentile, repeat, repeat_async
from benchmarks.support import frozen_heap, migrated, scratch
from bot.app import build_services
from bot.clock import FrozenClock
from bot.domain.weeks import StudyWeek
from cogs._plan_views import plans_pages

GUILD = 1_100_000_000_000_000_001
FIRST_USER = 1_300_000_000_000_000_000
THIS_WEEK = date(2026, 11, 16)  # a Monday
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
CHECKIN_WEEKS = 12
TARGET = 0.500


def _stamp(moment: datetime) -> str:
    """How SQLAlchemy stores a UTC datetime in SQLite."""
    return moment.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def seed(path: Path, members: int) -> dict[str, int]:
    """Plans, finished modules, check-ins and away periods; row counts."""
    rng = random.Random(18)
    conn = sqlite3.connect(path)
    course_id = conn.execute("SELECT id FROM courses WHERE guild_id = ?", (GUILD,)).fetchone()[0]
    module_ids = [
        row[0]
        for row in conn.execute(
            "SELECT id FROM course_modules WHERE course_id = ? ORDER BY position", (course_id,)
        )
    ]
    plans, finished, checkins, away = [], [], [], []
    for n in range(members):
        user_id = FIRST_USER + n
        started = NOW - timedelta(days=rng.randint(0, 180))
        target = started.date() + timedelta(days=rng.randint(120, 420))
        weekly = rng.choice((None, 4.0, 6.0, 8.0))
        plans.append(
            (GUILD, user_id, course_id, _stamp(started), started.date().isoformat(),
             target.isoformat(), weekly, _stamp(started))
        )  # fmt: skip
        for module_id in module_ids[: rng.randint(0, len(module_ids))]:
            finished.append((GUILD, user_id, module_id, _stamp(started + timedelta(days=7))))
        keen = 1 - rng.random() ** 2
        for back in range(CHECKIN_WEEKS):
            week = THIS_WEEK - timedelta(weeks=back)
            if rng.random() < keen:
                for day in sorted(rng.sample(range(7), rng.randint(1, 5))):
                    local_day = week + timedelta(days=day)
                    at = _stamp(datetime.combine(local_day, datetime.min.time(), UTC))
                    checkins.append(
                        (GUILD, user_id, local_day.isoformat(), week.isoformat(),
                         rng.choice((0.5, 1.0, 1.5, 2.0, 3.0)), 1, at, at)
                    )  # fmt: skip
        if n % 20 == 0:
            start = NOW - timedelta(days=rng.randint(0, 10))
            away.append((GUILD, user_id, _stamp(start), _stamp(start + timedelta(weeks=2)),
                         _stamp(start)))  # fmt: skip
    with conn:
        conn.executemany(
            "INSERT INTO plans (guild_id, user_id, course_id, started_at, start_day, target_day,"
            " weekly_hours, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            plans,
        )
        conn.executemany(
            "INSERT INTO module_progress (guild_id, user_id, module_id, finished_at) "
            "VALUES (?, ?, ?, ?)",
            finished,
        )
        conn.executemany(
            "INSERT INTO checkins (guild_id, user_id, local_day, week_key, hours, revision, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            checkins,
        )
        conn.executemany(
            "INSERT INTO away_periods (guild_id, user_id, starts_at, ends_at, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            away,
        )
    conn.close()
    return {"plans": len(plans), "finished": len(finished), "check-ins": len(checkins),
            "away": len(away)}  # fmt: skip


def raw_read(path: Path) -> None:
    first = (THIS_WEEK - timedelta(weeks=7)).isoformat()
    conn = sqlite3.connect(path)
    conn.execute("SELECT * FROM plans WHERE guild_id = ?", (GUILD,)).fetchall()
    conn.execute(
        "SELECT user_id, module_id FROM module_progress WHERE guild_id = ?", (GUILD,)
    ).fetchall()
    conn.execute(
        "SELECT user_id, week_key, hours FROM checkins WHERE guild_id = ? AND week_key >= ?",
        (GUILD, first),
    ).fetchall()
    conn.execute("SELECT * FROM away_periods WHERE guild_id = ?", (GUILD,)).fetchall()
    conn.close()


async def run(quick: bool) -> list[Result]:
    members = 2_000 if quick else 5_000
    repeats = 3 if quick else 7
    week = StudyWeek(THIS_WEEK, ZoneInfo("UTC"))
    with scratch() as workdir:
        path = workdir / "cohort.sqlite3"
        async with migrated(f"sqlite:///{path}") as database:
            services = build_services(database, FrozenClock(NOW))
            await services.plans.import_pack(GUILD, "meta-back-end")
            start = time.perf_counter()
            counts = await asyncio.to_thread(seed, path, members)
            seeded = time.perf_counter() - start
            plans = services.plans

            async def group_plans() -> None:
                plans_pages(await plans.standings(GUILD), await plans.courses(GUILD))

            with frozen_heap():
                listing = await repeat_async(group_plans, warmup=1, repeats=repeats)
            pages = len(plans_pages(await plans.standings(GUILD), await plans.courses(GUILD)))
            with (
                mock.patch("bot.services.announcements.render_group_chart", lambda _data: b""),
                frozen_heap(),
            ):
                summary = await repeat_async(
                    lambda: services.announcements.weekly_summary(GUILD, week, "Study group"),
                    warmup=1,
                    repeats=repeats,
                )
                standings = await repeat_async(
                    lambda: plans.standings(GUILD), warmup=1, repeats=repeats
                )
        baseline = repeat(lambda: raw_read(path), warmup=1, repeats=repeats)

    data = (
        f"{members:,} members on plans ({counts['finished']:,} finished modules, "
        f"{counts['check-ins']:,} check-ins over {CHECKIN_WEEKS} weeks, {counts['away']} away)"
    )
    b50 = median(baseline)
    results = []
    for name, times, notes in (
        ("/group plans (SQLite)", listing, f"every member assessed, {pages} pages built"),
        ("weekly summary with plans (SQLite)", summary, "without the chart; includes on track"),
    ):
        t50, t99 = median(times), percentile(times, 99)
        results.append(
            Result(
                benchmark=name,
                workload=data,
                unit="s",
                median=t50,
                p99=t99,
                target="≤ 500 ms",
                met=t99 <= TARGET,
                baseline_name="raw read of the rows plans use",
                baseline=b50,
                ratio=b50 / t50,
                notes=f"{notes}; assessing alone {median(standings) * 1000:.0f} ms",
                extra={"runs": times, "seed_seconds": seeded},
            )
        )
    return results
