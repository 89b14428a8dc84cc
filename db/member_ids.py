"""A page of the members a feature knows in a guild, for exports that walk them in batches."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, select, union
from sqlalchemy.ext.asyncio import AsyncEngine


async def member_page(
    engine: AsyncEngine,
    sources: Sequence[tuple[ColumnElement[int], ColumnElement[bool]]],
    after: int | None,
    limit: int,
) -> list[int]:
    """The next `limit` user ids, ascending and above `after`, found in any of `sources`: each
    a user id column and the condition on the rows it is read from."""
    selects = []
    for user_id, where in sources:
        query = select(user_id.label("user_id")).where(where)
        if after is not None:
            query = query.where(user_id > after)
        selects.append(query)
    members = union(*selects).subquery()
    page = select(members.c.user_id).order_by(members.c.user_id).limit(limit)
    async with engine.connect() as conn:
        return [user_id for (user_id,) in await conn.execute(page)]
