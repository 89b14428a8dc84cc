"""FAQ entries, members' votes and the moderators' queue (created by migration 0004).

An entry's question is unique per guild once normalised (``question_key``), so importing a
question that exists updates it. Aliases (other phrasings, including those learned from the
queue) and tags are JSON lists on the entry; ``revision`` lets an alias be appended without
losing a concurrent change. One vote per member and entry; the entry keeps the running totals.

A queue item is one question waiting for a moderator. While it is open, ``open_key`` holds the
normalised question and is unique per guild, so the same question asked twice (even at the same
moment) counts twice on one item; answering clears it, so a later ask opens a new item. Each
asker is a row with the channel (and message, for a public answer judged not helpful) to reply in.

``faq_vectors`` (migration 0008) keeps the sentence embedding of each text an index embeds,
keyed by the model that made it and the sha256 of the text, so a restart or a rebuild embeds only
texts it has not seen. Rows of texts no entry uses any more are deleted.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    UniqueConstraint,
)

from db.schema.base import metadata
from db.types import UtcDateTime

QUESTION_MAX = 300
# Normalising can lengthen text a little (ligatures such as "ﬃ" become three letters).
QUESTION_KEY_MAX = 400
ANSWER_MAX = 4000
QUEUE_REASONS = ("unanswered", "not-helpful")
QUEUE_STATES = ("open", "answered")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


faq_entries = Table(
    "faq_entries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("guild_id", BigInteger, nullable=False),
    Column("question", String(QUESTION_MAX), nullable=False),
    Column("question_key", String(QUESTION_KEY_MAX), nullable=False),
    Column("answer", String(ANSWER_MAX), nullable=False),
    Column("aliases", JSON, nullable=False),
    Column("tags", JSON, nullable=False),
    Column("usage_count", Integer, nullable=False, server_default="0"),
    Column("helpful_count", Integer, nullable=False, server_default="0"),
    Column("not_helpful_count", Integer, nullable=False, server_default="0"),
    Column("revision", Integer, nullable=False, server_default="1"),
    Column("created_by", BigInteger),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("guild_id", "question_key", name="uq_faq_entries_question"),
)

faq_votes = Table(
    "faq_votes",
    metadata,
    Column(
        "entry_id",
        Integer,
        ForeignKey("faq_entries.id", ondelete="CASCADE", name="fk_faq_votes_entry_id"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("guild_id", BigInteger, nullable=False),
    Column("helpful", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_faq_votes_member", "guild_id", "user_id"),
)

faq_queue = Table(
    "faq_queue",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("guild_id", BigInteger, nullable=False),
    Column("question", String(QUESTION_MAX), nullable=False),
    Column("question_key", String(QUESTION_KEY_MAX), nullable=False),
    Column("open_key", String(QUESTION_KEY_MAX)),
    Column("reason", String(12), nullable=False),
    Column("state", String(10), nullable=False, server_default="open"),
    Column("ask_count", Integer, nullable=False, server_default="1"),
    # The entry a member judged not helpful (for the moderator's context).
    Column(
        "shown_entry_id",
        Integer,
        ForeignKey("faq_entries.id", ondelete="SET NULL", name="fk_faq_queue_shown_entry_id"),
    ),
    Column(
        "answered_entry_id",
        Integer,
        ForeignKey("faq_entries.id", ondelete="SET NULL", name="fk_faq_queue_answered_entry_id"),
    ),
    Column("answered_by", BigInteger),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_asked_at", UtcDateTime, nullable=False),
    Column("answered_at", UtcDateTime),
    UniqueConstraint("guild_id", "open_key", name="uq_faq_queue_open_question"),
    CheckConstraint(_one_of("reason", QUEUE_REASONS), name="ck_faq_queue_reason"),
    CheckConstraint(_one_of("state", QUEUE_STATES), name="ck_faq_queue_state"),
    CheckConstraint("(state = 'open') = (open_key IS NOT NULL)", name="ck_faq_queue_open_key"),
    Index("ix_faq_queue_guild_state", "guild_id", "state", "answered_at"),
)

faq_queue_askers = Table(
    "faq_queue_askers",
    metadata,
    Column(
        "item_id",
        Integer,
        ForeignKey("faq_queue.id", ondelete="CASCADE", name="fk_faq_queue_askers_item_id"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("channel_id", BigInteger),
    # The public answer the asker judged not helpful; the reply refers to it.
    Column("message_id", BigInteger),
    Column("asked_at", UtcDateTime, nullable=False),
    Index("ix_faq_queue_askers_user", "user_id"),
)

# Model ids are short ("all-MiniLM-L6-v2-int8/128"); a digest is a raw sha256.
MODEL_ID_MAX = 64
DIGEST_BYTES = 32

faq_vectors = Table(
    "faq_vectors",
    metadata,
    Column("guild_id", BigInteger, primary_key=True, autoincrement=False),
    Column("model", String(MODEL_ID_MAX), primary_key=True),
    Column("digest", LargeBinary(DIGEST_BYTES), primary_key=True),
    # float32 values, little-endian.
    Column("vector", LargeBinary, nullable=False),
)
