"""What differs between the two backends, written once: the INSERT that knows ON CONFLICT, and
IN lists cut to the size SQLite's bound-parameter cap allows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite

T = TypeVar("T")

#: Values per IN list (SQLite allows 32,766 bound parameters; a statement has others too).
BATCH = 500


def insert(dialect: str, table: Table) -> Any:
    """The backend's INSERT for `table` (it has on_conflict_do_nothing / _do_update)."""
    module: Any = sqlite if dialect == "sqlite" else postgresql
    return module.insert(table)


def batches(values: Sequence[T], size: int = BATCH) -> list[Sequence[T]]:
    """`values` in slices of at most `size`, for IN lists."""
    return [values[i : i + size] for i in range(0, len(values), size)]
