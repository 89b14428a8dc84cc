"""Checks shared by the cogs: inside a guild, and moderator re-checked on every call."""

from __future__ import annotations

from typing import Any, cast

import discord

from bot.bot import CohortBot
from bot.domain.moderation import is_moderator
from bot.errors import NotAllowed, UserError
from bot.tree import Refused

MODERATOR_ONLY = (
    "Only moderators can do that (Manage Server, or the moderator role set with "
    "/settings moderator-role)."
)


def guild_id_of(interaction: discord.Interaction[Any]) -> int:
    if interaction.guild_id is None:
        raise Refused(UserError("This command works inside a server, not in direct messages."))
    return interaction.guild_id


def client_of(interaction: discord.Interaction[Any]) -> CohortBot:
    return cast(CohortBot, interaction.client)


async def caller_is_moderator(interaction: discord.Interaction[Any]) -> bool:
    guild_id = guild_id_of(interaction)
    settings = await client_of(interaction).services.guild_settings.get(guild_id)
    permissions = interaction.permissions
    user = interaction.user
    role_ids = [role.id for role in user.roles] if isinstance(user, discord.Member) else []
    return is_moderator(
        manage_guild=permissions.manage_guild,
        administrator=permissions.administrator,
        role_ids=role_ids,
        moderator_role_id=settings.moderator_role_id,
    )


async def require_moderator(interaction: discord.Interaction[Any]) -> None:
    """Refuse non-moderators, whatever Discord's default permissions let through."""
    if not await caller_is_moderator(interaction):
        raise Refused(NotAllowed(MODERATOR_ONLY))
