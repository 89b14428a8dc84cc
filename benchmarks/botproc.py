"""A bot process for the benchmarks, pointed at the local Discord emulator.

    python -m benchmarks.botproc cohort   # the real Cohort bot (create_bot, all cogs, scheduler)
    python -m benchmarks.botproc bare     # a bare discord.py bot that answers /ping

The bot runs in its own process, as in production, so what is measured (event-loop lag,
resident memory) is the bot's and not the emulator's. Environment:

* ``COHORT_BENCH_API_BASE``, ``COHORT_BENCH_GATEWAY``: the emulator's REST base and gateway;
* ``DISCORD_TOKEN``, ``DATABASE_URL``: as for ``python -m bot``;
* ``COHORT_BENCH_REPORT``: a JSON file written when the bot is ready (``ready_at``, wall time)
  and again after it stops (``lag``: ``[wall time, seconds, loop thread CPU seconds]``
  samples of event-loop lag);
* ``SHARD_COUNT``, ``SHARD_IDS`` (optional): as for ``python -m bot``;
* ``COHORT_BENCH_CLOCK_OFFSET`` (optional): seconds added to the real time the bot's clock
  reads, so a fire time can be reached a few seconds after start-up instead of at the next
  real minute.

SIGTERM closes the bot cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import discord
import discord.gateway
import discord.http
import yarl
from discord import app_commands

#: How often the lag sampler wakes up (seconds); lag = how late it woke.
LAG_INTERVAL = 0.01


class ShiftedClock:
    """Real time moved by a fixed offset (only the bot's idea of "now" moves; waits are real)."""

    def __init__(self, offset: timedelta) -> None:
        self._offset = offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset


class PingBot(discord.Client):
    """The baseline: discord.py with one slash command and nothing else."""

    def __init__(self) -> None:
        # The intents of bot.bot.intents(), not imported: the baseline carries no Cohort code.
        intents = discord.Intents.default()
        intents.message_content = intents.members = intents.presences = False
        intents.typing = intents.dm_typing = False
        super().__init__(intents=intents, allowed_mentions=discord.AllowedMentions.none())
        self.tree = app_commands.CommandTree(self)

        @self.tree.command(name="ping", description="Answer pong")
        async def ping(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("pong", ephemeral=True)

    async def setup_hook(self) -> None:
        await self.tree.sync()


class Report:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: dict[str, Any] = {"pid": os.getpid(), "lag": []}

    def write(self) -> None:
        partial = self.path.with_suffix(".partial")
        partial.write_text(json.dumps(self.data))
        partial.replace(self.path)


async def sample_lag(samples: list[tuple[float, float, float]]) -> None:
    """(wall time, lag, CPU seconds the loop's thread used meanwhile): a lag with little CPU
    behind it means the process waited for a core (or the GIL), not that the loop was busy."""
    loop = asyncio.get_running_loop()
    while True:
        started, cpu = loop.time(), time.thread_time()
        await asyncio.sleep(LAG_INTERVAL)
        lag = max(0.0, loop.time() - started - LAG_INTERVAL)
        samples.append((time.time(), lag, time.thread_time() - cpu))


async def build(kind: str) -> discord.Client:
    if kind == "bare":
        return PingBot()
    from bot.app import create_bot
    from bot.config import Settings
    from bot.shards import shards_from_env

    offset = float(os.environ.get("COHORT_BENCH_CLOCK_OFFSET") or 0)
    url = os.environ["DATABASE_URL"]
    settings = Settings(
        token=os.environ["DISCORD_TOKEN"],
        database_url=url,
        shards=shards_from_env(os.environ, database_url=url),
    )
    return await create_bot(settings, clock=ShiftedClock(timedelta(seconds=offset)))


async def main(kind: str) -> int:
    level = os.environ.get("LOG_LEVEL", "WARNING")
    if kind == "bare":
        logging.basicConfig(level=level)
    else:
        from bot.logging_setup import setup_logging

        setup_logging(level, secrets=[os.environ["DISCORD_TOKEN"]])
    discord.http.Route.BASE = os.environ["COHORT_BENCH_API_BASE"]
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(os.environ["COHORT_BENCH_GATEWAY"])
    report = Report(Path(os.environ["COHORT_BENCH_REPORT"]))
    client = await build(kind)
    # The emulator sends every GUILD_CREATE at once: no need for discord.py's 2 s wait.
    client._connection.guild_ready_timeout = 0.05

    async def note_ready() -> None:
        while not client.is_ready():
            await asyncio.sleep(0.02)
        report.data["ready_at"] = time.time()
        report.data["guilds"] = len(client.guilds)
        report.write()

    loop = asyncio.get_running_loop()
    closing: list[asyncio.Task[None]] = []
    loop.add_signal_handler(
        signal.SIGTERM, lambda: closing.append(loop.create_task(client.close()))
    )
    sampler = asyncio.create_task(sample_lag(report.data["lag"]))
    ready = asyncio.create_task(note_ready())
    try:
        await client.start(os.environ["DISCORD_TOKEN"])
    finally:
        for task in (sampler, ready):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await client.close()
        if closing:
            await asyncio.gather(*closing)
        report.data["stopped_at"] = time.time()
        report.write()
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "cohort")))
