"""Table definitions used by the repositories (the migrations create the same tables)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    SmallInteger,
    String,
    Table,
    Text,
    false,
)

from db.schema.base import metadata
from db.types import UtcDateTime

guild_settings = Table(
    "guild_settings",
    metadata,
    Column("guild_id", BigInteger, primary_key=True, autoincrement=False),
    Column("timezone", String(64), nullable=False, server_default="UTC"),
    Column("week_start", SmallInteger, nullable=False, server_default="0"),
    Column("announcements_channel_id", BigInteger),
    Column("checkins_channel_id", BigInteger),
    Column("reviews_channel_id", BigInteger),
    Column("faq_channel_id", BigInteger),
    Column("moderator_role_id", BigInteger),
    Column("reviewers_per_submission", SmallInteger, nullable=False, server_default="2"),
    Column("updated_at", UtcDateTime, nullable=False),
)

member_preferences = Table(
    "member_preferences",
    metadata,
    Column("guild_id", BigInteger, primary_key=True, autoincrement=False),
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("timezone", String(64)),
    Column("reminders_enabled", Boolean, nullable=False, server_default=false()),
    Column("updated_at", UtcDateTime, nullable=False),
)

bot_state = Table(
    "bot_state",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)
