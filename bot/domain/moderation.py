"""Who counts as a moderator."""

from __future__ import annotations

from collections.abc import Iterable


def is_moderator(
    *,
    manage_guild: bool,
    administrator: bool,
    role_ids: Iterable[int],
    moderator_role_id: int | None,
) -> bool:
    """Manage Server (or Administrator), or the guild's configured moderator role."""
    if manage_guild or administrator:
        return True
    return moderator_role_id is not None and moderator_role_id in set(role_ids)
