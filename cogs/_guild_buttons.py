"""Persistent buttons that may carry the guild they were posted for (`prefix[:guild_id]`), so
a press from another guild (a crossposted message, say) is refused. Shared by the study
buttons and *Plan my week*."""

from __future__ import annotations

import re

import discord

from bot.errors import NotAllowed
from bot.tree import Refused
from cogs._checks import guild_id_of

WRONG_GUILD = "This button belongs to another server — use the one posted here."


def guild_custom_id(prefix: str, guild_id: int | None) -> str:
    return prefix if guild_id is None else f"{prefix}:{guild_id}"


def guild_from(match: re.Match[str]) -> int | None:
    """The guild a button's custom_id names (its template's `guild_id` group), if any."""
    found = match["guild_id"]
    return int(found) if found else None


def check_guild(interaction: discord.Interaction, expected: int | None) -> int:
    """The guild pressed in, refused when the button was made for another one."""
    guild_id = guild_id_of(interaction)
    if expected is not None and expected != guild_id:
        raise Refused(NotAllowed(WRONG_GUILD))
    return guild_id
