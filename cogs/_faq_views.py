"""/faq on Discord: answer cards, Helpful / Not helpful buttons, list and queue pages, the edit
form, and telling askers about answers.

The buttons are `DynamicItem`s whose custom_id carries everything a press needs (the entry and
the asker for votes, the page for pagers), so they keep working after a restart. The asked
question travels in the answer card's footer (plain text there: no markdown, no mentions).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import Any, Literal

import discord

from bot.bot import CohortBot
from bot.errors import NotAllowed
from bot.formatting import cut, message_link, plural, safe
from bot.services.faq import (
    PAGE_SIZE,
    EntryPage,
    Feedback,
    QueueAnswer,
    QueuePage,
    Recipient,
)
from bot.tree import Refused, handle_error
from cogs._checks import client_of, guild_id_of, require_moderator
from cogs._paging import page_button, pager_view
from db.repositories.faq import FaqEntry

ASKED_PREFIX = "Asked: "
GREEN = discord.Colour.green()
WRONG_GUILD = "This form belongs to another server."
NOT_THIS_ANSWER = "That button doesn't belong to this answer."
REASONS = {"unanswered": "no confident answer", "not-helpful": "answer not helpful"}
Outcome = Literal["dm", "channel", "failed"]
REPLY_NEEDS_HISTORY = 160002


def shown(text: str, limit: int) -> str:
    """User text made inert and cut (before escaping, so no escape is split) to `limit`."""
    out = safe(cut(text, limit))
    while len(out) > limit and limit > 1:
        limit -= max(1, (len(out) - limit) // 2)
        out = safe(cut(text, limit))
    return out


def entry_line(entry: FaqEntry, limit: int = 100) -> str:
    return f"**#{entry.id}** {shown(entry.question, limit)}"


# ------------------------------------------------------------------------------ answer cards


def answer_embed(entry: FaqEntry, related: Sequence[FaqEntry], asked: str | None) -> discord.Embed:
    """The answer (moderators' markdown kept, mentions made inert) and related entries. The
    question is escaped: questions answered from the queue are members' words."""
    embed = discord.Embed(
        title=shown(entry.question, 256),
        description=discord.utils.escape_mentions(entry.answer)[:4096],
        colour=GREEN,
    )
    if related:
        lines = [f"• {entry_line(r, 150)}" for r in related]
        embed.add_field(name="Related", value="\n".join(lines)[:1024], inline=False)
    if asked:
        embed.set_footer(text=ASKED_PREFIX + asked)
    return embed


def asked_question(message: discord.Message | None) -> str | None:
    if message is None or not message.embeds:
        return None
    footer = message.embeds[0].footer.text or ""
    return footer.removeprefix(ASKED_PREFIX) if footer.startswith(ASKED_PREFIX) else None


def asker_of(message: discord.Message) -> int | None:
    """Who the answer was for, as Discord tells it: the member who ran /faq ask, or the one a
    moderator's answer was addressed to (its only mention)."""
    meta = message.interaction_metadata
    if meta is not None:
        return meta.user.id
    mentioned = message.raw_mentions
    return mentioned[0] if len(mentioned) == 1 else None


def feedback_text(result: Feedback, asker_id: int) -> str:
    vote = result.vote
    if result.by_asker:
        if vote.helpful:
            return "Glad it helped! 👍" if vote.changed else "You already said this helped. 👍"
        if result.queued is not None:
            return (
                "Sorry it didn't help. I've passed your question to the moderators: you'll hear "
                "back by DM if your reminders are on (/me reminders), otherwise here."
            )
        return "You already said this didn't help; the moderators have your question."
    if not vote.changed:
        return "You already voted on this answer."
    text = "Thanks, your vote is counted."
    if not vote.helpful:
        text += (
            f" Only <@{asker_id}>, who asked, can send this question to the moderators — "
            "ask your own with `/faq ask`."
        )
    return text


class VoteButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"cohort:faq-vote:(?P<entry>[0-9]{1,20}):(?P<asker>[0-9]{1,20}):(?P<vote>[yn])",
):
    """Helpful / Not helpful on an answer: a vote from anyone, feedback from the asker."""

    def __init__(self, entry_id: int, asker_id: int, helpful: bool) -> None:
        super().__init__(
            discord.ui.Button(
                label="Helpful" if helpful else "Not helpful",
                emoji="👍" if helpful else "👎",
                style=discord.ButtonStyle.success if helpful else discord.ButtonStyle.secondary,
                custom_id=f"cohort:faq-vote:{entry_id}:{asker_id}:{'y' if helpful else 'n'}",
            )
        )
        self.entry_id = entry_id
        self.asker_id = asker_id
        self.helpful = helpful

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> VoteButton:
        return cls(int(match["entry"]), int(match["asker"]), match["vote"] == "y")

    async def callback(self, interaction: discord.Interaction[CohortBot]) -> None:  # type: ignore[override]
        # discord.py only logs errors raised here, so answer them ourselves.
        try:
            guild_id = guild_id_of(interaction)
            message = interaction.message
            asker = self.asker_id
            if message is None or asker != asker_of(message):
                raise Refused(NotAllowed(NOT_THIS_ANSWER))
            result = await interaction.client.services.faq.feedback(
                guild_id,
                self.entry_id,
                interaction.user.id,
                self.helpful,
                asker_id=asker,
                question=asked_question(message),
                channel_id=interaction.channel_id,
                message_id=message.id,
            )
            await interaction.response.send_message(feedback_text(result, asker), ephemeral=True)
        except Exception as error:
            await handle_error(interaction, error)


def vote_view(entry_id: int, asker_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(VoteButton(entry_id, asker_id, True))
    view.add_item(VoteButton(entry_id, asker_id, False))
    return view


# ------------------------------------------------------------------------------ pages


def list_embed(page: EntryPage) -> discord.Embed:
    embed = discord.Embed(title="FAQ", colour=discord.Colour.blurple())
    if not page.entries:
        embed.description = (
            "No entries yet. Moderators can add some with `/faq add`, or import the starter "
            "pack with `/faq import pack:`."
        )
        return embed
    lines = [
        f"{entry_line(e, 200)}\n-# 👍 {e.helpful_count} · 👎 {e.not_helpful_count} · "
        f"answered {plural(e.usage_count, 'time')}"
        for e in page.entries
    ]
    embed.description = "\n".join(lines)
    first = (page.page - 1) * PAGE_SIZE + 1
    embed.set_footer(
        text=f"Page {page.page} of {page.pages} · entries {first}–{first + len(page.entries) - 1}"
        f" of {page.total} · ask with /faq ask"
    )
    return embed


def queue_embed(page: QueuePage) -> discord.Embed:
    embed = discord.Embed(title="FAQ queue", colour=discord.Colour.orange())
    if not page.lines:
        embed.description = "No open questions. 🎉"
        return embed
    for line in page.lines:
        item = line.item
        askers = ", ".join(f"<@{a.user_id}>" for a in item.askers[:5])
        if len(item.askers) > 5:
            askers += f" and {len(item.askers) - 5} more"
        parts = [
            shown(item.question, 400),
            f"Asked by {askers or 'someone who left'} · last "
            f"<t:{int(item.last_asked_at.timestamp())}:R>",
        ]
        if item.shown_entry_id:
            parts.append(f"Judged not helpful: entry #{item.shown_entry_id}")
        if line.closest is not None:
            parts.append(f"Closest entry: {entry_line(line.closest, 80)}")
        count = f" · asked {item.ask_count}×" if item.ask_count > 1 else ""
        embed.add_field(
            name=f"#{item.id}{count} · {REASONS.get(item.reason, item.reason)}",
            value="\n".join(parts)[:1024],
            inline=False,
        )
    embed.set_footer(
        text=f"Page {page.page} of {page.pages} · {plural(page.total, 'open question')} · "
        "/faq answer with the answer, or with #id to add the question to that entry"
    )
    return embed


class PageButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"cohort:faq-(?P<kind>list|queue):(?P<page>[0-9]{1,6}):(?P<way>[pn])",
):
    """Previous / next page of the entry list or the queue (re-checks moderators for the queue)."""

    def __init__(self, kind: str, page: int, way: str, disabled: bool = False) -> None:
        super().__init__(page_button(f"cohort:faq-{kind}:{page}:{way}", way, disabled))
        self.kind = kind
        self.page = page

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> PageButton:
        return cls(match["kind"], int(match["page"]), match["way"])

    async def callback(self, interaction: discord.Interaction[CohortBot]) -> None:  # type: ignore[override]
        try:
            guild_id = guild_id_of(interaction)
            faq = interaction.client.services.faq
            if self.kind == "queue":
                await require_moderator(interaction)
                queue = await faq.queue(guild_id, self.page)
                embed, view = queue_embed(queue), pager("queue", queue.page, queue.pages)
            else:
                entries = await faq.page(guild_id, self.page)
                embed, view = list_embed(entries), pager("list", entries.page, entries.pages)
            await interaction.response.edit_message(embed=embed, view=view)
        except Exception as error:
            await handle_error(interaction, error)


def pager(kind: str, page: int, pages: int) -> discord.ui.View | None:
    if pages <= 1:
        return None
    return pager_view(page, pages, lambda to, way, disabled: PageButton(kind, to, way, disabled))


# ------------------------------------------------------------------------------ edit form


class EntryModal(discord.ui.Modal):
    """Edit an entry, prefilled; re-checks the moderator and the guild on submit."""

    def __init__(self, entry: FaqEntry) -> None:
        super().__init__(title=cut(f"Edit FAQ entry #{entry.id}", 45))
        self.entry_id = entry.id
        self.guild_id = entry.guild_id
        self.question: discord.ui.TextInput[EntryModal] = discord.ui.TextInput(
            label="Question", default=entry.question, min_length=3, max_length=300
        )
        self.answer: discord.ui.TextInput[EntryModal] = discord.ui.TextInput(
            label="Answer",
            style=discord.TextStyle.paragraph,
            default=entry.answer,
            min_length=1,
            max_length=4000,
        )
        self.aliases: discord.ui.TextInput[EntryModal] = discord.ui.TextInput(
            label="Other phrasings (one per line)",
            style=discord.TextStyle.paragraph,
            default="\n".join(entry.aliases) or None,
            required=False,
            max_length=4000,
        )
        for field in (self.question, self.answer, self.aliases):
            self.add_item(field)

    async def on_submit(self, interaction: discord.Interaction[CohortBot]) -> None:  # type: ignore[override]
        if guild_id_of(interaction) != self.guild_id:
            raise Refused(NotAllowed(WRONG_GUILD))
        await require_moderator(interaction)
        entry = await interaction.client.services.faq.edit(
            self.guild_id,
            self.entry_id,
            self.question.value,
            self.answer.value,
            self.aliases.value,
        )
        await interaction.response.send_message(
            f"Updated {entry_line(entry, 300)} ({plural(len(entry.aliases), 'other phrasing')}).",
            ephemeral=True,
        )

    async def on_error(  # type: ignore[override]
        self, interaction: discord.Interaction[CohortBot], error: Exception
    ) -> None:
        await handle_error(interaction, error)


# ------------------------------------------------------------------------------ telling askers


async def tell_askers(
    interaction: discord.Interaction[Any], result: QueueAnswer
) -> dict[Outcome, list[Recipient]]:
    """Each asker hears of the answer: by DM when their reminders are on (a reply where they
    asked if the DM fails), otherwise by a reply in the channel they asked in."""
    bot = client_of(interaction)
    guild = interaction.guild
    outcomes: dict[Outcome, list[Recipient]] = {"dm": [], "channel": [], "failed": []}
    for recipient in result.recipients:
        outcome = await _tell(bot, guild, recipient, result)
        outcomes[outcome].append(recipient)
    return outcomes


async def _tell(
    bot: CohortBot,
    guild: discord.Guild | None,
    recipient: Recipient,
    result: QueueAnswer,
    linked: str = "",
) -> Outcome:
    question = shown(result.item.question, 300)
    if recipient.by_dm:
        where = f" in **{safe(guild.name)}**" if guild is not None else ""
        try:
            dm = await bot.create_dm(discord.Object(recipient.user_id))
            await dm.send(
                f"📬 A moderator{where} answered your question “{question}”:",
                embed=answer_embed(result.entry, (), None),
            )
            return "dm"
        except discord.HTTPException:
            pass  # DMs closed: reply where they asked instead
    if recipient.channel_id is None or guild is None:
        return "failed"
    channel = bot.get_partial_messageable(recipient.channel_id, guild_id=guild.id)
    reference = None
    if recipient.message_id is not None:
        reference = discord.MessageReference(
            message_id=recipient.message_id,
            channel_id=recipient.channel_id,
            fail_if_not_exists=False,
        )
    try:
        await channel.send(
            f"<@{recipient.user_id}> a moderator answered your question “{question}”{linked}:",
            embed=answer_embed(result.entry, (), result.item.question),
            view=vote_view(result.entry.id, recipient.user_id),
            reference=reference,  # type: ignore[arg-type]
            allowed_mentions=discord.AllowedMentions(
                everyone=False,
                roles=False,
                users=[discord.Object(recipient.user_id)],
                replied_user=False,
            ),
        )
        return "channel"
    except discord.HTTPException as exc:
        if exc.code != REPLY_NEEDS_HISTORY or recipient.message_id is None:
            return "failed"
    # A reply needs Read Message History (not in older invites): a plain post that links it.
    assert recipient.message_id is not None  # checked above: only a reply fails this way
    link = message_link(guild.id, recipient.channel_id, recipient.message_id)
    plain = dataclasses.replace(recipient, message_id=None, by_dm=False)
    return await _tell(bot, guild, plain, result, f" ({link})")
