"""Guilds and members coming and going: the gateway events, handed to the lifecycle service.

No commands. Features that care about a member leaving register a departure hook with
GuildLifecycleService in the composition root (bot/app.py) rather than listening here.
"""

from __future__ import annotations

import discord
from discord.ext import commands

from bot.bot import CohortBot


class LifecycleCog(commands.Cog):
    def __init__(self, bot: CohortBot) -> None:
        self.lifecycle = bot.services.lifecycle

    @commands.Cog.listener()
    async def on_guild_remove(self, guild: discord.Guild) -> None:
        await self.lifecycle.guild_removed(guild.id)

    @commands.Cog.listener()
    async def on_guild_join(self, guild: discord.Guild) -> None:
        await self.lifecycle.guild_joined(guild.id)

    @commands.Cog.listener()
    async def on_guild_available(self, guild: discord.Guild) -> None:
        # A re-added bot may see its guild as "available" rather than "joined".
        await self.lifecycle.guild_joined(guild.id)

    @commands.Cog.listener()
    async def on_raw_member_remove(self, payload: discord.RawMemberRemoveEvent) -> None:
        # Arrives through the Server Members intent; the member's data stays.
        await self.lifecycle.member_left(payload.guild_id, payload.user.id)

    @commands.Cog.listener()
    async def on_member_join(self, member: discord.Member) -> None:
        await self.lifecycle.member_returned(member.guild.id, member.id)


async def setup(bot: CohortBot) -> None:
    await bot.add_cog(LifecycleCog(bot))
