"""The weekly summary and /group overview for a large, long-running group.

Data: 5,000 members × 52 weeks on SQLite, seeded with plain SQL: each member checks in on
1–5 days in most weeks (some keep long streaks, some drift away and come back) and sets 0–3
goals a week, about half of them done. The summary is timed without its chart; the chart
(matplotlib, run in a worker thread by the bot) is timed on its own with the same data.

Baseline: reading every check-in row of the guild once with the bare sqlite3 driver, in the
same run: any summary computed outside SQL would pay at least that.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from unittest import mock
from zoneinfo import ZoneInfo

from benchmarks.framework import Result, median, percentile, repeat, repeat_async
from benchmarks.support import frozen_heap, migrated, scratch
from bot.app import build_services
from bot.charts import GroupChartData, render_group_chart
from bot.clock import FrozenClock
from bot.domain.weeks import StudyWeek
from bot.services.announcements import AnnouncementService

GUILD = 1_100_000_000_000_000_001
FIRST_USER = 1_300_000_000_000_000_000
THIS_WEEK = date(2026, 11, 16)  # a Monday; the summary is about this week
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
TARGET = 0.500


def _stamp(moment: datetime) -> str:
    """How SQLAlchemy stores a UTC datetime in SQLite."""
    return moment.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def seed(path: Path, members: int, weeks: int) -> tuple[int, int]:
    """Check-ins and goals for `members` over `weeks` weeks ending this week; row counts."""
    rng = random.Random(52)
    checkin_rows = []
    goal_rows = []
    for n in range(members):
        user_id = FIRST_USER + n
        keen = 1 - rng.random() ** 2  # how likely this member is to show up in a week
        for back in range(weeks):
            week = THIS_WEEK - timedelta(weeks=back)
            if rng.random() < keen:
                for day in sorted(rng.sample(range(7), rng.randint(1, 5))):
                    local_day = week + timedelta(days=day)
                    at = _stamp(datetime.combine(local_day, datetime.min.time(), UTC))
                    checkin_rows.append(
                        (GUILD, user_id, local_day.isoformat(), week.isoformat(),
                         rng.choice((0.5, 1.0, 1.5, 2.0, 3.0)), "Worked through the lesson",
                         None, None, rng.randint(1, 5), 1, at, at)
                    )  # fmt: skip
            at = _stamp(datetime.combine(week, datetime.min.time(), UTC))
            for slot in range(1, rng.randint(0, 3) + 1):
                done = at if rng.random() < 0.5 else None
                goal_rows.append(
                    (GUILD, user_id, week.isoformat(), slot, f"Goal {slot} of the week",
                     None, done, None, at, at)
                )  # fmt: skip
    conn = sqlite3.connect(path)
    with conn:
        conn.executemany(
            "INSERT INTO checkins (guild_id, user_id, local_day, week_key, hours, done, "
            "next_steps, blockers, mood, revision, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            checkin_rows,
        )
        conn.executemany(
            "INSERT INTO goals (guild_id, user_id, week_key, slot, text, hours, done_at, "
            "carried_from, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            goal_rows,
        )
    conn.close()
    return len(checkin_rows), len(goal_rows)


def full_read(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute(
        "SELECT user_id, week_key, hours FROM checkins WHERE guild_id = ?", (GUILD,)
    ).fetchall()
    conn.close()


def _chart_stub(charts: list[GroupChartData]) -> Callable[[GroupChartData], bytes]:
    def render(data: GroupChartData) -> bytes:
        charts.append(data)
        return b""

    return render


async def timed_parts(service: AnnouncementService, week: StudyWeek) -> dict[str, float]:
    """Each query of the summary on its own (for the profile), seconds."""
    summaries = service._summaries
    first, last = week.start_date, week.end_date
    parts: dict[str, Callable[[], Awaitable[object]]] = {
        "member_hours": lambda: summaries.member_hours(GUILD, first, last),
        "goals guild_weekly": lambda: service._goals.guild_weekly(GUILD, first, last),
        "top_streaks": lambda: summaries.top_streaks(GUILD, first, last, 3),
        "chart data": lambda: service._checkins.guild_weekly(
            GUILD, first - timedelta(weeks=7), last
        ),
    }
    return {name: median(await repeat_async(fn, warmup=1, repeats=3)) for name, fn in parts.items()}


async def run(quick: bool) -> list[Result]:
    members, weeks = (2_000, 52) if quick else (5_000, 52)
    repeats = 3 if quick else 7
    week = StudyWeek(THIS_WEEK, ZoneInfo("UTC"))
    results: list[Result] = []
    with scratch() as workdir:
        path = workdir / "cohort.sqlite3"
        async with migrated(f"sqlite:///{path}") as database:
            start = time.perf_counter()
            n_checkins, n_goals = await asyncio.to_thread(seed, path, members, weeks)
            seeded = time.perf_counter() - start
            # The composition root: the summary with every counter features registered.
            services = build_services(database, FrozenClock(NOW))
            service = services.announcements
            charts: list[GroupChartData] = []
            with (
                mock.patch("bot.services.announcements.render_group_chart", _chart_stub(charts)),
                frozen_heap(),
            ):
                times = await repeat_async(
                    lambda: service.weekly_summary(GUILD, week, "Study group"),
                    warmup=1,
                    repeats=repeats,
                )
            parts = await timed_parts(service, week)
            group = getattr(services, "group", None)
            overview = None
            if group is not None:
                with frozen_heap():
                    overview = await repeat_async(
                        lambda: group.overview(GUILD), warmup=1, repeats=repeats
                    )
        chart_times = repeat(lambda: render_group_chart(charts[0]), warmup=1, repeats=repeats)
        baseline = repeat(lambda: full_read(path), warmup=1, repeats=repeats)

    data = f"{members:,} members × {weeks} weeks ({n_checkins:,} check-ins, {n_goals:,} goals)"
    s50, s99 = median(times), percentile(times, 99)
    b50 = median(baseline)
    results.append(
        Result(
            benchmark="weekly summary (SQLite)",
            workload=data,
            unit="s",
            median=s50,
            p99=s99,
            target="≤ 500 ms",
            met=s99 <= TARGET,
            baseline_name="raw read of the guild's check-ins",
            baseline=b50,
            ratio=b50 / s50,
            notes="without the chart; per query: "
            + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in parts.items()),
            extra={"parts": parts, "seed_seconds": seeded, "runs": times},
        )
    )
    if overview is not None:
        o50, o99 = median(overview), percentile(overview, 99)
        results.append(
            Result(
                benchmark="/group overview (SQLite)",
                workload=f"the same group ({members:,} members × {weeks} weeks)",
                unit="s",
                median=o50,
                p99=o99,
                target="≤ 500 ms",
                met=o99 <= TARGET,
                baseline_name="raw read of the guild's check-ins",
                baseline=b50,
                ratio=b50 / o50,
                notes="GroupService.overview: figures, check-in rate and who is drifting",
            )
        )
    c50 = median(chart_times)
    results.append(
        Result(
            benchmark="weekly summary chart",
            workload="8 weeks, matplotlib Agg PNG (in a worker thread in the bot)",
            unit="s",
            median=c50,
            p99=percentile(chart_times, 99),
            target="— (reported separately)",
            notes=f"summary with its chart ≈ {(s50 + c50) * 1000:.0f} ms",
        )
    )
    return results
