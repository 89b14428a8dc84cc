"""Weekly goals and daily check-ins.

Why: members plan each study week with goals and report progress with check-ins; /progress and
the weekly summary aggregate both per week. Goals take one of ten numbered slots per member and
week (the limit holds under concurrent additions) and a carried-over goal records its source
once (carrying twice cannot duplicate). Check-ins are unique per member and local day, so two
concurrent submissions leave one row.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "goals",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("week_key", sa.Date(), nullable=False),
        sa.Column("slot", sa.SmallInteger(), nullable=False),
        sa.Column("text", sa.String(200), nullable=False),
        sa.Column("hours", sa.Float(), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("carried_from", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["carried_from"], ["goals.id"], name="fk_goals_carried_from", ondelete="SET NULL"
        ),
        sa.UniqueConstraint(
            "guild_id", "user_id", "week_key", "slot", name="uq_goals_member_week_slot"
        ),
        sa.UniqueConstraint("carried_from", name="uq_goals_carried_from"),
        sa.CheckConstraint("slot BETWEEN 1 AND 10", name="ck_goals_slot"),
        sa.CheckConstraint(
            "hours IS NULL OR (hours >= 0.5 AND hours <= 80)", name="ck_goals_hours"
        ),
    )
    op.create_index(
        "ix_goals_guild_week", "goals", ["guild_id", "week_key", "user_id", "done_at"]
    )
    op.create_table(
        "checkins",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("local_day", sa.Date(), nullable=False),
        sa.Column("week_key", sa.Date(), nullable=False),
        sa.Column("hours", sa.Float(), nullable=True),
        sa.Column("done", sa.String(1000), nullable=True),
        sa.Column("next_steps", sa.String(1000), nullable=True),
        sa.Column("blockers", sa.String(1000), nullable=True),
        sa.Column("mood", sa.SmallInteger(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("guild_id", "user_id", "local_day", name="uq_checkins_member_day"),
        sa.CheckConstraint(
            "hours IS NULL OR (hours >= 0 AND hours <= 100)", name="ck_checkins_hours"
        ),
        sa.CheckConstraint("mood IS NULL OR (mood >= 1 AND mood <= 5)", name="ck_checkins_mood"),
    )
    op.create_index(
        "ix_checkins_guild_week", "checkins", ["guild_id", "week_key", "user_id", "hours"]
    )
    op.create_index("ix_checkins_member_week", "checkins", ["guild_id", "user_id", "week_key"])


def downgrade() -> None:
    op.drop_index("ix_checkins_member_week", table_name="checkins")
    op.drop_index("ix_checkins_guild_week", table_name="checkins")
    op.drop_table("checkins")
    op.drop_index("ix_goals_guild_week", table_name="goals")
    op.drop_table("goals")
