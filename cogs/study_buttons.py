"""Persistent *Add goal* and *Check in* buttons and their modals (the replies, shared with the
commands, are worded in cogs/_study_text.py).

The buttons are `DynamicItem`s: their custom_id (`cohort:goal-add[:guild]`,
`cohort:checkin[:guild]`) is parsed again on every press, so a button on any earlier post keeps
working after a restart. A press acts for whoever pressed it, in the guild it was pressed in;
a button minted for one guild refuses presses from another (a crossposted message, say).
"""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.bot import CohortBot
from bot.tree import handle_error
from cogs._guild_buttons import check_guild, guild_custom_id, guild_from
from cogs._study_text import checkin_text, goal_added_text

GOAL_BUTTON_ID = "cohort:goal-add"
CHECKIN_BUTTON_ID = "cohort:checkin"


# ------------------------------------------------------------------------------ modals


class GoalModal(discord.ui.Modal, title="Add a goal for this week"):
    text: discord.ui.TextInput[GoalModal] = discord.ui.TextInput(
        label="Goal",
        placeholder="Finish the module 3 videos",
        min_length=1,
        max_length=200,
    )
    hours: discord.ui.TextInput[GoalModal] = discord.ui.TextInput(
        label="Planned hours (optional, 0.5–80)",
        placeholder="2.5",
        required=False,
        max_length=6,
    )

    def __init__(self, guild_id: int | None = None) -> None:
        super().__init__()
        self.guild_id = guild_id

    async def on_submit(self, interaction: discord.Interaction[CohortBot]) -> None:  # type: ignore[override]
        guild_id = check_guild(interaction, self.guild_id)
        goal = await interaction.client.services.goals.add_from_form(
            guild_id, interaction.user.id, self.text.value, self.hours.value
        )
        await interaction.response.send_message(goal_added_text(goal), ephemeral=True)

    async def on_error(  # type: ignore[override]
        self, interaction: discord.Interaction[CohortBot], error: Exception
    ) -> None:
        await handle_error(interaction, error)


class CheckInModal(discord.ui.Modal, title="Check in"):
    hours: discord.ui.TextInput[CheckInModal] = discord.ui.TextInput(
        label="Hours studied today (0–100)", placeholder="1.5", required=False, max_length=6
    )
    done: discord.ui.TextInput[CheckInModal] = discord.ui.TextInput(
        label="What did you do?",
        style=discord.TextStyle.paragraph,
        required=False,
        max_length=1000,
    )
    next_steps: discord.ui.TextInput[CheckInModal] = discord.ui.TextInput(
        label="What's next?",
        style=discord.TextStyle.paragraph,
        required=False,
        max_length=1000,
    )
    blockers: discord.ui.TextInput[CheckInModal] = discord.ui.TextInput(
        label="Anything blocking you?",
        style=discord.TextStyle.paragraph,
        required=False,
        max_length=1000,
    )
    mood: discord.ui.TextInput[CheckInModal] = discord.ui.TextInput(
        label="Mood, 1 (rough) to 5 (great)", placeholder="4", required=False, max_length=1
    )

    def __init__(self, guild_id: int | None = None) -> None:
        super().__init__()
        self.guild_id = guild_id

    async def on_submit(self, interaction: discord.Interaction[CohortBot]) -> None:  # type: ignore[override]
        guild_id = check_guild(interaction, self.guild_id)
        result = await interaction.client.services.checkins.record_form(
            guild_id,
            interaction.user.id,
            hours=self.hours.value,
            done=self.done.value,
            next_steps=self.next_steps.value,
            blockers=self.blockers.value,
            mood=self.mood.value,
        )
        await interaction.response.send_message(checkin_text(result), ephemeral=True)

    async def on_error(  # type: ignore[override]
        self, interaction: discord.Interaction[CohortBot], error: Exception
    ) -> None:
        await handle_error(interaction, error)


# ------------------------------------------------------------------------------ buttons


class AddGoalButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"cohort:goal-add(?::(?P<guild_id>[0-9]{1,20}))?",
):
    """Opens the goal modal for whoever presses it."""

    def __init__(self, guild_id: int | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label="Add goal",
                emoji="🎯",
                style=discord.ButtonStyle.primary,
                custom_id=guild_custom_id(GOAL_BUTTON_ID, guild_id),
            )
        )
        self.guild_id = guild_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> AddGoalButton:
        return cls(guild_from(match))

    async def callback(self, interaction: discord.Interaction[CohortBot]) -> None:  # type: ignore[override]
        # discord.py only logs errors raised here, so answer them ourselves.
        try:
            guild_id = check_guild(interaction, self.guild_id)
            await interaction.response.send_modal(GoalModal(guild_id))
        except Exception as error:
            await handle_error(interaction, error)


class CheckInButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"cohort:checkin(?::(?P<guild_id>[0-9]{1,20}))?",
):
    """Opens the check-in modal for whoever presses it."""

    def __init__(self, guild_id: int | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label="Check in",
                emoji="📝",
                style=discord.ButtonStyle.success,
                custom_id=guild_custom_id(CHECKIN_BUTTON_ID, guild_id),
            )
        )
        self.guild_id = guild_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> CheckInButton:
        return cls(guild_from(match))

    async def callback(self, interaction: discord.Interaction[CohortBot]) -> None:  # type: ignore[override]
        try:
            guild_id = check_guild(interaction, self.guild_id)
            await interaction.response.send_modal(CheckInModal(guild_id))
        except Exception as error:
            await handle_error(interaction, error)


def study_buttons_view(guild_id: int | None = None) -> discord.ui.View:
    """A view with both buttons for any post; they keep working after a restart."""
    view = discord.ui.View(timeout=None)
    view.add_item(AddGoalButton(guild_id))
    view.add_item(CheckInButton(guild_id))
    return view


async def setup(bot: CohortBot) -> None:
    bot.add_dynamic_items(AddGoalButton, CheckInButton)


async def teardown(bot: CohortBot) -> None:
    bot.remove_dynamic_items(AddGoalButton, CheckInButton)
