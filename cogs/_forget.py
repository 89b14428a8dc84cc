"""The /me forget confirmation: buttons only the member who asked can press, in their guild.

The buttons are `DynamicItem`s whose custom_id names the action, the guild, the member and when
it was issued (`cohort:forget:yes:<guild>:<user>:<unix time>`), so they are checked against
who pressed them and where on every press, even after a restart. Discord authenticates the
presser and the guild; a press by anyone else changes nothing and is logged. A forged press (a
client that rewrote the custom_id of a button on its own message) never reaches the button:
discord.py drops presses of components the message does not carry, so `refuse_forged_press`
answers and logs those. A confirmation expires after ``CONFIRM_FOR``.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any, cast

import discord

from bot.bot import CohortBot
from bot.errors import NotAllowed, UserError
from bot.services.member_data import ANONYMISED, DELETED, REASSIGNED, ForgetReport, Forgotten
from bot.tree import Refused, handle_error, reply_ephemeral

log = logging.getLogger(__name__)

CONFIRM_FOR = timedelta(minutes=10)
PREFIX = "cohort:forget:"
NOT_YOURS = "Only the member who asked can confirm this, in their own server. Nothing was deleted."
EXPIRED = "This confirmation has expired and nothing was deleted; run `/me forget` again."
ASK = (
    "⚠️ This deletes everything Cohort stores about you in this server: your goals, check-ins, "
    "preferences, reminder records, peer-review submissions and FAQ questions and votes. Reviews "
    "you wrote for others stay, credited to “a former member”, and reviews you still owe go to "
    "someone else. It can't be undone — `/me data` gives you a copy first.\n\nDelete it all?"
)


def _items(items: list[Forgotten]) -> str:
    return " · ".join(f"{item.count} {item.what}" for item in items)


def forget_text(report: ForgetReport) -> str:
    deleted, anonymised = report.of(DELETED), report.of(ANONYMISED)
    reassigned = report.of(REASSIGNED)
    if not (deleted or anonymised or reassigned):
        return "Cohort had nothing stored about you in this server. Nothing to delete."
    lines = ["🗑️ Done: Cohort has forgotten you in this server."]
    if deleted:
        lines.append(f"Deleted: {_items(deleted)}.")
    if anonymised:
        lines.append(f"Kept without your name (as “a former member”): {_items(anonymised)}.")
    if reassigned:
        lines.append(f"Handed to other reviewers: {_items(reassigned)}.")
    return "\n".join(lines)[:2000]


class ForgetButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"cohort:forget:(?P<action>yes|no):(?P<guild_id>[0-9]{1,20}):"
    r"(?P<user_id>[0-9]{1,20}):(?P<issued>[0-9]{1,12})",
):
    def __init__(self, action: str, guild_id: int, user_id: int, issued: int) -> None:
        confirm = action == "yes"
        super().__init__(
            discord.ui.Button(
                label="Delete my data" if confirm else "Cancel",
                style=discord.ButtonStyle.danger if confirm else discord.ButtonStyle.secondary,
                custom_id=f"cohort:forget:{action}:{guild_id}:{user_id}:{issued}",
            )
        )
        self.action = action
        self.guild_id = guild_id
        self.user_id = user_id
        self.issued = issued

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ForgetButton:
        return cls(
            match["action"], int(match["guild_id"]), int(match["user_id"]), int(match["issued"])
        )

    async def callback(self, interaction: discord.Interaction[CohortBot]) -> None:  # type: ignore[override]
        # discord.py only logs errors raised here, so answer them ourselves.
        try:
            await self._press(interaction)
        except Exception as error:
            await handle_error(interaction, error)

    async def _press(self, interaction: discord.Interaction[CohortBot]) -> None:
        if interaction.user.id != self.user_id or interaction.guild_id != self.guild_id:
            log.warning(
                "refused a /me forget %s press by user %s in guild %s; it belongs to user %s "
                "in guild %s",
                self.action,
                interaction.user.id,
                interaction.guild_id,
                self.user_id,
                self.guild_id,
            )
            raise Refused(NotAllowed(NOT_YOURS))
        if self.action == "no":
            await interaction.response.edit_message(
                content="Cancelled: nothing was deleted.", view=None
            )
            return
        now = interaction.client.clock.now()
        if now.timestamp() - self.issued > CONFIRM_FOR.total_seconds():
            raise UserError(EXPIRED)
        await interaction.response.defer()
        report = await interaction.client.services.member_data.forget(self.guild_id, self.user_id)
        await interaction.edit_original_response(content=forget_text(report), view=None)


def confirm_view(guild_id: int, user_id: int, issued: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ForgetButton("yes", guild_id, user_id, issued))
    view.add_item(ForgetButton("no", guild_id, user_id, issued))
    return view


def _carries(components: list[Any], custom_id: str) -> bool:
    for component in components:
        if getattr(component, "custom_id", None) == custom_id:
            return True
        if _carries(list(getattr(component, "children", ())), custom_id):
            return True
    return False


async def refuse_forged_press(interaction: discord.Interaction[CohortBot]) -> None:
    """Answer (and log) a forget-button press whose button is not on the pressed message."""
    if interaction.type is not discord.InteractionType.component:
        return
    data = cast("dict[str, Any]", interaction.data or {})
    custom_id = data.get("custom_id")
    if not isinstance(custom_id, str) or not custom_id.startswith(PREFIX):
        return
    message = interaction.message
    if message is not None and _carries(list(message.components), custom_id):
        return  # a real button: ForgetButton decides
    log.warning(
        "refused a /me forget press by user %s in guild %s: %r is not on the message pressed",
        interaction.user.id,
        interaction.guild_id,
        custom_id[:100],
    )
    await reply_ephemeral(interaction, NOT_YOURS)
