"""FAQ entries, votes and the moderators' queue.

Why: /faq answers members' questions from entries moderators keep (with the phrasings learned
from the queue), counts how often each helped, and sends questions it cannot answer to a queue.
Questions are unique per guild once normalised, so an import updates rather than duplicates; a
vote is unique per member and entry; an open queue item is unique per normalised question, so
duplicates asked at the same moment merge into one item with a count.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "faq_entries",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("question", sa.String(300), nullable=False),
        sa.Column("question_key", sa.String(400), nullable=False),
        sa.Column("answer", sa.String(4000), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("usage_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("helpful_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("not_helpful_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("revision", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("guild_id", "question_key", name="uq_faq_entries_question"),
    )
    op.create_table(
        "faq_votes",
        sa.Column("entry_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("user_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["faq_entries.id"], name="fk_faq_votes_entry_id", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_faq_votes_member", "faq_votes", ["guild_id", "user_id"])
    op.create_table(
        "faq_queue",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("question", sa.String(300), nullable=False),
        sa.Column("question_key", sa.String(400), nullable=False),
        sa.Column("open_key", sa.String(400), nullable=True),
        sa.Column("reason", sa.String(12), nullable=False),
        sa.Column("state", sa.String(10), nullable=False, server_default="open"),
        sa.Column("ask_count", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("shown_entry_id", sa.Integer(), nullable=True),
        sa.Column("answered_entry_id", sa.Integer(), nullable=True),
        sa.Column("answered_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["shown_entry_id"],
            ["faq_entries.id"],
            name="fk_faq_queue_shown_entry_id",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["answered_entry_id"],
            ["faq_entries.id"],
            name="fk_faq_queue_answered_entry_id",
            ondelete="SET NULL",
        ),
        sa.UniqueConstraint("guild_id", "open_key", name="uq_faq_queue_open_question"),
        sa.CheckConstraint("reason IN ('unanswered', 'not-helpful')", name="ck_faq_queue_reason"),
        sa.CheckConstraint("state IN ('open', 'answered')", name="ck_faq_queue_state"),
        sa.CheckConstraint(
            "(state = 'open') = (open_key IS NOT NULL)", name="ck_faq_queue_open_key"
        ),
    )
    op.create_index(
        "ix_faq_queue_guild_state", "faq_queue", ["guild_id", "state", "answered_at"]
    )
    op.create_table(
        "faq_queue_askers",
        sa.Column("item_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("user_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["faq_queue.id"], name="fk_faq_queue_askers_item_id", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_faq_queue_askers_user", "faq_queue_askers", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_faq_queue_askers_user", table_name="faq_queue_askers")
    op.drop_table("faq_queue_askers")
    op.drop_index("ix_faq_queue_guild_state", table_name="faq_queue")
    op.drop_table("faq_queue")
    op.drop_index("ix_faq_votes_member", table_name="faq_votes")
    op.drop_table("faq_votes")
    op.drop_table("faq_entries")
