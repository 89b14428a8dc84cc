"""Database faults: a writer holding the lock, an unusable file at start-up, a full disk."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from bot.errors import Busy
from db.engine import Database
from discord_emulator import InteractionResult
from tests.conftest import TOKEN
from tests.e2e.conftest import StudyGroup
from tests.hardening.support import INCIDENT, integrity, loop_lag, query, rows_of, sqlite_path
from tests.hardening.tour import answer_text
from tests.launcher import ROOT, bot_environment, unused_port

LOCK_SECONDS = 10.0
BUSY = Busy().message


@contextlib.contextmanager
def write_lock(database: Path) -> Iterator[sqlite3.Connection]:
    """Another program holding SQLite's write lock (an open write transaction)."""
    conn = sqlite3.connect(database, isolation_level=None, timeout=0)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("CREATE TABLE IF NOT EXISTS intruder (x)")  # a write in flight
        yield conn
    finally:
        conn.execute("ROLLBACK")
        conn.close()


@pytest.mark.e2e
async def test_a_held_write_lock_answers_busy_in_time_and_the_loop_runs(
    group: StudyGroup,
) -> None:
    database = sqlite_path(group.database_url)
    await group.sam.slash("goal add", text="Before the lock")
    before = rows_of(database)
    loop = asyncio.get_running_loop()
    answers: list[tuple[str, InteractionResult]] = []

    async def round_(n: int) -> None:
        async def one(label: str, call: Any) -> None:
            answers.append((label, await call))

        await asyncio.gather(
            one("goal add", group.sam.slash("goal add", text=f"During the lock {n}")),
            one("checkin", group.ada.slash("checkin", hours=1, done=f"lock {n}")),
            one("checkin", group.sam.slash("checkin", hours=2)),
            one("me reminders", group.ada.slash("me reminders", enabled=True)),
            one("settings timezone", group.mia.slash("settings timezone", tz="Europe/Paris")),
            one("faq ask", group.sam.slash("faq ask", question=f"Where is lab {n} hiding?")),
            one(
                "review submit",
                group.ada.slash("review submit", link=f"https://github.com/ada/lab-{n}"),
            ),
            one("goal list", group.ada.slash("goal list", member=group.sam)),
            one("schedule list", group.mia.slash("schedule list")),
        )

    async with loop_lag() as lag:
        with write_lock(database):
            start = loop.time()
            rounds = 0
            while loop.time() - start < LOCK_SECONDS - 3:
                await round_(rounds)  # each interaction is acknowledged within 3 s
                rounds += 1
            # Hold the lock for its full time whatever the rounds took.
            await asyncio.sleep(max(0.0, LOCK_SECONDS - (loop.time() - start)))
    assert rounds >= 2
    assert lag.samples > 100 and lag.worst < 1.0  # a blocking 2 s SQLite wait would show

    for label, result in answers:
        text = await answer_text(result)
        assert result.ephemeral and INCIDENT not in text, (label, text)
        if label in ("goal list", "schedule list"):  # readers are not blocked by a writer
            assert BUSY not in text, (label, text)
        else:
            assert text == BUSY, (label, text)
    assert rows_of(database) == before  # the refused writes left nothing behind

    # Released: the same commands work again.
    added = await group.sam.slash("goal add", text="After the lock")
    assert "After the lock" in added.content
    checked = await group.ada.slash("checkin", hours=1)
    assert "Checked in" in checked.content
    group.emu.messages.assert_nobody_pinged()


# ------------------------------------------------------------------------------ start-up


def start_bot(database: Path, *, drop_file_override: bool = False) -> subprocess.Popen[str]:
    """`python -m bot` (through the test launcher, pointed at a port nobody listens on, so a
    bot that got past its checks reaches nothing)."""
    port = unused_port()
    env = bot_environment(
        database,
        api_base=f"http://127.0.0.1:{port}/api/v10",
        gateway=f"ws://127.0.0.1:{port}/",
        token=TOKEN,
    )
    command = [sys.executable, "-m", "tests.launcher"]
    if drop_file_override and os.geteuid() == 0:
        # root writes to read-only files anyway; without this capability it cannot.
        command = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", *command]
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def migrated(folder: Path) -> Path:
    folder.mkdir()
    database = folder / "cohort.sqlite3"

    async def migrate() -> None:
        db = Database(f"sqlite:///{database}")
        await db.open()
        try:
            await db.migrate()
        finally:
            await db.close()

    asyncio.run(migrate())
    with contextlib.closing(sqlite3.connect(database)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    return database


def garbage(folder: Path) -> Path:
    folder.mkdir()
    database = folder / "cohort.sqlite3"
    database.write_bytes(b"this is not a database\n" * 500)
    return database


def truncated(folder: Path) -> Path:
    database = migrated(folder)
    data = database.read_bytes()
    database.write_bytes(data[: len(data) // 3])
    return database


def damaged_page(folder: Path) -> Path:
    database = migrated(folder)
    with contextlib.closing(sqlite3.connect(database)) as conn:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        (root,) = conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'schedule_occurrences'"
        ).fetchone()
    with database.open("r+b") as file:  # scribble over one table's b-tree page
        file.seek((root - 1) * page_size)
        file.write(b"\xff" * page_size)
    return database


def read_only_file(folder: Path) -> Path:
    database = migrated(folder)
    database.chmod(0o444)
    return database


def read_only_folder(folder: Path) -> Path:
    database = read_only_file(folder)
    folder.chmod(0o555)  # no journal can be created beside it either
    return database


UNUSABLE = {
    "garbage": (garbage, ("not a database",)),
    "truncated": (truncated, ("malformed", "not a database")),
    "damaged table page": (damaged_page, ("malformed", "damaged")),
    "read-only file": (read_only_file, ("readonly", "read-only")),
    "read-only file and folder": (read_only_folder, ("readonly", "read-only")),
}


def test_an_unusable_database_stops_start_up_with_one_line(tmp_path: Path) -> None:
    if os.geteuid() == 0 and not shutil.which("setpriv"):
        pytest.skip("running as root without setpriv: files cannot be made read-only")
    started = {}
    for name, (prepare, _words) in UNUSABLE.items():
        database = prepare(tmp_path / name.replace(" ", "-"))
        started[name] = (database, start_bot(database, drop_file_override=True))
    try:
        for name, (database, process) in started.items():
            _out, err = process.communicate(timeout=60)
            lines = err.strip().splitlines()
            assert process.returncode != 0, name
            assert len(lines) == 1, f"{name}: {err}"
            (line,) = lines
            assert line.startswith("cohort: ") and str(database) in line, (name, line)
            assert any(word in line.lower() for word in UNUSABLE[name][1]), (name, line)
    finally:
        for _database, process in started.values():
            if process.poll() is None:
                process.kill()
        for folder in tmp_path.iterdir():
            folder.chmod(0o755)


# ------------------------------------------------------------------------------ disk full


@contextlib.contextmanager
def disk_full(group: StudyGroup) -> Iterator[None]:
    """SQLite's own "database or disk is full": the file may not grow past its current size
    (PRAGMA max_page_count on every connection the bot uses)."""
    database = sqlite_path(group.database_url)
    with contextlib.closing(sqlite3.connect(database)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("VACUUM")  # no free pages left to reuse
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    limit = {"pages": pages}
    engine = group.bot.database.engine.sync_engine

    def cap(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA max_page_count = {int(limit['pages'])}")
        cursor.close()

    event.listen(engine, "checkout", cap)
    try:
        yield
    finally:
        limit["pages"] = 1_073_741_823  # SQLite's default: pooled connections get room again


@pytest.mark.e2e
async def test_a_full_disk_tells_the_user_and_writes_nothing_half(group: StudyGroup) -> None:
    database = sqlite_path(group.database_url)
    big = "📚" * 1000  # 4 KB each: the row needs new pages
    with disk_full(group):
        before = rows_of(database)
        checkin = await group.sam.slash("checkin", hours=3, done=big, next=big, blockers=big)
        added = await group.mia.slash(
            "schedule add",
            kind="reminder",
            when="daily 13:00",
            channel=group.general,
            message="⏰" * 1500,
        )
        for result in (checkin, added):
            text = await answer_text(result)
            assert result.ephemeral and "incident" in text, text  # told, with a reference
        assert rows_of(database) == before  # no check-in, no schedule without occurrences
    retried = await group.sam.slash("checkin", hours=3, done=big, next=big, blockers=big)
    assert "Checked in" in retried.content
    assert integrity(database) == "ok"
    assert query(database, "SELECT count(*) FROM checkins") == [(1,)]
