"""Guild settings, member preferences and the bot's own key/value state.

Why: every feature reads the guild's timezone, week start, channels and moderator role,
and the member's own timezone and reminder choice; the command-sync signature lives in
bot_state so restarts with an unchanged command tree make no sync call.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "guild_settings",
        sa.Column("guild_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("timezone", sa.String(64), nullable=False, server_default="UTC"),
        sa.Column("week_start", sa.SmallInteger(), nullable=False, server_default="0"),
        sa.Column("announcements_channel_id", sa.BigInteger(), nullable=True),
        sa.Column("checkins_channel_id", sa.BigInteger(), nullable=True),
        sa.Column("reviews_channel_id", sa.BigInteger(), nullable=True),
        sa.Column("faq_channel_id", sa.BigInteger(), nullable=True),
        sa.Column("moderator_role_id", sa.BigInteger(), nullable=True),
        sa.Column("reviewers_per_submission", sa.SmallInteger(), nullable=False, server_default="2"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("week_start BETWEEN 0 AND 6", name="ck_guild_settings_week_start"),
        sa.CheckConstraint(
            "reviewers_per_submission BETWEEN 1 AND 3", name="ck_guild_settings_reviewers"
        ),
    )
    op.create_table(
        "member_preferences",
        sa.Column("guild_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("user_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("timezone", sa.String(64), nullable=True),
        sa.Column("reminders_enabled", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "bot_state",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("bot_state")
    op.drop_table("member_preferences")
    op.drop_table("guild_settings")
