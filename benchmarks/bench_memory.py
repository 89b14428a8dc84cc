"""Resident memory of the bot after start-up, and what each 1,000 guilds add.

The bot runs in its own process against the emulator; the world has 1,000 guilds of 50 members
each (Cohort asks for no member list, so Discord sends it only the guilds, their channels and
roles, and the bot's own member). RSS is read from /proc once the bot is ready and it holds
still.
The same is measured with a single guild, so the cost per 1,000 guilds is the difference; the
baseline is a bare discord.py bot with the same intents in the same worlds.
"""

from __future__ import annotations

import asyncio

from benchmarks.framework import Result
from benchmarks.support import bot_process, rss_mb, scratch
from discord_emulator import Emulator

MEMBERS = 50
SETTLE = 1.0  # seconds RSS must hold still (within STILL_MB) after READY
STILL_MB = 0.5
SETTLE_MAX = 20.0


def world(guilds: int) -> Emulator:
    emu = Emulator()
    for n in range(guilds):
        guild = emu.world.add_guild(f"Study Group {n}")
        guild.add_text_channel("general")
        for m in range(MEMBERS - 2):  # with the owner and the bot: MEMBERS
            guild.add_member(f"Learner {n}-{m}")
    return emu


async def resident(kind: str, guilds: int) -> float:
    emu = world(guilds)
    with scratch() as workdir:
        async with emu.running(patch_discord=False), bot_process(emu, kind, workdir) as bot:
            await bot.wait_ready(timeout=120)
            if bot.read_report().get("guilds") != guilds:
                raise RuntimeError(f"the {kind} bot saw {bot.report.get('guilds')} guilds")
            return await settled_rss(bot.pid)


async def settled_rss(pid: int) -> float:
    """RSS once it stops moving: start-up work queued per guild (database writes on
    GUILD_CREATE) finishes after READY."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SETTLE_MAX
    last = rss_mb(pid)
    while loop.time() < deadline:
        await asyncio.sleep(SETTLE)
        now = rss_mb(pid)
        if abs(now - last) <= STILL_MB:
            return now
        last = now
    return last


async def run(quick: bool) -> list[Result]:
    guilds = 200 if quick else 1_000
    ours_one, ours_many = await resident("cohort", 1), await resident("cohort", guilds)
    bare_one, bare_many = await resident("bare", 1), await resident("bare", guilds)
    per_k = (ours_many - ours_one) / (guilds - 1) * 1000
    bare_per_k = (bare_many - bare_one) / (guilds - 1) * 1000
    return [
        Result(
            benchmark="memory after start-up",
            workload=f"{guilds:,} guilds × {MEMBERS} members, RSS once ready",
            unit="MB",
            median=ours_many,
            target="— (reported)",
            baseline_name="bare discord.py bot",
            baseline=bare_many,
            ratio=bare_many / ours_many,
            notes=f"with one guild: {ours_one:.0f} MB (bare {bare_one:.0f} MB)",
        ),
        Result(
            benchmark="memory per 1,000 guilds",
            workload=f"(RSS with {guilds:,} guilds − with 1) per 1,000",
            unit="MB",
            median=per_k,
            target="— (reported)",
            baseline_name="bare discord.py bot",
            baseline=bare_per_k,
            ratio=bare_per_k / per_k if per_k > 0 else None,
        ),
    ]
