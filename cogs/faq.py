"""/faq: answers to frequent questions, and the moderators' queue of the ones it can't answer."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.bot import CohortBot
from bot.formatting import cut, one_line, plural
from bot.services.faq import IMPORT_MAX_BYTES, Answer, too_big
from cogs._checks import caller_is_moderator, guild_id_of, require_moderator
from cogs._faq_views import (
    EntryModal,
    PageButton,
    VoteButton,
    answer_embed,
    entry_line,
    list_embed,
    pager,
    queue_embed,
    shown,
    tell_askers,
    vote_view,
)
from cogs._imports import file_or_pack

log = logging.getLogger(__name__)

#: How long /faq ask may think before it acknowledges the interaction (and answers later).
ASK_ACK_WITHIN = 0.4

PACK_CHOICES = [
    app_commands.Choice(name="Meta Back-End Developer certificate", value="meta-back-end")
]


def entries(count: int) -> str:
    return f"{count} entr{'y' if count == 1 else 'ies'}"


async def entry_autocomplete(
    interaction: discord.Interaction[CohortBot], current: str
) -> list[app_commands.Choice[int]]:
    if interaction.guild_id is None:
        return []
    entries = await interaction.client.services.faq.suggestions(interaction.guild_id, current)
    return [
        app_commands.Choice(name=cut(f"#{e.id} · {e.question}", 100), value=e.id) for e in entries
    ]


async def item_autocomplete(
    interaction: discord.Interaction[CohortBot], current: str
) -> list[app_commands.Choice[int]]:
    # Queued questions are for moderators' eyes.
    if interaction.guild_id is None or not await caller_is_moderator(interaction):
        return []
    items = await interaction.client.services.faq.item_suggestions(interaction.guild_id, current)
    return [
        app_commands.Choice(
            name=cut(f"#{i.id}{f' ×{i.ask_count}' if i.ask_count > 1 else ''} · {i.question}", 100),
            value=i.id,
        )
        for i in items
    ]


@app_commands.guild_only()
class FaqCog(
    commands.GroupCog, group_name="faq", group_description="Answers to frequent questions"
):
    def __init__(self, bot: CohortBot) -> None:
        self.bot = bot
        self.faq = bot.services.faq
        self._warm_up: asyncio.Task[None] | None = None
        super().__init__()

    async def cog_load(self) -> None:
        # The model loads and the indexes are built in the background, in worker threads; a
        # question asked meanwhile is answered lexically, or deferred while its index builds.
        self._warm_up = asyncio.create_task(self._prepare())

    async def cog_unload(self) -> None:
        # Before the database closes: work cancelled mid-query would wait on it forever.
        if self._warm_up is not None:
            self._warm_up.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._warm_up
        await self.faq.stop()

    async def _prepare(self) -> None:
        try:
            await self.faq.warm_up()
        except Exception:
            log.exception("could not prepare the FAQ indexes; they are built on first use")

    # -- members -------------------------------------------------------------------------------

    @app_commands.command(name="ask", description="Ask a question; the answer is posted here")
    @app_commands.describe(question="Your question, in your own words")
    async def ask(
        self, interaction: discord.Interaction[CohortBot], question: app_commands.Range[str, 3, 300]
    ) -> None:
        asking = asyncio.ensure_future(
            self.faq.ask(
                guild_id_of(interaction), interaction.user.id, question, interaction.channel_id
            )
        )
        # Usually answered in milliseconds; a cold index (just after a start) takes longer to
        # build, and Discord wants an acknowledgement within 3 seconds.
        done, _ = await asyncio.wait({asking}, timeout=ASK_ACK_WITHIN)
        deferred = not done
        if deferred:
            await interaction.response.defer(thinking=True)
        result = await asking
        if isinstance(result, Answer):
            embed = answer_embed(result.entry, result.related, one_line(question))
            view = vote_view(result.entry.id, interaction.user.id)
            if deferred:
                await interaction.followup.send(embed=embed, view=view)
            else:
                await interaction.response.send_message(embed=embed, view=view)
            return
        item = result.item
        again = f" (asked {item.ask_count} times so far)" if item.ask_count > 1 else ""
        lines = [
            "I don't have a confident answer to that yet, so I've passed it to the moderators"
            f"{again}. You'll hear back by DM if your reminders are on (`/me reminders`), "
            "otherwise in this channel."
        ]
        if result.related:
            lines.append("\nMeanwhile, one of these might help (ask it with `/faq ask`):")
            lines += [f"• {entry_line(entry, 150)}" for entry in result.related]
        if deferred:  # the public "thinking…" gives way to a reply only the asker sees
            await interaction.delete_original_response()
            await interaction.followup.send("\n".join(lines), ephemeral=True)
        else:
            await interaction.response.send_message("\n".join(lines), ephemeral=True)

    @app_commands.command(name="list", description="Browse the FAQ")
    @app_commands.describe(page="Which page (10 entries each)")
    async def list_entries(
        self,
        interaction: discord.Interaction[CohortBot],
        page: app_commands.Range[int, 1, 10_000] = 1,
    ) -> None:
        entries = await self.faq.page(guild_id_of(interaction), page)
        view = pager("list", entries.page, entries.pages)
        await interaction.response.send_message(
            embed=list_embed(entries), view=view or discord.utils.MISSING, ephemeral=True
        )

    # -- moderators ----------------------------------------------------------------------------

    @app_commands.command(name="add", description="Moderators: add an FAQ entry")
    @app_commands.describe(
        question="The question as members would ask it",
        answer="The answer (markdown works)",
        aliases="Other ways to ask it, comma-separated",
    )
    async def add(
        self,
        interaction: discord.Interaction[CohortBot],
        question: app_commands.Range[str, 3, 300],
        answer: app_commands.Range[str, 1, 4000],
        aliases: app_commands.Range[str, 1, 4000] | None = None,
    ) -> None:
        await require_moderator(interaction)
        entry = await self.faq.add(
            guild_id_of(interaction), interaction.user.id, question, answer, aliases
        )
        others = f" with {plural(len(entry.aliases), 'other phrasing')}" if entry.aliases else ""
        await interaction.response.send_message(
            f"Added {entry_line(entry, 300)}{others}.", ephemeral=True
        )

    @app_commands.command(name="edit", description="Moderators: edit an FAQ entry in a form")
    @app_commands.describe(entry="Start typing to pick an entry")
    @app_commands.autocomplete(entry=entry_autocomplete)
    async def edit(self, interaction: discord.Interaction[CohortBot], entry: int) -> None:
        await require_moderator(interaction)
        found = await self.faq.get(guild_id_of(interaction), entry)
        await interaction.response.send_modal(EntryModal(found))

    @app_commands.command(name="remove", description="Moderators: remove an FAQ entry")
    @app_commands.describe(entry="Start typing to pick an entry")
    @app_commands.autocomplete(entry=entry_autocomplete)
    async def remove(self, interaction: discord.Interaction[CohortBot], entry: int) -> None:
        await require_moderator(interaction)
        removed = await self.faq.remove(guild_id_of(interaction), entry)
        await interaction.response.send_message(
            f"Removed entry #{removed.id}: ~~{shown(removed.question, 300)}~~", ephemeral=True
        )

    @app_commands.command(name="queue", description="Moderators: questions waiting for an answer")
    async def queue(self, interaction: discord.Interaction[CohortBot]) -> None:
        await require_moderator(interaction)
        page = await self.faq.queue(guild_id_of(interaction))
        view = pager("queue", page.page, page.pages)
        await interaction.response.send_message(
            embed=queue_embed(page), view=view or discord.utils.MISSING, ephemeral=True
        )

    @app_commands.command(name="answer", description="Moderators: answer a queued question")
    @app_commands.describe(
        item="Start typing to pick a queued question",
        answer="The answer (becomes an entry), or #12 to add the question to entry 12",
    )
    @app_commands.autocomplete(item=item_autocomplete)
    async def answer(
        self,
        interaction: discord.Interaction[CohortBot],
        item: int,
        answer: app_commands.Range[str, 1, 4000],
    ) -> None:
        await require_moderator(interaction)
        guild_id = guild_id_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        result = await self.faq.answer(guild_id, item, answer, interaction.user.id)
        told = await tell_askers(interaction, result)
        done = {
            "new-entry": f"new entry {entry_line(result.entry, 200)}",
            "updated-entry": f"the answer of {entry_line(result.entry, 200)} was replaced",
            "alias": f"the question is now another phrasing of {entry_line(result.entry, 200)}",
            "known-alias": f"{entry_line(result.entry, 200)} already knew that phrasing",
        }[result.how]
        lines = [f"✅ Question #{result.item.id} answered: {done}."]
        if told["dm"]:
            lines.append("Told by DM: " + ", ".join(f"<@{r.user_id}>" for r in told["dm"]))
        if told["channel"]:
            lines.append(
                "Told where they asked: "
                + ", ".join(f"<@{r.user_id}> in <#{r.channel_id}>" for r in told["channel"])
            )
        if told["failed"]:
            lines.append("Couldn't reach: " + ", ".join(f"<@{r.user_id}>" for r in told["failed"]))
        await interaction.followup.send("\n".join(lines)[:2000], ephemeral=True)

    @app_commands.command(name="import", description="Moderators: import FAQ entries")
    @app_commands.describe(
        file="A file /faq export wrote (JSON, or gzipped JSON)",
        pack="A starter pack that ships with Cohort",
    )
    @app_commands.choices(pack=PACK_CHOICES)
    async def import_entries(
        self,
        interaction: discord.Interaction[CohortBot],
        file: discord.Attachment | None = None,
        pack: app_commands.Choice[str] | None = None,
    ) -> None:
        source = await file_or_pack(interaction, file, pack, IMPORT_MAX_BYTES, too_big)
        guild_id, user_id = guild_id_of(interaction), interaction.user.id
        if isinstance(source, bytes):
            result = await self.faq.import_file(guild_id, user_id, source)
        else:
            result = await self.faq.import_pack(guild_id, user_id, source)
        total = await self.faq.entry_count(guild_id)
        await interaction.followup.send(
            f"Imported: {entries(result.created)} new, {entries(result.updated)} updated. "
            f"The FAQ has {entries(total)}.",
            ephemeral=True,
        )

    @app_commands.command(name="export", description="Moderators: the FAQ as a JSON file")
    async def export(self, interaction: discord.Interaction[CohortBot]) -> None:
        await require_moderator(interaction)
        guild_id = guild_id_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        export = await self.faq.export(guild_id, interaction.filesize_limit)
        packed = (
            " (gzipped to fit Discord's upload limit)" if export.filename.endswith(".gz") else ""
        )
        await interaction.followup.send(
            f"The FAQ, {entries(export.entries)}, in the format `/faq import` reads back{packed}:",
            file=discord.File(io.BytesIO(export.data), filename=export.filename),
            ephemeral=True,
        )


async def setup(bot: CohortBot) -> None:
    bot.add_dynamic_items(VoteButton, PageButton)
    await bot.add_cog(FaqCog(bot))


async def teardown(bot: CohortBot) -> None:
    bot.remove_dynamic_items(VoteButton, PageButton)
