"""Peer review: submissions, reviewer assignments, paired rounds, pauses (migration 0005).

A round is a study week, filed under its local start date (``round_key``), like goals. A member
has at most one submission per round (unique), so submitting again, even twice at once, updates
the one row and its reviewers stay. An assignment is one reviewer on one submission (unique
pair); it carries the guild so per-guild counts and a reviewer's list need no join. A round's
row in ``review_rounds`` says it was paired: later submissions are assigned at once. A pause
row keeps a member out of reviewer pools until ``until``; ``reason`` 'left' (no ``until``) marks
a member who left the server, until they use Cohort again.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

from db.schema.base import metadata
from db.types import UtcDateTime

LINK_MAX = 500
TITLE_MAX = 100
NOTE_MAX = 500
FEEDBACK_MAX = 1000
PAUSE_REASONS = ("paused", "left")

review_submissions = Table(
    "review_submissions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("guild_id", BigInteger, nullable=False),
    Column("user_id", BigInteger, nullable=False),
    Column("round_key", Date, nullable=False),
    Column("url", String(LINK_MAX), nullable=False),
    Column("title", String(TITLE_MAX)),
    Column("note", String(NOTE_MAX)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("guild_id", "user_id", "round_key", name="uq_review_submissions_member_round"),
    Index("ix_review_submissions_guild_round", "guild_id", "round_key"),
)

review_assignments = Table(
    "review_assignments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "submission_id",
        Integer,
        ForeignKey(
            "review_submissions.id",
            name="fk_review_assignments_submission_id",
            ondelete="CASCADE",
        ),
        nullable=False,
    ),
    Column("guild_id", BigInteger, nullable=False),
    Column("reviewer_id", BigInteger, nullable=False),
    Column("assigned_at", UtcDateTime, nullable=False),
    Column("due_at", UtcDateTime, nullable=False),
    Column("done_at", UtcDateTime),
    Column("feedback", String(FEEDBACK_MAX)),
    UniqueConstraint("submission_id", "reviewer_id", name="uq_review_assignments_pair"),
    # A reviewer's open reviews; the weekly count of reviews done.
    Index("ix_review_assignments_reviewer", "guild_id", "reviewer_id", "done_at"),
    Index("ix_review_assignments_guild_done", "guild_id", "done_at"),
)

review_rounds = Table(
    "review_rounds",
    metadata,
    Column("guild_id", BigInteger, primary_key=True, autoincrement=False),
    Column("round_key", Date, primary_key=True),
    Column("paired_at", UtcDateTime, nullable=False),
    # NULL: paired by a review-pairing schedule.
    Column("paired_by", BigInteger),
)

review_pauses = Table(
    "review_pauses",
    metadata,
    Column("guild_id", BigInteger, primary_key=True, autoincrement=False),
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("until", UtcDateTime),
    Column("reason", String(10), nullable=False, server_default="paused"),
    Column("created_at", UtcDateTime, nullable=False),
    CheckConstraint("reason IN ('paused', 'left')", name="ck_review_pauses_reason"),
)
