"""Shards across processes: 2 processes × 2 shards on one PostgreSQL database, 2,000 guilds,
1,000 schedules due at one instant (needs COHORT_TEST_POSTGRES_URL; skipped without it).

Each schedule posts in its own guild's channel, so Discord's global limit (50 requests a second
per bot token, switched on in the emulator once the bots are ready) is what bounds the drain;
each process keeps to its share of it (25/s). Measured: duplicates and missing posts (both must
be 0), drain time from the fire time to the last post beside the rate-limit floor, and resident
memory per process and per 1,000 guilds beside one process holding all four shards of the same
world in the same run.
"""

from __future__ import annotations

import asyncio
import math
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.framework import Result
from benchmarks.support import (
    POSTGRES_URL,
    bot_process,
    migrated,
    postgres_database,
    rss_mb,
    scratch,
)
from db.schema.schedules import schedules as schedules_table
from discord_emulator import Emulator

SHARD_COUNT = 4
PROCESSES = ("0-1", "2-3")
GLOBAL = (50, 1.0)
FIRE_AT = datetime(2026, 11, 18, 13, 0, tzinfo=UTC)
LEAD = 25.0  # seconds from launching the processes to the burst (start-up fits inside)
SETTLE = 1.0  # seconds after ready before memory is read


def floor_seconds(posts: int) -> float:
    return (math.ceil(posts / GLOBAL[0]) - 1) * GLOBAL[1]


async def seed(url: str, targets: list[tuple[int, int]]) -> None:
    created = FIRE_AT - timedelta(hours=1)
    async with migrated(url) as database, database.engine.begin() as conn:
        await conn.execute(
            schedules_table.insert(),
            [
                {
                    "guild_id": guild_id,
                    "kind": "reminder",
                    "recurrence": f"daily {FIRE_AT:%H:%M}",
                    "channel_id": channel_id,
                    "message": f"Reminder {n}: the study call starts soon",
                    "paused": False,
                    "created_at": created,
                }
                for n, (guild_id, channel_id) in enumerate(targets)
            ],
        )


async def single_process_rss(emu: Emulator, workdir: Path) -> float:
    """Memory of one process holding every shard of the same world (no schedules due)."""
    async with postgres_database() as url:
        async with migrated(url):
            pass
        async with bot_process(
            emu, "cohort", workdir, database_url=url,
            extra_env={"SHARD_COUNT": str(SHARD_COUNT)},
        ) as bot:  # fmt: skip
            await bot.wait_ready(timeout=120)
            await asyncio.sleep(SETTLE)
            return rss_mb(bot.pid)


async def run(quick: bool) -> list[Result]:
    if not POSTGRES_URL:
        return []
    guilds, due = (400, 200) if quick else (2_000, 1_000)
    emu = Emulator()
    emu.gateway.max_concurrency = 16  # a large bot's: shards identify together
    world = []
    for n in range(guilds):
        guild = emu.world.add_guild(f"Group {n}", shard=(n % SHARD_COUNT, SHARD_COUNT))
        world.append((guild.id, guild.add_text_channel("study").id))
    targets = world[:due]  # spread evenly over the four shards
    floor = floor_seconds(due)
    with scratch() as workdir:
        async with emu.running(patch_discord=False):
            single = await single_process_rss(emu, workdir)
            async with postgres_database() as url:
                await seed(url, targets)
                due_wall = time.time() + LEAD
                offset = (FIRE_AT - datetime.fromtimestamp(due_wall, UTC)).total_seconds()
                async with (
                    bot_process(
                        emu, "cohort", workdir, database_url=url, clock_offset=offset,
                        extra_env={"SHARD_COUNT": str(SHARD_COUNT), "SHARD_IDS": PROCESSES[0]},
                    ) as first,
                    bot_process(
                        emu, "cohort", workdir, database_url=url, clock_offset=offset,
                        extra_env={"SHARD_COUNT": str(SHARD_COUNT), "SHARD_IDS": PROCESSES[1]},
                    ) as second,
                ):  # fmt: skip
                    ready = [await b.wait_ready(timeout=LEAD * 4) for b in (first, second)]
                    await asyncio.sleep(SETTLE)
                    rss_ready = [rss_mb(b.pid) for b in (first, second)]
                    emu.ratelimits.enable_global(*GLOBAL)
                    channels = {channel_id for _, channel_id in targets}

                    def posts() -> int:
                        return sum(1 for m in emu.messages.by_bot() if m.channel_id in channels)

                    deadline = max(due_wall - time.time(), 0) + floor * 3 + 60
                    await emu.wait_until(
                        lambda: posts() >= due, timeout=deadline, what="every post"
                    )
                    await asyncio.sleep(2.0)  # any duplicate would show up meanwhile
                    rss_after = [rss_mb(b.pid) for b in (first, second)]
    messages = [m for m in emu.messages.by_bot() if m.channel_id in channels]
    per_channel: dict[int, int] = {}
    for m in messages:
        per_channel[m.channel_id] = per_channel.get(m.channel_id, 0) + 1
    duplicates = sum(count - 1 for count in per_channel.values())
    missing = len(channels - set(per_channel))
    due_at = datetime.fromtimestamp(due_wall, UTC)
    drain = max((m.created_at - due_at).total_seconds() for m in messages)
    per_process_guilds = guilds / len(PROCESSES)
    workload = (
        f"{len(PROCESSES)} processes × 2 of {SHARD_COUNT} shards, {guilds:,} guilds, "
        f"{due:,} schedules due at one instant, {GLOBAL[0]}/s global"
    )
    ready_lead = min(due_wall - r for r in ready)
    return [
        Result(
            benchmark="shards: posts exactly once",
            workload=workload,
            unit="posts",
            median=float(duplicates + missing),
            target="0 duplicates, 0 missing",
            met=duplicates == 0 and missing == 0,
            notes=f"duplicates {duplicates}, missing {missing}, posted {len(messages):,}",
            extra={"duplicates": duplicates, "missing": missing},
        ),
        Result(
            benchmark="shards: drain",
            workload=workload,
            unit="s",
            median=drain,
            target="≤ floor + 25%",
            met=drain <= floor * 1.25 + 1.0,
            baseline_name="rate-limit floor",
            baseline=floor,
            ratio=floor / drain if drain > 0 else None,
            notes=f"both processes ready {ready_lead:.1f} s before the fire time",
        ),
        Result(
            benchmark="shards: RSS per process",
            workload=f"{per_process_guilds:,.0f} guilds each (after the burst: "
            f"{', '.join(f'{r:.0f}' for r in rss_after)} MB)",
            unit="MB",
            median=sum(rss_ready) / len(rss_ready),
            target="—",
            baseline_name="one process, all shards",
            baseline=single,
            ratio=single / (sum(rss_ready) / len(rss_ready)),
            notes=f"ready: {', '.join(f'{r:.0f}' for r in rss_ready)} MB",
            extra={"rss_ready": rss_ready, "rss_after": rss_after, "single": single},
        ),
        Result(
            benchmark="shards: RSS per 1,000 guilds",
            workload=f"{len(PROCESSES)} processes × {per_process_guilds:,.0f} guilds",
            unit="MB",
            median=sum(rss_ready) / (guilds / 1000),
            target="—",
            baseline_name="one process, all shards",
            baseline=single / (guilds / 1000),
            ratio=single / sum(rss_ready),
            notes="sum over the processes; the fixed cost of a process (Python, discord.py, "
            "the cogs) is paid once per process",
        ),
    ]
