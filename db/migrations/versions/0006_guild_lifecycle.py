"""Guild removal and member departure bookkeeping.

Why: when the bot is removed from a guild its schedules stop at once and its data is purged
30 days later, unless the bot comes back first; the departure time must survive restarts, so
it is a row. A member who leaves keeps their data (they may return) but must drop out of DM
nudges and review pools, so their departure is a row too, removed when they return.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "guild_departures",
        sa.Column("guild_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "member_departures",
        sa.Column("guild_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("user_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("member_departures")
    op.drop_table("guild_departures")
