"""/group: the moderators' overview, the plans of the group and the CSV export."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import logging
import shutil
import tempfile
from typing import IO, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.bot import CohortBot
from bot.domain.drifting import Drifter
from bot.errors import LimitReached, NotAllowed
from bot.formatting import hours_text, timestamp
from bot.services.group import Overview, WeekFigures
from bot.tree import Refused, handle_error
from cogs._checks import guild_id_of, require_moderator
from cogs._plan_views import plans_pages

log = logging.getLogger(__name__)

DRIFTERS_PER_PAGE = 10
PAGER_TIMEOUT = 600.0
# Export files stay in memory up to this size, then spill to a temporary file.
SPOOL_BYTES = 8 * 1024 * 1024
NOT_YOURS = "These buttons belong to the moderator who ran the command."


def _figure(value: int | None, missing: str = "not set up") -> str:
    return missing if value is None else str(value)


def _week_line(figures: WeekFigures) -> str:
    median = f"{hours_text(figures.median_hours)}" if figures.median_hours is not None else "—"
    goals = f"{figures.goals_done}/{figures.goals_set}" if figures.goals_set else "none set"
    return (
        f"**{figures.active}** active · **{figures.checked_in}** checked in · "
        f"median {median} · goals done {goals}"
    )


def drifter_line(drifter: Drifter) -> str:
    seen = (
        f"last active {timestamp(drifter.last_activity, 'R')}"
        if drifter.last_activity
        else "no recent activity"
    )
    return f"<@{drifter.user_id}> — {'; '.join(drifter.reasons)} · {seen}"


def overview_pages(overview: Overview) -> list[discord.Embed]:
    """The figures on the first page, the drifting members spread over as many as needed."""
    drifters = list(overview.drifting)
    chunks = [
        drifters[i : i + DRIFTERS_PER_PAGE] for i in range(0, len(drifters), DRIFTERS_PER_PAGE)
    ] or [[]]
    this, last = overview.this_week, overview.last_week
    rate = overview.checkin_rate
    first = discord.Embed(
        title=f"Group overview · {this.week.label()}", colour=discord.Colour.blurple()
    )
    first.add_field(name="This week", value=_week_line(this), inline=False)
    first.add_field(name="Last week", value=_week_line(last), inline=False)
    first.add_field(
        name="Check-in rate",
        value=(
            f"{rate:.0%} ({this.checked_in} of {overview.roster} members active in the last "
            "4 weeks)"
            if rate is not None
            else "no active members yet"
        ),
        inline=False,
    )
    owed = _figure(overview.reviews_owed)
    if overview.reviews_owed is not None:
        owed += f" ({overview.reviews_overdue} overdue)"
    first.add_field(name="Reviews owed", value=owed)
    first.add_field(name="FAQ queue", value=_figure(overview.faq_queue))
    if overview.left:
        first.add_field(name="Left the server", value=f"{overview.left} (their data stays)")
    if overview.away:
        first.add_field(name="Away", value=f"{overview.away} (`/me away`, not drifting)")
    pages = []
    for index, chunk in enumerate(chunks):
        embed = first if index == 0 else discord.Embed(colour=discord.Colour.blurple())
        heading = f"**Drifting ({len(drifters)})**\n" if index == 0 else "**Drifting (cont.)**\n"
        body = "\n".join(drifter_line(d) for d in chunk) or "Nobody is drifting. 🎉"
        embed.description = (heading + body)[:4096]
        if len(chunks) > 1:
            embed.set_footer(text=f"Page {index + 1} of {len(chunks)}")
        pages.append(embed)
    return pages


class Pager(discord.ui.View):
    """Previous/next over embeds, for the moderator who asked only, in their guild only."""

    def __init__(self, pages: list[discord.Embed], owner_id: int, guild_id: int) -> None:
        super().__init__(timeout=PAGER_TIMEOUT)
        self.pages = pages
        self.owner_id = owner_id
        self.guild_id = guild_id
        self.index = 0
        self.interaction: discord.Interaction[Any] | None = None
        self._sync()

    def _sync(self) -> None:
        self.previous.disabled = self.index == 0
        self.next.disabled = self.index >= len(self.pages) - 1

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if interaction.user.id != self.owner_id or interaction.guild_id != self.guild_id:
            log.warning(
                "refused an overview page press by %s in guild %s (belongs to %s in %s)",
                interaction.user.id,
                interaction.guild_id,
                self.owner_id,
                self.guild_id,
            )
            raise Refused(NotAllowed(NOT_YOURS))
        await require_moderator(interaction)
        return True

    async def on_error(
        self, interaction: discord.Interaction[Any], error: Exception, item: discord.ui.Item[Any]
    ) -> None:
        await handle_error(interaction, error)

    async def _show(self, interaction: discord.Interaction[Any], index: int) -> None:
        self.index = max(0, min(index, len(self.pages) - 1))
        self._sync()
        await interaction.response.edit_message(embed=self.pages[self.index], view=self)

    @discord.ui.button(label="Previous", emoji="◀️", style=discord.ButtonStyle.secondary)
    async def previous(
        self, interaction: discord.Interaction[Any], _button: discord.ui.Button[Pager]
    ) -> None:
        await self._show(interaction, self.index - 1)

    @discord.ui.button(label="Next", emoji="▶️", style=discord.ButtonStyle.secondary)
    async def next(
        self, interaction: discord.Interaction[Any], _button: discord.ui.Button[Pager]
    ) -> None:
        await self._show(interaction, self.index + 1)

    async def on_timeout(self) -> None:
        if self.interaction is not None:
            with contextlib.suppress(discord.HTTPException):
                await self.interaction.edit_original_response(view=None)


async def send_pages(interaction: discord.Interaction[Any], pages: list[discord.Embed]) -> None:
    """The first page as a private follow-up, with a pager when there are more."""
    if len(pages) == 1:
        await interaction.followup.send(embed=pages[0], ephemeral=True)
        return
    view = Pager(pages, interaction.user.id, guild_id_of(interaction))
    view.interaction = interaction
    await interaction.followup.send(embed=pages[0], view=view, ephemeral=True)


def _gzip(source: IO[bytes], target: IO[bytes]) -> None:
    with gzip.GzipFile(fileobj=target, mode="wb", mtime=0) as zipped:
        shutil.copyfileobj(source, zipped)


def _fits(file: IO[bytes], limit: int) -> bool:
    file.seek(0, 2)
    size = file.tell()
    file.seek(0)
    return size <= limit


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class GroupCog(commands.GroupCog, group_name="group", group_description="The group at a glance"):
    def __init__(self, bot: CohortBot) -> None:
        self.bot = bot
        self.service = bot.services.group
        super().__init__()

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        await require_moderator(interaction)
        return True

    @app_commands.command(
        name="overview", description="Activity, check-ins, goals and who is drifting"
    )
    async def overview(self, interaction: discord.Interaction[CohortBot]) -> None:
        guild_id = guild_id_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        await send_pages(interaction, overview_pages(await self.service.overview(guild_id)))

    @app_commands.command(
        name="plans", description="Members per course and module: on track, behind or away"
    )
    async def plans(self, interaction: discord.Interaction[CohortBot]) -> None:
        guild_id = guild_id_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        plans = self.bot.services.plans
        pages = plans_pages(await plans.standings(guild_id), await plans.courses(guild_id))
        await send_pages(interaction, pages)

    @app_commands.command(
        name="export", description="CSV of the group's progress, per member per week"
    )
    async def export(self, interaction: discord.Interaction[CohortBot]) -> None:
        guild_id = guild_id_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        week = await self.service.current_week(guild_id)
        rows = 0
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as raw:
            async for chunk in self.service.export_csv(guild_id):
                raw.write(chunk)
                rows += chunk.count(b"\r\n")
            filename = f"cohort-progress-{week.key.isoformat()}.csv"
            limit = interaction.filesize_limit
            if _fits(raw, limit):
                await self._send_export(interaction, raw, filename, rows - 1)
                return
            # Numbers compress about tenfold: a very large group still gets its file.
            with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as packed:
                await asyncio.to_thread(_gzip, raw, packed)
                if not _fits(packed, limit):
                    raise LimitReached("The export is larger than Discord lets me attach here.")
                await self._send_export(interaction, packed, filename + ".gz", rows - 1)

    @staticmethod
    async def _send_export(
        interaction: discord.Interaction[CohortBot], data: IO[bytes], filename: str, rows: int
    ) -> None:
        text = (
            f"The group's progress: {rows} rows, one per member per study week (member ids; "
            "hours from check-ins; goals by the week they were set for)."
            if rows
            else "Nothing to export yet: nobody has set a goal or checked in."
        )
        file = discord.File(data, filename=filename)  # type: ignore[arg-type]
        await interaction.followup.send(text, file=file, ephemeral=True)


async def setup(bot: CohortBot) -> None:
    await bot.add_cog(GroupCog(bot))
