"""Courses, members' plans through them, finished modules, away time (migration 0007).

A course belongs to a guild and is known by its ``key`` (unique per guild), so importing a course
again updates it. Its modules are ordered by ``position``; re-importing matches modules by title,
so the rows (and members' finished modules that point at them) survive. A member has at most one
plan per guild; a finished module is a row per member and module, kept when the member restarts a
plan. ``plan_weeks`` records that a member added a study week of their plan as goals (once per
week). An away period runs from ``starts_at`` to ``ends_at``; coming back early shortens it.
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
    String,
    Table,
    UniqueConstraint,
)

from db.schema.base import metadata
from db.types import UtcDateTime

COURSE_KEY_MAX = 40
COURSE_TITLE_MAX = 100
SOURCE_MAX = 500
MODULE_TITLE_MAX = 100
URL_MAX = 500

courses = Table(
    "courses",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("guild_id", BigInteger, nullable=False),
    Column("key", String(COURSE_KEY_MAX), nullable=False),
    Column("title", String(COURSE_TITLE_MAX), nullable=False),
    Column("source", String(SOURCE_MAX)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("guild_id", "key", name="uq_courses_guild_key"),
)

course_modules = Table(
    "course_modules",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "course_id",
        Integer,
        ForeignKey("courses.id", name="fk_course_modules_course_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("position", Integer, nullable=False),
    Column("title", String(MODULE_TITLE_MAX), nullable=False),
    Column("hours", Float, nullable=False),
    Column("url", String(URL_MAX)),
    CheckConstraint("hours >= 0.5 AND hours <= 500", name="ck_course_modules_hours"),
    Index("ix_course_modules_course", "course_id", "position"),
)

plans = Table(
    "plans",
    metadata,
    Column("guild_id", BigInteger, primary_key=True, autoincrement=False),
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column(
        "course_id",
        Integer,
        ForeignKey("courses.id", name="fk_plans_course_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("started_at", UtcDateTime, nullable=False),
    # The guild's local date the plan started and its target (before away time moves it).
    Column("start_day", Date, nullable=False),
    Column("target_day", Date, nullable=False),
    # As given by the member (NULL: derived from the target).
    Column("weekly_hours", Float),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_plans_course", "course_id"),
)

module_progress = Table(
    "module_progress",
    metadata,
    Column("guild_id", BigInteger, primary_key=True, autoincrement=False),
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column(
        "module_id",
        Integer,
        ForeignKey("course_modules.id", name="fk_module_progress_module_id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("finished_at", UtcDateTime, nullable=False),
    Index("ix_module_progress_module", "module_id"),
)

plan_weeks = Table(
    "plan_weeks",
    metadata,
    Column("guild_id", BigInteger, primary_key=True, autoincrement=False),
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("week_key", Date, primary_key=True),
    Column("added_at", UtcDateTime, nullable=False),
)

away_periods = Table(
    "away_periods",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("guild_id", BigInteger, nullable=False),
    Column("user_id", BigInteger, nullable=False),
    Column("starts_at", UtcDateTime, nullable=False),
    Column("ends_at", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("guild_id", "user_id", "starts_at", name="uq_away_periods_member_start"),
    Index("ix_away_periods_guild_end", "guild_id", "ends_at"),
)
