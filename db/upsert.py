"""INSERT … ON CONFLICT DO UPDATE for both backends (same SQL shape on SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.sql.dml import Insert

from db.dialect import insert


def upsert(
    dialect: str,
    table: Table,
    values: Mapping[str, Any],
    conflict: Sequence[str],
    update: Sequence[str],
) -> Insert:
    """Insert `values`, or update the `update` columns of the row matching `conflict`."""
    stmt = insert(dialect, table).values(**values)
    if not update:
        return stmt.on_conflict_do_nothing(index_elements=list(conflict))
    return stmt.on_conflict_do_update(
        index_elements=list(conflict),
        set_={name: stmt.excluded[name] for name in update},
    )
