"""`python -m bot backup PATH`: a consistent copy of the SQLite database while the bot runs."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

from db.engine import SQLITE_BUSY_TIMEOUT_MS, DatabaseError


@dataclass(frozen=True)
class BackupReport:
    source: Path
    target: Path
    size: int


def backup_sqlite(source: Path, target: Path) -> BackupReport:
    """Copy `source` to `target` with SQLite's online backup, in one step: under WAL the copy is
    one consistent snapshot while the bot goes on writing. The copy is written beside `target`
    and renamed into place once it passed an integrity check, so `target` is never half a file."""
    if not source.is_file():
        raise DatabaseError(f"there is no database at {source} (DATABASE_URL): nothing to back up")
    if target.is_dir():
        raise DatabaseError(f"{target} is a folder: give the backup a file name")
    if target.exists() and target.resolve() == source.resolve():
        raise DatabaseError(f"{target} is the database itself: choose another file")
    if not target.parent.is_dir():
        raise DatabaseError(f"the folder {target.parent} does not exist: create it first")
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(handle)
    partial = Path(temporary)
    try:
        _copy(source, partial)
        os.replace(partial, target)
    except sqlite3.Error as exc:
        raise DatabaseError(f"cannot back up {source} (DATABASE_URL): {exc}") from None
    finally:
        partial.unlink(missing_ok=True)
    return BackupReport(source, target, target.stat().st_size)


def _copy(source: Path, target: Path) -> None:
    timeout = SQLITE_BUSY_TIMEOUT_MS / 1000
    uri = f"{source.resolve().as_uri()}?mode=ro"
    with (
        contextlib.closing(sqlite3.connect(uri, uri=True, timeout=timeout)) as src,
        contextlib.closing(sqlite3.connect(target, timeout=timeout)) as dst,
    ):
        src.backup(dst)  # pages=-1: the whole database under one read transaction
        # One self-contained file (no -wal beside it), whatever mode the database is in.
        dst.execute("PRAGMA journal_mode=DELETE")
        found = [row[0] for row in dst.execute("PRAGMA integrity_check")]
        if found != ["ok"]:
            raise sqlite3.DatabaseError(f"the copy fails its integrity check: {found[0]}")
