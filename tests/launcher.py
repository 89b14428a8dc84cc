"""The one way tests run the bot as a process: the real `python -m bot`, pointed at the local
Discord emulator.

    python -m tests.launcher      (with the environment bot_environment builds)

The bot's code is unchanged. This module only points discord.py at the emulator (the two
endpoints it reads, COHORT_TEST_API_BASE and COHORT_TEST_GATEWAY) and, for tests that would
otherwise wait minutes, may shorten the occurrence lease (COHORT_TEST_LEASE_SECONDS) and the
pauses between log-in attempts (COHORT_TEST_LOGIN_ATTEMPTS, COHORT_TEST_LOGIN_DELAY), and start
the system clock at a chosen moment (COHORT_TEST_CLOCK_START, ISO 8601) so a killed and
restarted process can be tested at that moment.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

ROOT = Path(__file__).resolve().parents[1]
LEASE_SECONDS = 3


class Endpoints(Protocol):
    """Where the emulator listens, and the token it accepts."""

    api_base: str
    gateway_url: str
    bot_token: str


def bot_environment(
    database: Path,
    *,
    api_base: str,
    gateway: str,
    token: str,
    clock_start: datetime | None = None,
    **extra: str,
) -> dict[str, str]:
    """The process environment: nothing of the caller's Discord, dev-guild or log settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "DEV_", "LOG_"))}
    env |= {
        "DISCORD_TOKEN": token,
        "DATABASE_URL": f"sqlite:///{database}",
        "LOG_LEVEL": "INFO",
        "COHORT_TEST_API_BASE": api_base,
        "COHORT_TEST_GATEWAY": gateway,
        "COHORT_TEST_LEASE_SECONDS": str(LEASE_SECONDS),
        "PYTHONPATH": str(ROOT),
    }
    if clock_start is not None:
        env["COHORT_TEST_CLOCK_START"] = clock_start.isoformat()
    return env | extra


@contextlib.asynccontextmanager
async def bot_process(
    emu: Endpoints, database: Path, *, clock_start: datetime | None = None
) -> AsyncIterator[asyncio.subprocess.Process]:
    """The bot running against `emu` on a SQLite file; killed at exit if still running."""
    env = bot_environment(
        database,
        api_base=emu.api_base,
        gateway=emu.gateway_url,
        token=emu.bot_token,
        clock_start=clock_start,
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.launcher", cwd=ROOT, env=env
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


async def stop_gracefully(*processes: asyncio.subprocess.Process) -> None:
    """Stop running bots as an operator does (SIGTERM) and wait until they have exited: each
    finishes the posts it has under way first, so nothing of theirs is left in flight."""
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        assert await process.wait() == 0


def unused_port() -> int:
    """A local port nobody listens on (so a bot that got past its checks cannot reach
    anything, least of all the real Discord)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> int:
    import discord.gateway
    import discord.http
    import yarl

    import bot.app
    from bot import __main__ as cli
    from bot import startup
    from bot.clock import SystemClock
    from bot.services import occurrences

    class StartedClock(SystemClock):
        """Real time, started at a chosen moment."""

        def __init__(self, start: datetime) -> None:
            self._start = start
            self._origin = time.monotonic()

        def now(self) -> datetime:
            return self._start + timedelta(seconds=time.monotonic() - self._origin)

    discord.http.Route.BASE = os.environ["COHORT_TEST_API_BASE"]
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(os.environ["COHORT_TEST_GATEWAY"])
    lease = os.environ.get("COHORT_TEST_LEASE_SECONDS")
    if lease:
        occurrences.LEASE = timedelta(seconds=float(lease))
    attempts = os.environ.get("COHORT_TEST_LOGIN_ATTEMPTS")
    if attempts:
        startup.LOGIN_ATTEMPTS = int(attempts)
    delay = os.environ.get("COHORT_TEST_LOGIN_DELAY")
    if delay:
        startup.FIRST_DELAY = startup.MAX_DELAY = float(delay)
    start = os.environ.get("COHORT_TEST_CLOCK_START")
    if start:
        moment = datetime.fromisoformat(start)
        bot.app.SystemClock = lambda: StartedClock(moment)  # type: ignore[misc,assignment]
    return cli.main([])


if __name__ == "__main__":
    raise SystemExit(main())
