"""/plan: a member's plan through a course (start, show, done, undo, week) and the group's
courses (list; import and export for moderators)."""

from __future__ import annotations

import io

import discord
from discord import app_commands
from discord.ext import commands

from bot.bot import CohortBot
from bot.domain.courses import IMPORT_MAX_BYTES
from bot.errors import NotFound
from bot.formatting import safe
from cogs._checks import guild_id_of, require_moderator
from cogs._imports import file_or_pack
from cogs._plan_views import (
    CHART_FILE,
    PlanWeekButton,
    courses_embed,
    done_text,
    imported_text,
    plan_embed,
    plan_week_view,
    week_text,
)

PACK_CHOICES = [
    app_commands.Choice(name="Meta Back-End Developer certificate", value="meta-back-end")
]


def _cut(text: str, limit: int = 100) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def too_big(size: int) -> str:
    return f"A course file is at most 1 MB ({IMPORT_MAX_BYTES:,} bytes); this one has {size:,}."


async def course_autocomplete(
    interaction: discord.Interaction[CohortBot], current: str
) -> list[app_commands.Choice[str]]:
    if interaction.guild_id is None:
        return []
    found = await interaction.client.services.plans.course_choices(interaction.guild_id, current)
    return [app_commands.Choice(name=_cut(c.title), value=c.key) for c in found]


async def _modules(
    interaction: discord.Interaction[CohortBot], current: str, *, finished: bool
) -> list[app_commands.Choice[int]]:
    if interaction.guild_id is None:
        return []
    found = await interaction.client.services.plans.module_choices(
        interaction.guild_id, interaction.user.id, current, finished=finished
    )
    return [
        app_commands.Choice(name=_cut(f"{m.position}. {m.title} · {m.hours:g} h"), value=m.id)
        for m in found
    ]


async def open_module_autocomplete(
    interaction: discord.Interaction[CohortBot], current: str
) -> list[app_commands.Choice[int]]:
    return await _modules(interaction, current, finished=False)


async def finished_module_autocomplete(
    interaction: discord.Interaction[CohortBot], current: str
) -> list[app_commands.Choice[int]]:
    return await _modules(interaction, current, finished=True)


@app_commands.guild_only()
class PlanCog(commands.GroupCog, group_name="plan", group_description="Your pace through a course"):
    def __init__(self, bot: CohortBot) -> None:
        self.bot = bot
        self.plans = bot.services.plans
        super().__init__()

    @app_commands.command(name="start", description="Start (or restart) a plan through a course")
    @app_commands.describe(
        course="One of the group's courses",
        target="When to finish: 2027-06-30, 6 months or 26 weeks",
        hours="Hours a week you mean to study (1–60)",
    )
    @app_commands.autocomplete(course=course_autocomplete)
    async def start(
        self,
        interaction: discord.Interaction[CohortBot],
        course: app_commands.Range[str, 1, 100],
        target: app_commands.Range[str, 1, 40] | None = None,
        hours: app_commands.Range[float, 1, 60] | None = None,
    ) -> None:
        guild_id = guild_id_of(interaction)
        view = await self.plans.start(guild_id, interaction.user.id, course, target, hours)
        a = view.assessment
        derived = (
            f"That is **{a.pace_needed:.1f} h a week**."
            if hours is None
            else f"At {hours:g} h a week you'd finish by **{a.target.isoformat()}**."
        )
        await interaction.response.send_message(
            f"🗓️ Plan started: **{safe(view.course.course.title)}**, "
            f"{a.hours_left:g} h left, target **{a.target.isoformat()}**. {derived}\n"
            "Mark modules with `/plan done`; `/plan show` shows your pace.",
            ephemeral=True,
        )

    @app_commands.command(name="show", description="A plan's pace, projection and chart")
    @app_commands.describe(member="Whose plan (default: yours)")
    async def show(
        self, interaction: discord.Interaction[CohortBot], member: discord.Member | None = None
    ) -> None:
        guild_id = guild_id_of(interaction)
        who = member or interaction.user
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            view = await self.plans.show(guild_id, who.id)
        except NotFound:
            if who.id == interaction.user.id:
                raise
            raise NotFound(f"{safe(who.display_name)} has no plan yet.") from None
        png = await self.plans.chart(view, who.display_name)
        await interaction.followup.send(
            embed=plan_embed(view, safe(who.display_name), chart=True),
            file=discord.File(io.BytesIO(png), filename=CHART_FILE),
            ephemeral=True,
        )

    @app_commands.command(name="done", description="Mark a module of your plan finished")
    @app_commands.describe(module="Start typing to pick one of your unfinished modules")
    @app_commands.autocomplete(module=open_module_autocomplete)
    async def done(self, interaction: discord.Interaction[CohortBot], module: int) -> None:
        view, newly = await self.plans.finish(guild_id_of(interaction), interaction.user.id, module)
        await interaction.response.send_message(done_text(view, module, newly), ephemeral=True)

    @app_commands.command(name="undo", description="Mark a finished module unfinished again")
    @app_commands.describe(module="Start typing to pick one of your finished modules")
    @app_commands.autocomplete(module=finished_module_autocomplete)
    async def undo(self, interaction: discord.Interaction[CohortBot], module: int) -> None:
        view, changed = await self.plans.undo(guild_id_of(interaction), interaction.user.id, module)
        await interaction.response.send_message(
            done_text(view, module, changed, undo=True), ephemeral=True
        )

    @app_commands.command(name="week", description="This week's share of your plan")
    async def week(self, interaction: discord.Interaction[CohortBot]) -> None:
        guild_id = guild_id_of(interaction)
        plan = await self.plans.week(guild_id, interaction.user.id)
        show_button = bool(plan.shares) and not plan.added_before
        await interaction.response.send_message(
            week_text(plan),
            view=plan_week_view(guild_id) if show_button else discord.utils.MISSING,
            ephemeral=True,
        )

    @app_commands.command(name="courses", description="The group's courses and their modules")
    async def courses(self, interaction: discord.Interaction[CohortBot]) -> None:
        views = await self.plans.courses(guild_id_of(interaction))
        if not views:
            await interaction.response.send_message(
                "This server has no courses yet — a moderator can add one with `/plan import`.",
                ephemeral=True,
            )
            return
        await interaction.response.send_message(embed=courses_embed(views), ephemeral=True)

    @app_commands.command(name="import", description="Moderators: add or update a course")
    @app_commands.describe(
        file="A JSON course file (the /plan export format, at most 1 MB)",
        pack="A course that ships with Cohort",
    )
    @app_commands.choices(pack=PACK_CHOICES)
    async def import_course(
        self,
        interaction: discord.Interaction[CohortBot],
        file: discord.Attachment | None = None,
        pack: app_commands.Choice[str] | None = None,
    ) -> None:
        source = await file_or_pack(interaction, file, pack, IMPORT_MAX_BYTES, too_big)
        guild_id = guild_id_of(interaction)
        if isinstance(source, bytes):
            result = await self.plans.import_file(guild_id, source)
        else:
            result = await self.plans.import_pack(guild_id, source)
        view = await self.plans.find_course(guild_id, result.course.key)
        await interaction.followup.send(
            imported_text(result, view.total_hours, len(view.modules)), ephemeral=True
        )

    @app_commands.command(name="export", description="Moderators: a course as a JSON file")
    @app_commands.describe(course="One of the group's courses")
    @app_commands.autocomplete(course=course_autocomplete)
    async def export(
        self, interaction: discord.Interaction[CohortBot], course: app_commands.Range[str, 1, 100]
    ) -> None:
        await require_moderator(interaction)
        found, data = await self.plans.export(guild_id_of(interaction), course)
        await interaction.response.send_message(
            "The course in the format `/plan import` reads back:",
            file=discord.File(io.BytesIO(data), filename=f"{found.key}.json"),
            ephemeral=True,
        )


async def setup(bot: CohortBot) -> None:
    bot.add_dynamic_items(PlanWeekButton)
    await bot.add_cog(PlanCog(bot))


async def teardown(bot: CohortBot) -> None:
    bot.remove_dynamic_items(PlanWeekButton)
