"""Several bot processes sharing one PostgreSQL database, each holding some of the shards: every
guild's schedules fire in the process that holds its shard, a process killed mid-fan-out and
started again leaves every occurrence posted exactly once, and two processes started with the
same SHARD_IDS (a rolling restart, a mis-deploy) still post each one once.

The bots run as real processes (`python -m bot` through tests/launcher.py) on a clock
that starts at a chosen moment, against the emulator, which routes each guild's events to the
session of its shard."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from bot.app import build_scheduling
from bot.clock import FrozenClock
from bot.domain.shards import shard_of
from bot.services.guild_settings import GuildSettingsService
from db.engine import Database
from db.repositories.guild_settings import GuildSettingsRepository
from discord_emulator import Channel, Emulator
from tests.launcher import ROOT, bot_environment, stop_gracefully

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.postgres]

SHARD_COUNT = 4
CREATED = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
FIRE = datetime(2026, 11, 18, 13, 0, tzinfo=UTC)
Target = tuple[int, Channel, str]  # (guild id, channel, text of its reminder)


def text_of(guild_index: int, channel_index: int) -> str:
    return f"Exactly once: guild {guild_index} channel {channel_index}"


def world(emu: Emulator, shards: range, per_shard: int, channels: int) -> list[Target]:
    """Guilds on the given shards, each with `channels` channels (one reminder in each)."""
    targets = []
    for g in range(len(shards) * per_shard):
        guild = emu.world.add_guild(f"Group {g}", shard=(shards[g % len(shards)], SHARD_COUNT))
        for c in range(channels):
            targets.append((guild.id, guild.add_text_channel(f"room-{c}"), text_of(g, c)))
    # Discord can offer every shard identifying at once to large bots: no 5 s wait per shard.
    emu.gateway.max_concurrency = 16
    return targets


async def add_schedules(url: str, targets: list[Target]) -> None:
    db = Database(url)
    await db.open()
    try:
        await db.migrate()
        clock = FrozenClock(CREATED)
        settings = GuildSettingsService(GuildSettingsRepository(db.engine), clock)
        schedules, _announcements, _scheduler = build_scheduling(db, settings, clock)
        for guild_id, channel, text in targets:
            await schedules.add(guild_id, "reminder", "daily 13:00", channel.id, text, 1)
    finally:
        await db.close()


@contextlib.asynccontextmanager
async def bot_process(
    emu: Emulator, url: str, shard_ids: str, clock_start: datetime
) -> AsyncIterator[asyncio.subprocess.Process]:
    env = bot_environment(
        Path("unused"),
        api_base=emu.api_base,
        gateway=emu.gateway_url,
        token=emu.bot_token,
        clock_start=clock_start,
    )
    env.update(DATABASE_URL=url, SHARD_COUNT=str(SHARD_COUNT), SHARD_IDS=shard_ids)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.launcher", cwd=ROOT, env=env
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


async def occurrences(url: str) -> list[asyncpg.Record]:
    """The 13:00 occurrences (the next day's wait as pending)."""
    conn = await asyncpg.connect(url.replace("postgresql://", "postgres://", 1))
    try:
        return list(
            await conn.fetch(
                "SELECT s.guild_id, s.channel_id, o.state, o.message_id, o.claimed_by "
                "FROM schedule_occurrences o JOIN schedules s ON s.id = o.schedule_id "
                "WHERE o.fire_at = $1",
                FIRE,
            )
        )
    finally:
        await conn.close()


async def until_all_sent(url: str, count: int, timeout: float = 60.0) -> list[asyncpg.Record]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        rows = await occurrences(url)
        if len(rows) == count and all(row["state"] == "sent" for row in rows):
            return rows
        assert loop.time() < deadline, sorted(row["state"] for row in rows)
        await asyncio.sleep(0.2)


def assert_each_posted_once(
    emu: Emulator, targets: list[Target], rows: list[asyncpg.Record]
) -> None:
    recorded = {row["channel_id"]: row["message_id"] for row in rows}
    for _guild_id, channel, text in targets:
        posts = [m.id for m in emu.messages.in_channel(channel) if text in m.text()]
        assert posts == [recorded[channel.id]], text


def pid_of(claimed_by: str) -> int:
    return int(claimed_by.split(":")[1])


async def wait_for_shards(emu: Emulator, expected: set[tuple[int, int]]) -> None:
    await emu.wait_until(
        lambda: emu.gateway.shards_connected() >= expected,
        timeout=60,
        what=f"shards {sorted(expected)} to connect",
    )


async def test_each_guild_fires_in_the_process_that_holds_its_shard(
    clean_postgres_url: str,
) -> None:
    url = clean_postgres_url
    emu = Emulator()
    targets = world(emu, range(SHARD_COUNT), per_shard=2, channels=2)
    await add_schedules(url, targets)
    start = FIRE - timedelta(seconds=5)
    async with (
        emu.running(patch_discord=False),
        bot_process(emu, url, "0-1", start) as low,
        bot_process(emu, url, "2,3", start) as high,
    ):
        await wait_for_shards(emu, {(s, SHARD_COUNT) for s in range(SHARD_COUNT)})
        rows = await until_all_sent(url, len(targets))
        # Commands were synced once, by the process that holds shard 0.
        assert len(emu.commands.sync_calls) == 1
    assert_each_posted_once(emu, targets, rows)
    for row in rows:
        holder = low if shard_of(row["guild_id"], SHARD_COUNT) < 2 else high
        assert pid_of(row["claimed_by"]) == holder.pid


async def test_a_process_killed_mid_fan_out_and_restarted_posts_each_once(
    clean_postgres_url: str,
) -> None:
    url = clean_postgres_url
    emu = Emulator()
    targets = world(emu, range(SHARD_COUNT), per_shard=1, channels=6)
    await add_schedules(url, targets)
    low_channels = {c.id for g, c, _ in targets if shard_of(g, SHARD_COUNT) < 2}
    # Discord's global limit, tightened so that the fan-out takes seconds, not milliseconds.
    emu.ratelimits.enable_global(count=4, per=1.0)

    def low_posts() -> int:
        return sum(1 for m in emu.messages.all() if m.channel_id in low_channels)

    async with emu.running(patch_discord=False), bot_process(emu, url, "2-3", FIRE) as high:
        async with bot_process(emu, url, "0-1", FIRE) as low:
            await emu.wait_until(lambda: low_posts() >= 2, timeout=60, what="the fan-out under way")
            low.send_signal(signal.SIGKILL)
            await low.wait()
        assert low_posts() < len(low_channels)  # killed mid-fan-out
        async with bot_process(emu, url, "0-1", FIRE + timedelta(seconds=30)) as restarted:
            rows = await until_all_sent(url, len(targets))
            await stop_gracefully(restarted, high)  # what either had under way lands first
    assert_each_posted_once(emu, targets, rows)


async def test_two_processes_with_the_same_shard_ids_post_each_once(
    clean_postgres_url: str,
) -> None:
    url = clean_postgres_url
    emu = Emulator()
    targets = world(emu, range(2), per_shard=2, channels=5)
    await add_schedules(url, targets)
    async with (
        emu.running(patch_discord=False),
        bot_process(emu, url, "0-1", FIRE) as first,
        bot_process(emu, url, "0-1", FIRE) as second,
    ):
        rows = await until_all_sent(url, len(targets))
        await stop_gracefully(first, second)  # what either had under way lands first
    assert_each_posted_once(emu, targets, rows)
    assert {pid_of(row["claimed_by"]) for row in rows} <= {first.pid, second.pid}
