"""Schedules, their occurrences, the DM nudges an occurrence sends, and closed DMs.

The database is the truth for timers: every fire time a schedule produces is a row in
``schedule_occurrences`` (unique per schedule, fire time and manual flag) that moves
pending → claimed → sent or missed. The in-memory timer is rebuilt from these rows.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    UniqueConstraint,
    false,
)

from db.schema.base import metadata
from db.types import UtcDateTime

SCHEDULE_KINDS = ("reminder", "goal-prompt", "checkin-prompt", "weekly-summary", "review-pairing")
OCCURRENCE_STATES = ("pending", "claimed", "sent", "missed")
NUDGE_STATES = ("scheduled", "sending", "sent", "skipped", "dms-closed", "failed")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


schedules = Table(
    "schedules",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("guild_id", BigInteger, nullable=False),
    Column("kind", String(20), nullable=False),
    # The canonical form of `when` (bot.domain.recurrence), read back with from_canonical.
    Column("recurrence", String(100), nullable=False),
    Column("channel_id", BigInteger, nullable=False),
    Column("message", String(1500)),
    Column("paused", Boolean, nullable=False, server_default=false()),
    Column("disabled_reason", String(300)),
    # NULL: created by Cohort itself (the default weekly rhythm).
    Column("created_by", BigInteger),
    Column("created_at", UtcDateTime, nullable=False),
    CheckConstraint(_one_of("kind", SCHEDULE_KINDS), name="ck_schedules_kind"),
    Index("ix_schedules_guild_id", "guild_id"),
    Index("ix_schedules_channel_id", "channel_id"),
)

# One row per guild once its default rhythm was created, so it is created exactly once even if
# moderators later remove those schedules.
schedule_defaults = Table(
    "schedule_defaults",
    metadata,
    Column("guild_id", BigInteger, primary_key=True, autoincrement=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("pairing_created_at", UtcDateTime),
)

schedule_occurrences = Table(
    "schedule_occurrences",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "schedule_id",
        Integer,
        ForeignKey("schedules.id", ondelete="CASCADE", name="fk_schedule_occurrences_schedule_id"),
        nullable=False,
    ),
    Column("fire_at", UtcDateTime, nullable=False),
    # A `/schedule run`: its own occurrence at the moment it was asked for; the cadence stays.
    Column("manual", Boolean, nullable=False, server_default=false()),
    Column("state", String(10), nullable=False, server_default="pending"),
    Column("claimed_by", String(40)),
    Column("lease_until", UtcDateTime),
    Column("attempts", SmallInteger, nullable=False, server_default="0"),
    Column("message_id", BigInteger),
    Column("sent_at", UtcDateTime),
    Column("late", Boolean, nullable=False, server_default=false()),
    # How many earlier missed occurrences this (late) post stands for.
    Column("coalesced", SmallInteger, nullable=False, server_default="0"),
    # Why an occurrence was missed (too-late, coalesced, paused, channel-gone …).
    Column("outcome", String(40)),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("schedule_id", "fire_at", "manual", name="uq_schedule_occurrences_fire"),
    CheckConstraint(_one_of("state", OCCURRENCE_STATES), name="ck_schedule_occurrences_state"),
    Index("ix_schedule_occurrences_state_fire_at", "state", "fire_at"),
)

# DM nudges sent because of a check-in prompt: one row per member and occurrence, due at the
# prompt's local time in the member's own timezone.
schedule_nudges = Table(
    "schedule_nudges",
    metadata,
    Column(
        "occurrence_id",
        Integer,
        ForeignKey(
            "schedule_occurrences.id",
            ondelete="CASCADE",
            name="fk_schedule_nudges_occurrence_id",
        ),
        primary_key=True,
        autoincrement=False,
    ),
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("guild_id", BigInteger, nullable=False),
    Column("due_at", UtcDateTime, nullable=False),
    Column("state", String(12), nullable=False, server_default="scheduled"),
    Column("done_at", UtcDateTime),
    CheckConstraint(_one_of("state", NUDGE_STATES), name="ck_schedule_nudges_state"),
    Index("ix_schedule_nudges_state_due_at", "state", "due_at"),
    Index("ix_schedule_nudges_guild_id_done_at", "guild_id", "done_at"),
)

# Members whose DMs refused the bot (Discord 50007); not nudged again until they change their
# preferences or the note is old.
closed_dms = Table(
    "closed_dms",
    metadata,
    Column("guild_id", BigInteger, primary_key=True, autoincrement=False),
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("noted_at", UtcDateTime, nullable=False),
)
