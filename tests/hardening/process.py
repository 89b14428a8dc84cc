"""The bot as a real process (`python -m bot` through tests/hardening/launcher.py)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sqlite3
import sys
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

from discord_emulator import Emulator

ROOT = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 3


def bot_environment(
    database: Path,
    *,
    api_base: str,
    gateway: str,
    token: str,
    clock_start: datetime | None = None,
) -> dict[str, str]:
    env = {
        **os.environ,
        "DISCORD_TOKEN": token,
        "DATABASE_URL": f"sqlite:///{database}",
        "LOG_LEVEL": "INFO",
        "COHORT_TEST_API_BASE": api_base,
        "COHORT_TEST_GATEWAY": gateway,
        "COHORT_TEST_LEASE_SECONDS": str(LEASE_SECONDS),
        "PYTHONPATH": str(ROOT),
    }
    env.pop("DEV_GUILD_ID", None)
    if clock_start is not None:
        env["COHORT_TEST_CLOCK_START"] = clock_start.isoformat()
    return env


@contextlib.asynccontextmanager
async def bot_process(
    emu: Emulator, database: Path, *, clock_start: datetime | None = None
) -> AsyncIterator[asyncio.subprocess.Process]:
    env = bot_environment(
        database,
        api_base=emu.api_base,
        gateway=emu.gateway_url,
        token=emu.bot_token,
        clock_start=clock_start,
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.hardening.launcher", cwd=ROOT, env=env
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


def unused_port() -> int:
    """A local port nobody listens on (so a bot that got past its checks cannot reach
    anything, least of all the real Discord)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def query(database: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(database, timeout=5)) as conn:
        return conn.execute(sql, params).fetchall()
