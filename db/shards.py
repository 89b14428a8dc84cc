"""A guild's shard in SQL: ``(guild_id >> 22) % shard_count`` (the same on both backends),
so each process reads only the work of the guilds it serves."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import literal_column, true


def owned(guild_id: Any, count: int | None, ids: Sequence[int] | None) -> Any:
    """A condition on a guild id column: its shard is one of `ids` (None: every guild)."""
    if ids is None or count is None:
        return true()
    # Integers only: safe to inline, and the same plan whatever the values.
    shard = guild_id.op(">>")(literal_column("22")).op("%")(literal_column(str(int(count))))
    return shard.in_([int(i) for i in ids])
