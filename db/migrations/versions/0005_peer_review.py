"""Peer-review submissions and assignments.

Why: members exchange reviews of their work each study week. A submission is unique per member
and round (submitting again updates it, even when two arrive at once, and keeps its reviewers);
an assignment is unique per submission and reviewer and records when it is due, when it was
done and the feedback; a round's row says it was paired (later submissions are assigned at
once, and pairing again pairs only what is new); a pause row keeps a member out of reviewer
pools for a while, or since they left the server.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "review_submissions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("round_key", sa.Date(), nullable=False),
        sa.Column("url", sa.String(500), nullable=False),
        sa.Column("title", sa.String(100), nullable=True),
        sa.Column("note", sa.String(500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint(
            "guild_id", "user_id", "round_key", name="uq_review_submissions_member_round"
        ),
    )
    op.create_index(
        "ix_review_submissions_guild_round", "review_submissions", ["guild_id", "round_key"]
    )
    op.create_table(
        "review_assignments",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "submission_id",
            sa.Integer(),
            sa.ForeignKey(
                "review_submissions.id",
                name="fk_review_assignments_submission_id",
                ondelete="CASCADE",
            ),
            nullable=False,
        ),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("reviewer_id", sa.BigInteger(), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("feedback", sa.String(1000), nullable=True),
        sa.UniqueConstraint("submission_id", "reviewer_id", name="uq_review_assignments_pair"),
    )
    op.create_index(
        "ix_review_assignments_reviewer",
        "review_assignments",
        ["guild_id", "reviewer_id", "done_at"],
    )
    op.create_index(
        "ix_review_assignments_guild_done", "review_assignments", ["guild_id", "done_at"]
    )
    op.create_table(
        "review_rounds",
        sa.Column("guild_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("round_key", sa.Date(), primary_key=True),
        sa.Column("paired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paired_by", sa.BigInteger(), nullable=True),
    )
    op.create_table(
        "review_pauses",
        sa.Column("guild_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("user_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(10), nullable=False, server_default="paused"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("reason IN ('paused', 'left')", name="ck_review_pauses_reason"),
    )


def downgrade() -> None:
    op.drop_table("review_pauses")
    op.drop_table("review_rounds")
    op.drop_index("ix_review_assignments_guild_done", table_name="review_assignments")
    op.drop_index("ix_review_assignments_reviewer", table_name="review_assignments")
    op.drop_table("review_assignments")
    op.drop_index("ix_review_submissions_guild_round", table_name="review_submissions")
    op.drop_table("review_submissions")
