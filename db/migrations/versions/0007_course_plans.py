"""Course plans: courses and their modules, members' plans, finished modules, away time.

Why: a self-paced course has no deadlines; a plan gives a member a pace toward a finish date.
A course is unique per guild by key so importing it again updates it; modules keep their rows
across re-imports (matched by title) so members' finished modules survive. One plan per member
and guild. Adding a week of the plan as goals is recorded once per member and week, and away
periods move plan targets, keep streaks and pause nudges and review assignments.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "courses",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(40), nullable=False),
        sa.Column("title", sa.String(100), nullable=False),
        sa.Column("source", sa.String(500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("guild_id", "key", name="uq_courses_guild_key"),
    )
    op.create_table(
        "course_modules",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "course_id",
            sa.Integer(),
            sa.ForeignKey("courses.id", name="fk_course_modules_course_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(100), nullable=False),
        sa.Column("hours", sa.Float(), nullable=False),
        sa.Column("url", sa.String(500), nullable=True),
        sa.CheckConstraint("hours >= 0.5 AND hours <= 500", name="ck_course_modules_hours"),
    )
    op.create_index("ix_course_modules_course", "course_modules", ["course_id", "position"])
    op.create_table(
        "plans",
        sa.Column("guild_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("user_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column(
            "course_id",
            sa.Integer(),
            sa.ForeignKey("courses.id", name="fk_plans_course_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("start_day", sa.Date(), nullable=False),
        sa.Column("target_day", sa.Date(), nullable=False),
        sa.Column("weekly_hours", sa.Float(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_plans_course", "plans", ["course_id"])
    op.create_table(
        "module_progress",
        sa.Column("guild_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("user_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column(
            "module_id",
            sa.Integer(),
            sa.ForeignKey(
                "course_modules.id", name="fk_module_progress_module_id", ondelete="CASCADE"
            ),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_module_progress_module", "module_progress", ["module_id"])
    op.create_table(
        "plan_weeks",
        sa.Column("guild_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("user_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("week_key", sa.Date(), primary_key=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "away_periods",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint(
            "guild_id", "user_id", "starts_at", name="uq_away_periods_member_start"
        ),
    )
    op.create_index("ix_away_periods_guild_end", "away_periods", ["guild_id", "ends_at"])


def downgrade() -> None:
    op.drop_table("away_periods")
    op.drop_table("plan_weeks")
    op.drop_table("module_progress")
    op.drop_table("plans")
    op.drop_table("course_modules")
    op.drop_table("courses")
