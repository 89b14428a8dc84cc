"""Shared fixtures: a real SQLite file, and real PostgreSQL when COHORT_TEST_POSTGRES_URL is set."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.clock import FrozenClock
from db.engine import Database

POSTGRES_URL = os.environ.get("COHORT_TEST_POSTGRES_URL", "")
SKIP_POSTGRES = "PostgreSQL tests need COHORT_TEST_POSTGRES_URL (for example postgresql://postgres@127.0.0.1:5432/test)"
# The shape of a real bot token (base64 of a user id, a timestamp, an HMAC); never valid.
TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.Gabcde.abcdefghijklmnopqrstuvwxyz012345"


def _with_database(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + name


async def _admin(url: str, statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql://", "postgres://", 1))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL database for this test session (dropped at the end)."""
    if not POSTGRES_URL:
        pytest.skip(SKIP_POSTGRES)
    name = f"cohort_test_{os.getpid()}_{secrets.token_hex(3)}"
    asyncio.run(_admin(POSTGRES_URL, f'CREATE DATABASE "{name}"'))
    try:
        yield _with_database(POSTGRES_URL, name)
    finally:
        asyncio.run(_admin(POSTGRES_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def clean_postgres_url(postgres_url: str) -> str:
    """The session database with an empty public schema."""
    asyncio.run(_admin(postgres_url, "DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    return postgres_url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/data/cohort.sqlite3"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each repository test runs twice: on a SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/cohort.sqlite3"
    return str(request.getfixturevalue("clean_postgres_url"))


async def _migrate(url: str) -> None:
    db = Database(url)
    await db.open()
    try:
        await db.migrate()
    finally:
        await db.close()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once per test run; tests start from a copy of it."""
    path = tmp_path_factory.mktemp("template") / "cohort.sqlite3"
    asyncio.run(_migrate(f"sqlite:///{path}"))
    return path


def copy_of(template: Path, url: str) -> None:
    """Put a copy of the migrated template where a sqlite:/// `url` points."""
    target = Path(url.removeprefix("sqlite:///"))
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, target)


@pytest.fixture
async def database(database_url: str, migrated_sqlite: Path) -> AsyncIterator[Database]:
    """A migrated database; on SQLite a copy of the run's template (migrating is still
    called, and finds nothing to do, as at every start of the bot)."""
    if database_url.startswith("sqlite:"):
        copy_of(migrated_sqlite, database_url)
    db = Database(database_url)
    await db.open()
    await db.migrate()
    try:
        yield db
    finally:
        await db.close()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 11, 18, 12, 0, tzinfo=UTC))
