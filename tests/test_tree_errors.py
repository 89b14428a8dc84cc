"""How errors map to replies (the end-to-end tests check the replies themselves)."""

from __future__ import annotations

import discord
from discord import app_commands
from sqlalchemy.exc import OperationalError

from bot.errors import Busy, InvalidInput, NotAllowed
from bot.tree import Refused, user_error_for


def invoke_error(original: Exception) -> app_commands.CommandInvokeError:
    command = app_commands.Command(name="x", description="x", callback=_callback)
    return app_commands.CommandInvokeError(command, original)


async def _callback(interaction: discord.Interaction) -> None: ...


def test_user_errors_inside_invoke_errors_are_unwrapped() -> None:
    error = InvalidInput("Hours must be between 0 and 100.")
    assert user_error_for(invoke_error(error)) is error


def test_refused_checks_carry_their_message() -> None:
    refusal = NotAllowed("Only moderators can do that.")
    assert user_error_for(Refused(refusal)) is refusal


def test_database_lock_becomes_busy() -> None:
    locked = OperationalError("INSERT", {}, Exception("database is locked"))
    assert isinstance(user_error_for(invoke_error(locked)), Busy)


def test_unexpected_errors_are_not_friendly() -> None:
    assert user_error_for(invoke_error(RuntimeError("boom"))) is None
    assert user_error_for(invoke_error(ZeroDivisionError())) is None


def test_dm_use_is_explained() -> None:
    friendly = user_error_for(app_commands.NoPrivateMessage())
    assert friendly is not None and "server" in friendly.message
