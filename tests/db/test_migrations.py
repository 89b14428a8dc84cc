from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from db.engine import Database, DatabaseError, head_revision
from db.schema import metadata


async def test_upgrade_from_empty_reaches_head(database_url: str) -> None:
    db = Database(database_url)
    await db.open()
    try:
        assert await db.migrate() == head_revision()
        report = await db.report()
        assert report.version == report.head
        assert {"guild_settings", "member_preferences", "bot_state"} <= set(report.tables)
    finally:
        await db.close()


async def test_migrating_twice_changes_nothing(database: Database) -> None:
    before = await database.report()
    assert await database.migrate() == before.version
    assert await database.report() == before


async def test_schema_module_matches_the_migrations(database: Database) -> None:
    def diff(connection: object) -> list[object]:
        context = MigrationContext.configure(connection)  # type: ignore[arg-type]
        return [d for d in compare_metadata(context, metadata) if "alembic_version" not in str(d)]

    async with database.engine.connect() as conn:
        assert await conn.run_sync(diff) == []


async def test_sqlite_connections_use_wal_and_foreign_keys(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path}/nested/folder/cohort.sqlite3")
    await db.open()
    await db.migrate()
    try:
        assert (tmp_path / "nested" / "folder" / "cohort.sqlite3").exists()
        async with db.engine.connect() as conn:
            pragma = {
                name: (await conn.execute(text(f"PRAGMA {name}"))).scalar()
                for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
            }
        assert pragma == {
            "journal_mode": "wal",
            "foreign_keys": 1,
            "busy_timeout": 2000,
            "synchronous": 1,
        }
    finally:
        await db.close()


async def test_unreachable_postgres_is_one_clear_line() -> None:
    db = Database("postgresql://nobody@127.0.0.1:1/none")
    await db.open()
    try:
        with pytest.raises(DatabaseError) as info:
            await db.migrate()
    finally:
        await db.close()
    assert "\n" not in str(info.value)
    assert "127.0.0.1:1" in str(info.value)


async def test_corrupt_sqlite_file_is_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    db = Database(f"sqlite:///{path}")
    await db.open()
    try:
        with pytest.raises(DatabaseError, match="not a database"):
            await db.migrate()
    finally:
        await db.close()
