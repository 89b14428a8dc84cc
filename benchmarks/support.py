"""Shared plumbing: throwaway databases, a bot process against the emulator, summaries."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import secrets
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.framework import median, percentile
from db.engine import Database

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("COHORT_TEST_POSTGRES_URL", "")


@contextlib.contextmanager
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="cohort-bench-") as path:
        yield Path(path)


@contextlib.asynccontextmanager
async def migrated(url: str) -> AsyncIterator[Database]:
    """The database at `url`, opened and migrated; closed on exit."""
    database = Database(url)
    await database.open()
    try:
        await database.migrate()
        yield database
    finally:
        await database.close()


async def _postgres_admin(statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(POSTGRES_URL.replace("postgresql://", "postgres://", 1))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """A throwaway database on the server of COHORT_TEST_POSTGRES_URL (dropped on exit)."""
    name = f"cohort_bench_{os.getpid()}_{secrets.token_hex(3)}"
    await _postgres_admin(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        await _postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def frozen_heap() -> Iterator[None]:
    """Everything alive so far (the runner, earlier benchmarks, an emulator's world) stays out
    of garbage collections while measuring, as the bot keeps its start-up objects out of them
    (bot.app.freeze_startup_objects): a collection then walks only what is being measured."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def summary(values: Sequence[float]) -> tuple[float, float, float]:
    """(median, p99, max) of a non-empty sample."""
    return median(values), percentile(values, 99), max(values)


def repeat_with_cpu(
    fn: Callable[[], object], *, warmup: int, repeats: int
) -> tuple[list[float], list[float]]:
    """Wall-clock and this thread's CPU seconds of `repeats` calls after `warmup` untimed
    ones. CPU time leaves out the moments a busy machine gave the core to someone else."""
    for _ in range(warmup):
        fn()
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.thread_time()
        fn()
        cpu.append(time.thread_time() - start_cpu)
        wall.append(time.perf_counter() - start)
    return wall, cpu


def rss_mb(pid: int) -> float:
    """Resident memory of a process (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


@dataclass
class BotProcess:
    """A bot started by `bot_process`; `report` is what benchmarks/botproc.py wrote."""

    process: asyncio.subprocess.Process
    report_path: Path
    log_path: Path
    report: dict[str, Any] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.process.pid

    def read_report(self) -> dict[str, Any]:
        if self.report_path.exists():
            self.report = json.loads(self.report_path.read_text())
        return self.report

    def log_tail(self, lines: int = 20) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    async def wait_ready(self, timeout: float = 60.0) -> float:
        """Wall time at which the bot became ready (all guilds received)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.returncode is not None:
                raise RuntimeError(f"the bot process exited:\n{self.log_tail()}")
            ready = self.read_report().get("ready_at")
            if ready is not None:
                return float(ready)
            await asyncio.sleep(0.05)
        raise RuntimeError(f"the bot was not ready within {timeout:g} s:\n{self.log_tail()}")

    def lag(self, start: float, end: float) -> list[tuple[float, float]]:
        """Event-loop lag samples taken between two wall times: (lag, CPU seconds the loop's
        thread used during the sample)."""
        return [(lag, cpu) for at, lag, cpu in self.report.get("lag", []) if start <= at <= end]


@contextlib.asynccontextmanager
async def bot_process(
    emu: Any,
    kind: str,
    workdir: Path,
    *,
    database_url: str | None = None,
    clock_offset: float = 0.0,
    extra_env: dict[str, str] | None = None,
) -> AsyncIterator[BotProcess]:
    """Run `python -m benchmarks.botproc kind` against the running emulator; on exit stop it
    with SIGTERM and read its final report (event-loop lag samples)."""
    tag = secrets.token_hex(3)
    report_path = workdir / f"bot-{kind}-{tag}.json"
    log_path = workdir / f"bot-{kind}-{tag}.log"
    env = {
        **os.environ,
        "DISCORD_TOKEN": emu.bot_token,
        "DATABASE_URL": database_url or f"sqlite:///{workdir}/cohort-{tag}.sqlite3",
        "COHORT_BENCH_API_BASE": emu.api_base,
        "COHORT_BENCH_GATEWAY": emu.gateway_url,
        "COHORT_BENCH_REPORT": str(report_path),
        "COHORT_BENCH_CLOCK_OFFSET": str(clock_offset),
        "LOG_LEVEL": "WARNING",
        **(extra_env or {}),
    }
    env.pop("DEV_GUILD_ID", None)
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "benchmarks.botproc", kind,
            cwd=ROOT, env=env, stdout=log, stderr=log,
        )  # fmt: skip
    bot = BotProcess(process, report_path, log_path)
    try:
        yield bot
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 15)
            except TimeoutError:
                process.kill()
                await process.wait()
        bot.read_report()
