"""User-facing errors: raised by services, turned into short ephemeral replies by the tree."""

from __future__ import annotations


class UserError(Exception):
    """Something the user can fix; the message is shown to them as is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotAllowed(UserError):
    """The caller may not do this (not a moderator, not their item, wrong guild)."""


class NotFound(UserError):
    """The thing asked for does not exist (or is not visible to the caller)."""


class InvalidInput(UserError):
    """A value failed validation."""


class LimitReached(UserError):
    """A per-member or per-guild limit would be exceeded."""


class Busy(UserError):
    """The database is busy; the user may try again."""

    def __init__(
        self, message: str = "Cohort is busy right now — please try again in a moment."
    ) -> None:
        super().__init__(message)


class DmsClosed(Exception):
    """The member does not accept DMs from the bot (Discord 50007): raised by the Discord
    side of a publisher, handled by the services that send DMs."""
