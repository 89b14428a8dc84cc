"""`python -m bot backup PATH` while the bot goes on writing: the copy is one consistent
snapshot that opens, passes SQLite's integrity check and holds every write acknowledged
before the backup started."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.conftest import StudyGroup

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.e2e


def backup_env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISCORD_TOKEN", "DATABASE_URL")}
    return {**env, "DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)}


def checked_in(database: Path) -> set[int]:
    with contextlib.closing(sqlite3.connect(database)) as conn:
        return {row[0] for row in conn.execute("SELECT user_id FROM checkins")}


async def test_a_backup_taken_while_the_bot_writes_loses_nothing(
    group: StudyGroup, tmp_path: Path
) -> None:
    database = Path(group.database_url.removeprefix("sqlite:///"))
    checkins = group.bot.services.checkins
    acknowledged: list[int] = []
    stop = asyncio.Event()

    async def keep_writing() -> None:
        member = 1_000_000
        while not stop.is_set():
            member += 1
            await checkins.record(group.guild.id, member, hours=1.5, done="📚 chapter")
            acknowledged.append(member)

    writer = asyncio.create_task(keep_writing())
    while len(acknowledged) < 50:
        await asyncio.sleep(0.01)
    target = tmp_path / "backups" / "cohort-copy.sqlite3"
    target.parent.mkdir()
    before = set(acknowledged)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "backup", str(target),
        cwd=tmp_path, env=backup_env(group.database_url),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    during = len(acknowledged) - len(before)
    stop.set()
    await writer
    assert process.returncode == 0, err.decode()
    assert out.decode().startswith(f"backed up {database} to {target}")
    assert during > 0  # the bot went on writing while the backup ran

    with contextlib.closing(sqlite3.connect(target)) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    saved = checked_in(target)
    assert before <= saved  # nothing acknowledged before the backup is missing
    assert saved <= checked_in(database)  # and nothing in it that was never written
    assert list(target.parent.iterdir()) == [target]  # no partial file left beside it


def run_backup(cwd: Path, database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "backup", *args],
        cwd=cwd, env=backup_env(database_url), capture_output=True, text=True, timeout=60,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("make_target", "words"),
    [
        (lambda db, tmp: db, "is the database itself"),
        (lambda db, tmp: tmp, "is a folder"),
        (lambda db, tmp: tmp / "missing" / "copy.sqlite3", "does not exist"),
    ],
)
def test_a_backup_to_a_wrong_place_is_one_line(
    tmp_path: Path, make_target: Callable[[Path, Path], Path], words: str
) -> None:
    database = tmp_path / "cohort.sqlite3"
    with contextlib.closing(sqlite3.connect(database)) as conn:
        conn.execute("CREATE TABLE t (x)")
    result = run_backup(tmp_path, f"sqlite:///{database}", str(make_target(database, tmp_path)))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("cohort: ") and words in line


def test_a_missing_database_and_postgresql_are_one_line(tmp_path: Path) -> None:
    missing = run_backup(tmp_path, f"sqlite:///{tmp_path}/none.sqlite3", "copy.sqlite3")
    assert missing.returncode == 1
    assert missing.stderr.startswith("cohort: there is no database at")
    assert not (tmp_path / "none.sqlite3").exists()
    server = run_backup(tmp_path, "postgresql://cohort:secret@127.0.0.1:5432/cohort", "x.dump")
    assert server.returncode == 1 and "pg_dump" in server.stderr and "secret" not in server.stderr
    assert len(server.stderr.strip().splitlines()) == 1
