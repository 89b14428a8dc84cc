"""The database: one async engine for SQLite (aiosqlite) or PostgreSQL (asyncpg), and migrations."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# How long a SQLite writer waits for another writer before giving up (ms).
SQLITE_BUSY_TIMEOUT_MS = 2000
PERCENT_ENCODING_HINT = "percent-encode @ : / # ? % in the user name and password (@ is %40)"


class DatabaseError(Exception):
    """The database cannot be opened or migrated; the message is one line for the operator."""


@dataclass(frozen=True)
class SchemaReport:
    backend: str
    location: str
    version: str | None
    head: str
    tables: tuple[str, ...]


def to_async_url(url: str) -> str:
    """Map the user-facing URL (sqlite:///…, postgresql://…) to its async driver URL."""
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url.removeprefix("sqlite:///")
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        return "postgresql+asyncpg://" + url.removeprefix("postgresql://")
    raise DatabaseError(f"unsupported DATABASE_URL scheme: {url.split(':', 1)[0]}")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class Database:
    """Owns the engine. Nothing connects until `open()` is awaited."""

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            self._async_url = make_url(to_async_url(url))
        except (ArgumentError, ValueError) as exc:
            raise DatabaseError(
                f"DATABASE_URL cannot be read ({type(exc).__name__}): {PERCENT_ENCODING_HINT}"
            ) from None
        self.backend = "sqlite" if self._async_url.get_backend_name() == "sqlite" else "postgresql"
        self._engine: AsyncEngine | None = None

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            raise RuntimeError("Database.open() was not awaited")
        return self._engine

    @property
    def location(self) -> str:
        """Where the data lives, without credentials."""
        if self.backend == "sqlite":
            return str(self._async_url.database)
        return self._async_url.render_as_string(hide_password=True).split("://", 1)[1]

    async def open(self) -> None:
        if self._engine is not None:
            return
        if self.backend == "sqlite":
            path = Path(self._async_url.database or "")
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DatabaseError(
                    f"cannot create the folder for {path} (DATABASE_URL): {exc.strerror}"
                ) from exc
            engine = create_async_engine(self._async_url)
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        else:
            engine = create_async_engine(self._async_url, pool_pre_ping=True)
        self._engine = engine

    async def migrate(self) -> str:
        """Apply every pending migration in one transaction; return the schema version."""
        try:
            async with self.engine.begin() as conn:
                return await conn.run_sync(_upgrade_to_head)
        except DatabaseError:
            raise
        except Exception as exc:
            raise DatabaseError(
                f"cannot open or migrate the database in DATABASE_URL ({self.backend} at "
                f"{self.location}): {_one_line(exc)} — {self._fix_hint()}"
            ) from exc

    def _fix_hint(self) -> str:
        if self.backend == "sqlite":
            return (
                "check the file and its folder are readable and writable, restore a backup, "
                "or point DATABASE_URL at another file"
            )
        return (
            "check that PostgreSQL is running and DATABASE_URL's host, port, user, password "
            "and database"
        )

    async def report(self) -> SchemaReport:
        async with self.engine.connect() as conn:
            version, tables = await conn.run_sync(_inspect)
        return SchemaReport(self.backend, self.location, version, head_revision(), tables)

    async def close(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def _upgrade_to_head(connection: Connection) -> str:
    if connection.dialect.name == "sqlite":
        # A damaged page would otherwise surface as errors in whichever command reads it.
        found = [str(row[0]) for row in connection.exec_driver_sql("PRAGMA quick_check(3)")]
        if found != ["ok"]:
            raise RuntimeError(f"the file is damaged ({'; '.join(found)[:200]})")
    command.upgrade(alembic_config(connection), "head")
    # A database that reads but cannot be written (read-only file or role) would otherwise
    # only fail at the first write, long after start-up: find out now.
    connection.execute(text("UPDATE alembic_version SET version_num = version_num"))
    version = MigrationContext.configure(connection).get_current_revision()
    return version or ""


def _inspect(connection: Connection) -> tuple[str | None, tuple[str, ...]]:
    from sqlalchemy import inspect

    version = MigrationContext.configure(connection).get_current_revision()
    tables = tuple(
        sorted(t for t in inspect(connection).get_table_names() if t != "alembic_version")
    )
    return version, tables


def _one_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
