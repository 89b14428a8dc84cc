"""Schedules and their occurrences (the database is the truth for timers).

Why: automatic posts must arrive on time, exactly once, across restarts. Each fire time is an
occurrence row (unique per schedule, fire time and manual flag) that is claimed with a lease
before posting and marked sent with the message id, so a restart neither re-posts nor loses
one. Check-in prompts record the DM nudges they send (paced, capped, resumable) and members
whose DMs are closed, so they are not retried forever.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

KINDS = "kind IN ('reminder', 'goal-prompt', 'checkin-prompt', 'weekly-summary', 'review-pairing')"
STATES = "state IN ('pending', 'claimed', 'sent', 'missed')"
NUDGE_STATES = "state IN ('scheduled', 'sending', 'sent', 'skipped', 'dms-closed', 'failed')"


def upgrade() -> None:
    op.create_table(
        "schedules",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("recurrence", sa.String(100), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("message", sa.String(1500), nullable=True),
        sa.Column("paused", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("disabled_reason", sa.String(300), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(KINDS, name="ck_schedules_kind"),
    )
    op.create_index("ix_schedules_guild_id", "schedules", ["guild_id"])
    op.create_index("ix_schedules_channel_id", "schedules", ["channel_id"])
    op.create_table(
        "schedule_defaults",
        sa.Column("guild_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pairing_created_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "schedule_occurrences",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "schedule_id",
            sa.Integer(),
            sa.ForeignKey(
                "schedules.id", ondelete="CASCADE", name="fk_schedule_occurrences_schedule_id"
            ),
            nullable=False,
        ),
        sa.Column("fire_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("manual", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("state", sa.String(10), nullable=False, server_default="pending"),
        sa.Column("claimed_by", sa.String(40), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.SmallInteger(), nullable=False, server_default="0"),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("coalesced", sa.SmallInteger(), nullable=False, server_default="0"),
        sa.Column("outcome", sa.String(40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint(
            "schedule_id", "fire_at", "manual", name="uq_schedule_occurrences_fire"
        ),
        sa.CheckConstraint(STATES, name="ck_schedule_occurrences_state"),
    )
    op.create_index(
        "ix_schedule_occurrences_state_fire_at", "schedule_occurrences", ["state", "fire_at"]
    )
    op.create_table(
        "schedule_nudges",
        sa.Column(
            "occurrence_id",
            sa.Integer(),
            sa.ForeignKey(
                "schedule_occurrences.id",
                ondelete="CASCADE",
                name="fk_schedule_nudges_occurrence_id",
            ),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("user_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(12), nullable=False, server_default="scheduled"),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(NUDGE_STATES, name="ck_schedule_nudges_state"),
    )
    op.create_index("ix_schedule_nudges_state_due_at", "schedule_nudges", ["state", "due_at"])
    op.create_index(
        "ix_schedule_nudges_guild_id_done_at", "schedule_nudges", ["guild_id", "done_at"]
    )
    op.create_table(
        "closed_dms",
        sa.Column("guild_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("user_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("noted_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("closed_dms")
    op.drop_index("ix_schedule_nudges_guild_id_done_at", table_name="schedule_nudges")
    op.drop_index("ix_schedule_nudges_state_due_at", table_name="schedule_nudges")
    op.drop_table("schedule_nudges")
    op.drop_index("ix_schedule_occurrences_state_fire_at", table_name="schedule_occurrences")
    op.drop_table("schedule_occurrences")
    op.drop_table("schedule_defaults")
    op.drop_index("ix_schedules_channel_id", table_name="schedules")
    op.drop_index("ix_schedules_guild_id", table_name="schedules")
    op.drop_table("schedules")
