"""Guilds the bot was removed from and members who left a guild (created by migration 0006).

A guild's row says when the bot was removed: its data is purged once the row is 30 days old,
and the row goes away if the bot comes back first. A member's row takes them out of DM nudges
(and review pools) while their data stays, since they may come back.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Table

from db.schema.base import metadata
from db.types import UtcDateTime

guild_departures = Table(
    "guild_departures",
    metadata,
    Column("guild_id", BigInteger, primary_key=True, autoincrement=False),
    Column("left_at", UtcDateTime, nullable=False),
)

member_departures = Table(
    "member_departures",
    metadata,
    Column("guild_id", BigInteger, primary_key=True, autoincrement=False),
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("left_at", UtcDateTime, nullable=False),
)
