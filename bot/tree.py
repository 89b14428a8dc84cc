"""The command tree: one error handler for every application command."""

from __future__ import annotations

import logging
import secrets

import discord
from discord import app_commands
from sqlalchemy.exc import OperationalError

from bot.errors import Busy, NotAllowed, NotFound, UserError
from bot.formatting import escape_markdown

log = logging.getLogger(__name__)


class Refused(app_commands.CheckFailure):
    """A check refused the call; carries the user-facing error."""

    def __init__(self, error: UserError) -> None:
        super().__init__(error.message)
        self.error = error


def _is_busy(error: BaseException) -> bool:
    text = str(error).lower()
    return isinstance(error, OperationalError) and ("locked" in text or "busy" in text)


def user_error_for(error: BaseException) -> UserError | None:
    """The friendly error behind an app-command error, or None when it was unexpected."""
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    if isinstance(error, Refused):
        return error.error
    if isinstance(error, UserError):
        return error
    if isinstance(error, app_commands.TransformerError):
        value = escape_markdown(str(error.value))[:100]
        return UserError(f"That value isn't valid here: {value}")
    if isinstance(error, app_commands.NoPrivateMessage):
        return UserError("This command works inside a server, not in direct messages.")
    if isinstance(error, app_commands.CommandOnCooldown):
        return UserError(f"Slow down a little: try again in {error.retry_after:.0f} s.")
    if isinstance(error, app_commands.CheckFailure):
        return UserError("You can't use this command here.")
    if _is_busy(error):
        return Busy()
    return None


async def reply_ephemeral(interaction: discord.Interaction, content: str) -> None:
    """Answer ephemerally, through a follow-up when the interaction was already acknowledged."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(content, ephemeral=True)
        else:
            await interaction.response.send_message(content, ephemeral=True)
    except discord.HTTPException:
        log.warning("could not deliver an error reply for interaction %s", interaction.id)


async def handle_error(interaction: discord.Interaction, error: BaseException) -> None:
    """The single mapping from errors to replies (commands, views and modals all use it)."""
    friendly = user_error_for(error)
    command = interaction.command.qualified_name if interaction.command else "component"
    if isinstance(friendly, NotAllowed | NotFound):
        # Someone reaching for what is not theirs (or a forged id) leaves a trace.
        data: dict[str, object] = dict(interaction.data or {})
        custom_id = data.get("custom_id")
        log.log(
            logging.WARNING if isinstance(friendly, NotAllowed) else logging.INFO,
            "refused %s%s (guild %s, user %s): %s",
            command,
            f" {custom_id!r}" if custom_id else "",
            interaction.guild_id,
            interaction.user.id,
            friendly.message,
        )
    if friendly is not None:
        await reply_ephemeral(interaction, friendly.message)
        return
    incident = secrets.token_hex(4)
    original = getattr(error, "original", error)
    log.error(
        "incident %s in %s (guild %s, user %s)",
        incident,
        command,
        interaction.guild_id,
        interaction.user.id,
        exc_info=(type(original), original, original.__traceback__),
    )
    await reply_ephemeral(
        interaction, f"Something went wrong on our side (incident `{incident}`). Please try again."
    )


class CohortTree(app_commands.CommandTree):
    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        await handle_error(interaction, error)
