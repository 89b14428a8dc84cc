"""Table definitions used by the repositories, one module per aggregate.

The migrations create the same tables; tests/db/test_migrations.py compares the two on
both backends.
"""

from __future__ import annotations

from db.schema import faq, goals, lifecycle, plans, reviews, schedules
from db.schema.base import metadata
from db.schema.core import bot_state, guild_settings, member_preferences

__all__ = [
    "bot_state",
    "faq",
    "goals",
    "guild_settings",
    "lifecycle",
    "member_preferences",
    "metadata",
    "plans",
    "reviews",
    "schedules",
]
