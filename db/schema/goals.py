"""Weekly goals and daily check-ins (created by migration 0002).

Goals are filed under (guild, member, week_key), the local start date of the guild's study week.
Each goal takes one of ten numbered slots of its week, so the database itself enforces the
ten-goals-per-week limit even when two additions race. A carried-over goal remembers the goal it
was copied from; that column is unique, so one goal can be carried only once.

A check-in is one row per member per local day (the member's own timezone, else the guild's);
week_key is the guild study week containing the moment of the first check-in that day, so weekly
totals are one GROUP BY away.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    UniqueConstraint,
)

from db.schema.base import metadata
from db.types import UtcDateTime

GOALS_PER_WEEK = 10
GOAL_TEXT_MAX = 200
CHECKIN_TEXT_MAX = 1000

goals = Table(
    "goals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("guild_id", BigInteger, nullable=False),
    Column("user_id", BigInteger, nullable=False),
    Column("week_key", Date, nullable=False),
    Column("slot", SmallInteger, nullable=False),
    Column("text", String(GOAL_TEXT_MAX), nullable=False),
    Column("hours", Float),
    Column("done_at", UtcDateTime),
    Column(
        "carried_from",
        Integer,
        ForeignKey("goals.id", name="fk_goals_carried_from", ondelete="SET NULL"),
    ),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("guild_id", "user_id", "week_key", "slot", name="uq_goals_member_week_slot"),
    UniqueConstraint("carried_from", name="uq_goals_carried_from"),
    CheckConstraint(f"slot BETWEEN 1 AND {GOALS_PER_WEEK}", name="ck_goals_slot"),
    CheckConstraint("hours IS NULL OR (hours >= 0.5 AND hours <= 80)", name="ck_goals_hours"),
    # Covers the per-week guild figures (members, goals set and done) without table reads.
    Index("ix_goals_guild_week", "guild_id", "week_key", "user_id", "done_at"),
)

checkins = Table(
    "checkins",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("guild_id", BigInteger, nullable=False),
    Column("user_id", BigInteger, nullable=False),
    Column("local_day", Date, nullable=False),
    Column("week_key", Date, nullable=False),
    Column("hours", Float),
    Column("done", String(CHECKIN_TEXT_MAX)),
    Column("next_steps", String(CHECKIN_TEXT_MAX)),
    Column("blockers", String(CHECKIN_TEXT_MAX)),
    Column("mood", SmallInteger),
    # 1 when created; each later check-in the same day adds one (tells "recorded" from "updated").
    Column("revision", Integer, nullable=False, server_default="1"),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("guild_id", "user_id", "local_day", name="uq_checkins_member_day"),
    CheckConstraint("hours IS NULL OR (hours >= 0 AND hours <= 100)", name="ck_checkins_hours"),
    CheckConstraint("mood IS NULL OR (mood >= 1 AND mood <= 5)", name="ck_checkins_mood"),
    # Covers the per-week guild figures (who checked in, hours) without table reads.
    Index("ix_checkins_guild_week", "guild_id", "week_key", "user_id", "hours"),
    Index("ix_checkins_member_week", "guild_id", "user_id", "week_key"),
)
