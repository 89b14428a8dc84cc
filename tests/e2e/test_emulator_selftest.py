"""Self-tests of the local Discord emulator, driven by a bare discord.py bot defined here.

They prove the emulator speaks Discord well enough for the unmodified client: login, READY and
GUILD_CREATE, command sync, every interaction kind, follow-ups and edits, Discord's deadlines,
schema validation, rate limits and faults, nonces, RESUME, DMs and mention semantics.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import discord
import pytest
from discord import app_commands
from discord.ext import commands
from discord.http import MultipartParameters, Route

from discord_emulator import (
    MANAGE_GUILD,
    VIEW_CHANNEL,
    Channel,
    CommandUnavailable,
    Emulator,
    InteractionNotAcknowledged,
    Member,
    Role,
    Upload,
    User,
    compute_pings,
    run_client,
)
from discord_emulator.discord_openapi import SCHEMAS_FILE
from discord_emulator.permissions import READ_MESSAGE_HISTORY, SEND_MESSAGES_IN_THREADS
from discord_emulator.routes import SERVED_ROUTES

pytestmark = pytest.mark.e2e

# A checkout of discord-api-spec to compare the vendored schemas against (optional).
SPEC_DIR = (
    Path(os.environ.get("DISCORD_API_SPEC_DIR", ""))
    if os.environ.get("DISCORD_API_SPEC_DIR")
    else None
)


# -- the bot under test ---------------------------------------------------------------------------
class FeedbackModal(discord.ui.Modal, title="Weekly feedback"):
    hours: discord.ui.TextInput[FeedbackModal] = discord.ui.TextInput(label="Hours", max_length=5)
    notes: discord.ui.TextInput[FeedbackModal] = discord.ui.TextInput(
        label="Notes", style=discord.TextStyle.paragraph, required=False
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(
            f"Got {self.hours.value}h ({self.notes.value or 'no notes'})", ephemeral=True
        )


class MoodModal(discord.ui.Modal, title="Mood check"):
    """The newer modal layout: labels wrapping a select and a text input."""

    mood: discord.ui.Label[MoodModal] = discord.ui.Label(
        text="Mood",
        component=discord.ui.Select(
            custom_id="mood",
            options=[discord.SelectOption(label=str(i), value=str(i)) for i in range(1, 6)],
        ),
    )
    why: discord.ui.Label[MoodModal] = discord.ui.Label(
        text="Why", component=discord.ui.TextInput(custom_id="why", required=False)
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        assert isinstance(self.mood.component, discord.ui.Select)
        assert isinstance(self.why.component, discord.ui.TextInput)
        await interaction.response.send_message(
            f"mood={self.mood.component.values} why={self.why.component.value!r}", ephemeral=True
        )


class CheckinView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=60)

    @discord.ui.button(label="Check in", style=discord.ButtonStyle.primary)
    async def check_in(
        self, interaction: discord.Interaction, _: discord.ui.Button[CheckinView]
    ) -> None:
        await interaction.response.send_message(
            f"Checked in, {interaction.user.display_name}!", ephemeral=True
        )

    @discord.ui.button(label="Close", style=discord.ButtonStyle.secondary)
    async def close(
        self, interaction: discord.Interaction, _: discord.ui.Button[CheckinView]
    ) -> None:
        await interaction.response.edit_message(content="Check-ins closed", view=None)

    @discord.ui.button(label="Feedback", style=discord.ButtonStyle.success)
    async def feedback(
        self, interaction: discord.Interaction, _: discord.ui.Button[CheckinView]
    ) -> None:
        await interaction.response.send_modal(FeedbackModal())

    @discord.ui.select(
        placeholder="Mood",
        options=[discord.SelectOption(label=str(i), value=str(i)) for i in range(1, 6)],
    )
    async def mood(
        self, interaction: discord.Interaction, select: discord.ui.Select[CheckinView]
    ) -> None:
        await interaction.response.send_message(f"Mood {select.values[0]}", ephemeral=True)


class SelfTestBot(commands.Bot):
    def __init__(self) -> None:
        intents = discord.Intents.default()
        intents.members = True
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            help_command=None,
            allowed_mentions=discord.AllowedMentions.none(),
        )
        self.goals: dict[int, list[str]] = {}
        self.late_errors: list[BaseException] = []

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """discord.py waits 5 s before re-identifying; a test has no identify budget to protect."""

    async def setup_hook(self) -> None:
        tree = self.tree

        @tree.command(description="Check that the bot answers")
        async def ping(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("pong", ephemeral=True)

        @tree.command(description="Tell us how your week went")
        async def feedback(interaction: discord.Interaction) -> None:
            await interaction.response.send_modal(FeedbackModal())

        @tree.command(description="How do you feel?")
        async def mood(interaction: discord.Interaction) -> None:
            await interaction.response.send_modal(MoodModal())

        @tree.command(description="Post the check-in prompt")
        async def checkin(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("Time to check in", view=CheckinView())

        @tree.command(description="Export as a file")
        async def export(interaction: discord.Interaction) -> None:
            data = io.BytesIO(b"goal,done\nRead chapter 2,no\n")
            await interaction.response.send_message(
                "Here you go", file=discord.File(data, "goals.csv"), ephemeral=True
            )

        @tree.command(description="A slow report")
        async def report(interaction: discord.Interaction) -> None:
            await interaction.response.defer(ephemeral=True, thinking=True)
            await asyncio.sleep(0.05)
            await interaction.followup.send("report ready", ephemeral=True)
            await interaction.followup.send("second part", ephemeral=True)
            await interaction.edit_original_response(content="report ready (edited)")

        @tree.command(description="Too slow for Discord")
        async def sleepy(interaction: discord.Interaction) -> None:
            await asyncio.sleep(4)
            try:
                await interaction.response.send_message("finally")
            except discord.HTTPException as exc:
                self.late_errors.append(exc)

        @tree.command(description="Post a message to this channel")
        async def announce(
            interaction: discord.Interaction, text: str, ping: discord.Member | None = None
        ) -> None:
            assert interaction.channel is not None and isinstance(
                interaction.channel, discord.TextChannel
            )
            if ping is None:
                await interaction.channel.send(text)  # the client default applies
            else:
                await interaction.channel.send(
                    text, allowed_mentions=discord.AllowedMentions(users=[ping])
                )
            await interaction.response.send_message("posted", ephemeral=True)

        @tree.command(description="Moderators only")
        @app_commands.default_permissions(manage_guild=True)
        async def moderate(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("ok, moderator", ephemeral=True)

        goal = app_commands.Group(name="goal", description="Weekly goals")

        @goal.command(name="add", description="Add a goal")
        async def goal_add(
            interaction: discord.Interaction,
            text: app_commands.Range[str, 1, 200],
            hours: app_commands.Range[float, 0.5, 80.0] | None = None,
        ) -> None:
            self.goals.setdefault(interaction.user.id, []).append(text)
            suffix = f" ({hours:g} h)" if hours is not None else ""
            await interaction.response.send_message(f"Added: {text}{suffix}", ephemeral=True)

        async def own_goals(
            interaction: discord.Interaction, current: str
        ) -> list[app_commands.Choice[int]]:
            goals = self.goals.get(interaction.user.id, [])
            return [
                app_commands.Choice(name=g, value=i)
                for i, g in enumerate(goals)
                if current.lower() in g.lower()
            ]

        @goal.command(name="done", description="Mark a goal done")
        @app_commands.autocomplete(goal=own_goals)
        async def goal_done(interaction: discord.Interaction, goal: int) -> None:
            await interaction.response.send_message(
                f"Done: {self.goals[interaction.user.id][goal]}", ephemeral=True
            )

        @goal.command(name="list", description="List goals")
        @app_commands.choices(
            week=[
                app_commands.Choice(name="this", value="this"),
                app_commands.Choice(name="last", value="last"),
            ]
        )
        async def goal_list(
            interaction: discord.Interaction,
            member: discord.Member | None = None,
            week: str = "this",
        ) -> None:
            who = member or interaction.user
            goals = self.goals.get(who.id, [])
            embed = discord.Embed(
                title=f"Goals of {who.display_name} ({week} week)",
                description="\n".join(goals) or "none",
            )
            await interaction.response.send_message(embed=embed, ephemeral=True)

        @goal.command(name="share", description="Share goals in a channel")
        async def goal_share(
            interaction: discord.Interaction,
            channel: discord.TextChannel,
            role: discord.Role | None = None,
        ) -> None:
            await interaction.response.send_message(
                f"Would share in {channel.mention} for {role.name if role else 'everyone'}; "
                f"perms={channel.permissions_for(interaction.user).send_messages}",  # type: ignore[arg-type]
                ephemeral=True,
            )

        @goal.command(name="import", description="Import goals from a file")
        async def goal_import(interaction: discord.Interaction, file: discord.Attachment) -> None:
            data = await file.read()
            await interaction.response.send_message(
                f"{file.filename}: {len(data.splitlines())} lines", ephemeral=True
            )

        admin = app_commands.Group(name="admin", description="Goal admin", parent=goal)

        @admin.command(name="reset", description="Reset goals")
        async def goal_admin_reset(
            interaction: discord.Interaction, confirm: bool, count: int = 1
        ) -> None:
            await interaction.response.send_message(
                f"reset confirm={confirm} count={count}", ephemeral=True
            )

        tree.add_command(goal)
        await tree.sync()


# -- fixtures -------------------------------------------------------------------------------------
@dataclass
class Env:
    emu: Emulator
    bot: SelfTestBot
    general: Channel
    second: Channel
    third: Channel
    mod_role: Role
    mia: Member
    sam: Member
    quiet: Member


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    emu = Emulator()
    guild = emu.world.add_guild("Study Group")
    general = guild.add_text_channel("general")
    second = guild.add_text_channel("goals")
    third = guild.add_text_channel("reviews")
    mod_role = guild.add_role("Moderator", MANAGE_GUILD, mentionable=True)
    mia = guild.add_member("Mia", roles=[mod_role])
    sam = guild.add_member("Sam")
    quiet = guild.add_member(emu.world.add_user("Quiet", dms_open=False))
    async with emu.running():
        bot = SelfTestBot()
        async with run_client(emu, bot, wait_for_sync=True):
            yield Env(emu, bot, general, second, third, mod_role, mia, sam, quiet)


# -- start-up -------------------------------------------------------------------------------------
async def test_login_ready_and_guild_create_populate_the_client_cache(env: Env) -> None:
    bot, emu = env.bot, env.emu
    assert bot.user is not None and bot.user.id == emu.application_id
    assert bot.application_id == emu.application_id
    guild = bot.get_guild(env.sam.guild.id)
    assert guild is not None and guild.name == "Study Group"
    assert guild.owner_id == env.sam.guild.owner_id
    assert guild.member_count == len(env.sam.guild.members)
    assert [c.name for c in guild.text_channels] == ["general", "goals", "reviews"]
    role = guild.get_role(env.mod_role.id)
    assert role is not None and role.permissions.manage_guild
    mia = guild.get_member(env.mia.id)
    assert mia is not None and role in mia.roles and mia.guild_permissions.manage_guild
    assert guild.me is not None and guild.me.guild_permissions.send_messages
    # discord.py asked for zlib-stream and got it; one identify, heartbeats answered.
    assert emu.gateway.identifies == 1
    assert any("compress=zlib-stream" in c.url for c in emu.gateway.connections)
    first_calls = [r.path for r in emu.requests[:2]]
    assert first_calls == ["/users/@me", "/oauth2/applications/@me"]


async def test_command_sync_is_recorded(env: Env) -> None:
    emu = env.emu
    assert emu.sync_calls == 1
    names = sorted(c["name"] for c in emu.commands.tree())
    assert names == [
        "announce",
        "checkin",
        "export",
        "feedback",
        "goal",
        "moderate",
        "mood",
        "ping",
        "report",
        "sleepy",
    ]
    goal = next(c for c in emu.commands.tree() if c["name"] == "goal")
    assert {o["name"] for o in goal["options"]} == {
        "add",
        "done",
        "list",
        "share",
        "import",
        "admin",
    }
    moderate = next(c for c in emu.commands.tree() if c["name"] == "moderate")
    assert moderate["default_member_permissions"] == str(MANAGE_GUILD)
    fetched = await env.bot.tree.fetch_commands()
    assert sorted(c.name for c in fetched) == names


async def test_every_response_has_discord_rate_limit_headers(env: Env) -> None:
    await env.sam.slash("ping")
    for r in env.emu.requests:
        assert {
            "X-RateLimit-Limit",
            "X-RateLimit-Remaining",
            "X-RateLimit-Reset",
            "X-RateLimit-Reset-After",
            "X-RateLimit-Bucket",
        } <= set(r.headers) or r.status == 429, r


# -- interactions ---------------------------------------------------------------------------------
async def test_slash_command_round_trip(env: Env) -> None:
    reply = await env.sam.slash("ping")
    assert reply.ephemeral and reply.content == "pong"
    assert reply.callback_type == 4 and reply.ack_latency is not None and reply.ack_latency < 1
    payload = reply.payload
    assert payload["guild_id"] == str(env.sam.guild.id)
    assert payload["channel"]["id"] == payload["channel_id"] == str(env.general.id)
    assert payload["member"]["user"]["id"] == str(env.sam.id)
    assert int(payload["member"]["permissions"]) & (1 << 11)
    assert payload["context"] == 0 and payload["authorizing_integration_owners"] == {
        "0": str(env.sam.guild.id)
    }
    # Ephemeral: not visible in the channel.
    assert env.emu.messages.in_channel(env.general) == []


async def test_subcommands_typed_options_and_resolved_objects(env: Env) -> None:
    sam, mia = env.sam, env.mia
    added = await sam.slash("goal add", text="Read chapter 2", hours=2.5)
    assert added.content == "Added: Read chapter 2 (2.5 h)"
    listed = await mia.slash("goal list", member=sam, week="last")
    assert listed.embed["title"] == "Goals of Sam (last week)"
    assert listed.payload["data"]["resolved"]["members"][str(sam.id)]["roles"] == []
    shared = await sam.slash("goal share", channel=env.second, role=env.mod_role)
    assert shared.content == f"Would share in <#{env.second.id}> for Moderator; perms=True"
    assert shared.channel is env.general  # `channel` was the option, not the location
    reset = await sam.slash("goal admin reset", confirm=True, count=3, in_channel=env.third)
    assert reset.content == "reset confirm=True count=3"
    assert reset.payload["channel_id"] == str(env.third.id)
    data = reset.payload["data"]
    assert data["options"][0]["type"] == 2 and data["options"][0]["options"][0]["type"] == 1
    imported = await sam.slash("goal import", file=Upload("goals.txt", b"a\nb\nc\n"))
    assert imported.content == "goals.txt: 3 lines"
    with pytest.raises(CommandUnavailable, match="at most 200"):
        await sam.slash("goal add", text="x" * 201)
    with pytest.raises(CommandUnavailable, match="not one of the choices"):
        await sam.slash("goal list", week="someday")
    with pytest.raises(CommandUnavailable, match="required option 'text'"):
        await sam.slash("goal add")


async def test_default_member_permissions_hide_commands(env: Env) -> None:
    with pytest.raises(CommandUnavailable, match="hidden from Sam"):
        await env.sam.slash("moderate")
    assert (await env.mia.slash("moderate")).content == "ok, moderator"


async def test_autocomplete_returns_choices(env: Env) -> None:
    sam = env.sam
    await sam.slash("goal add", text="Read chapter 2")
    await sam.slash("goal add", text="Write notes")
    choices = await sam.autocomplete("goal done", "goal", typed="read")
    assert [(c.name, c.value) for c in choices] == [("Read chapter 2", 0)]
    done = await sam.slash("goal done", goal=choices[0].value)
    assert done.content == "Done: Read chapter 2"


async def test_modal_round_trip(env: Env) -> None:
    opened = await env.sam.slash("feedback")
    assert opened.is_modal and opened.modal is not None
    assert opened.modal.title == "Weekly feedback"
    assert [f.label for f in opened.modal.fields] == ["Hours", "Notes"]
    submitted = await env.sam.submit_modal(opened.modal, {"Hours": "2"})
    assert submitted.content == "Got 2h (no notes)" and submitted.ephemeral
    with pytest.raises(AssertionError, match="is required"):
        await env.sam.submit_modal(opened.modal, {"Notes": "forgot hours"})
    with pytest.raises(AssertionError, match="at most 5"):
        await env.sam.submit_modal(opened.modal, {"Hours": "123456"})


async def test_label_modal_with_select(env: Env) -> None:
    opened = await env.sam.slash("mood")
    assert opened.modal is not None
    assert [(f.label, f.type) for f in opened.modal.fields] == [("Mood", 3), ("Why", 4)]
    done = await env.sam.submit_modal(opened.modal, {"Mood": ["4"], "why": "sunny"})
    assert done.content == "mood=['4'] why='sunny'"


async def test_buttons_selects_and_message_updates(env: Env) -> None:
    emu, sam, mia = env.emu, env.sam, env.mia
    prompt = await mia.slash("checkin")
    assert not prompt.ephemeral and prompt.original is not None
    assert prompt.original.button_labels() == ["Check in", "Close", "Feedback"]
    assert emu.messages.in_channel(env.general) == [prompt.original]
    clicked = await sam.click(prompt, "Check in")
    assert clicked.content == "Checked in, Sam!" and clicked.ephemeral
    assert clicked.payload["message"]["id"] == str(prompt.original.id)
    mood = await sam.select(prompt, ["4"], placeholder="Mood")
    assert mood.content == "Mood 4"
    modal = await sam.click(prompt, "Feedback")
    assert modal.modal is not None
    answered = await sam.submit_modal(modal.modal, {"Hours": "3", "Notes": "good week"})
    assert answered.content == "Got 3h (good week)"
    assert answered.payload["message"]["id"] == str(prompt.original.id)
    closed = await mia.click(prompt, "Close")
    assert closed.callback_type == 7
    assert prompt.original.content == "Check-ins closed" and prompt.original.components == []
    assert len(prompt.original.edits) == 1
    with pytest.raises(LookupError, match="no component 'Check in'"):
        await sam.click(prompt, "Check in")


async def test_files_are_kept_byte_for_byte(env: Env) -> None:
    reply = await env.sam.slash("export")
    assert reply.content == "Here you go"
    [att] = reply.attachments
    assert att.filename == "goals.csv" and att.data == b"goal,done\nRead chapter 2,no\n"
    assert att.content_type == "text/csv; charset=utf-8"


async def test_defer_then_followups_and_edit(env: Env) -> None:
    reply = await env.sam.slash("report")
    assert (
        reply.deferred and reply.ephemeral and reply.original is not None and reply.original.loading
    )
    first = await reply.wait_for_followup()
    assert first is reply.original and not first.loading and first.ephemeral
    second = await reply.wait_for_followup()
    assert second.content == "second part" and second.ephemeral and second is not first
    await reply.wait_for_edit(count=2)
    assert reply.content == "report ready (edited)"
    assert [e["content"] for e in reply.original.edits] == ["", "report ready"]


async def test_ack_timeout_is_reported_clearly(env: Env) -> None:
    emu = env.emu
    with pytest.raises(
        InteractionNotAcknowledged, match="did not acknowledge the interaction within 3 s"
    ):
        await env.sam.slash("sleepy")
    late = emu.interactions.all[-1]
    await late.wait_until(lambda r: bool(r.rejected_callbacks), timeout=3)
    [(label, status, body)] = emu.take_rejected_callbacks()
    assert label.startswith("/sleepy") and status == 404 and body["code"] == 10062
    await emu.wait_until(
        lambda: bool(env.bot.late_errors), what="the bot to see its late callback fail"
    )
    assert isinstance(env.bot.late_errors[0], discord.NotFound)


async def test_interactions_in_dms(env: Env) -> None:
    reply = await env.sam.user.slash("ping")
    assert reply.content == "pong"
    assert "guild_id" not in reply.payload and reply.payload["user"]["id"] == str(env.sam.id)
    assert reply.payload["channel"]["type"] == 1 and reply.payload["context"] == 1


# -- REST realism ---------------------------------------------------------------------------------
async def test_schema_violation_is_caught(env: Env) -> None:
    bot, emu = env.bot, env.emu
    params = MultipartParameters(
        payload={"embeds": [{"title": "x" * 300, "color": "red"}]}, multipart=None, files=None
    )
    with pytest.raises(discord.HTTPException) as caught:
        await bot.http.send_message(env.general.id, params=params)
    assert caught.value.status == 400 and caught.value.code == 50035
    violations = emu.take_violations()
    assert {v.location for v in violations} == {".embeds[0].title", ".embeds[0].color"}
    assert all(v.route == "/channels/{channel_id}/messages" for v in violations)
    assert emu.messages.in_channel(env.general) == []


async def test_discord_rules_beyond_the_schema(env: Env) -> None:
    channel = env.bot.get_channel(env.general.id)
    assert isinstance(channel, discord.TextChannel)
    with pytest.raises(discord.HTTPException, match="2000 or fewer"):
        await channel.send("x" * 2001)
    with pytest.raises(discord.HTTPException, match="empty message"):
        await env.bot.http.send_message(
            env.general.id, params=MultipartParameters(payload={}, multipart=None, files=None)
        )
    assert len(env.emu.take_violations()) == 2


async def test_per_route_429_is_retried_and_delivered_once(env: Env) -> None:
    emu, bot = env.emu, env.bot
    channel = bot.get_channel(env.general.id)
    assert isinstance(channel, discord.TextChannel)
    await channel.send("warm-up")  # discord.py now believes 49 requests remain
    emu.ratelimits.limit("POST /channels/{channel_id}/messages", 1, per=0.3)
    await asyncio.gather(*(channel.send(f"burst {i}") for i in range(3)))
    contents = [m.content for m in emu.messages.in_channel(env.general)]
    assert sorted(contents) == ["burst 0", "burst 1", "burst 2", "warm-up"]
    assert emu.ratelimits.hits and not any(is_global for _, _, is_global in emu.ratelimits.hits)
    limited = [r for r in emu.requests if r.status == 429]
    assert limited and limited[0].response["message"] == "You are being rate limited."
    assert limited[0].headers["X-RateLimit-Scope"] == "user" and "Retry-After" in limited[0].headers


async def test_global_429_is_retried_and_delivered_once(env: Env) -> None:
    emu, bot = env.emu, env.bot
    emu.ratelimits.enable_global(2, per=0.3)
    channels = [bot.get_channel(c.id) for c in (env.general, env.second, env.third)] * 2
    await asyncio.gather(*(c.send(f"to {c.name} #{i}") for i, c in enumerate(channels)))  # type: ignore[union-attr]
    assert len(emu.messages.by_bot()) == 6
    hits = [r for r in emu.requests if r.status == 429]
    assert hits and hits[0].response["global"] is True
    assert (
        hits[0].headers["X-RateLimit-Global"] == "true"
        and hits[0].headers["X-RateLimit-Scope"] == "global"
    )


async def test_injected_502_after_processing_is_retried_and_nonce_prevents_a_duplicate(
    env: Env,
) -> None:
    emu, bot = env.emu, env.bot
    emu.faults.fail("POST /channels/{channel_id}/messages", 502, after_processing=True)
    channel = bot.get_channel(env.general.id)
    assert isinstance(channel, discord.TextChannel)
    sent = await channel.send("weekly summary", nonce="occurrence-42")
    statuses = [r.status for r in emu.requests_to("POST /channels/{channel_id}/messages")]
    assert statuses == [502, 200]
    [posted] = emu.messages.in_channel(env.general)
    assert posted.id == sent.id and posted.nonce == "occurrence-42"


async def test_nonce_dedup(env: Env) -> None:
    channel = env.bot.get_channel(env.second.id)
    assert isinstance(channel, discord.TextChannel)
    a = await channel.send("once", nonce=1234)
    b = await channel.send("once again", nonce=1234)
    assert a.id == b.id and b.content == "once"
    assert [m.content for m in env.emu.messages.in_channel(env.second)] == ["once"]


async def test_dm_to_user_with_closed_dms_is_403_50007(env: Env) -> None:
    bot = env.bot
    quiet = await bot.fetch_user(env.quiet.id)
    with pytest.raises(discord.Forbidden) as caught:
        await quiet.send("reminder")
    assert caught.value.code == 50007
    sam = await bot.fetch_user(env.sam.id)
    await sam.send("your reminder")
    assert [m.content for m in env.emu.messages.dms_to(env.sam)] == ["your reminder"]


async def test_unknown_route_is_recorded(env: Env) -> None:
    with pytest.raises(discord.NotFound):
        await env.bot.http.request(
            Route("GET", "/guilds/{guild_id}/nonexistent", guild_id=env.sam.guild.id)
        )
    assert env.emu.take_unknown_routes() == [f"GET /guilds/{env.sam.guild.id}/nonexistent"]


async def test_ping_semantics(env: Env) -> None:
    emu, sam = env.emu, env.sam
    await sam.slash("announce", text=f"@everyone look, {sam.mention} and {env.mod_role.mention}")
    [quiet] = emu.messages.in_channel(env.general)
    assert quiet.allowed_mentions == {"parse": []} and not quiet.pinged_anyone
    await sam.slash("announce", text=f"@everyone {sam.mention} {env.mia.mention}", ping=sam)
    loud = emu.messages.in_channel(env.general)[-1]
    assert loud.pings.users == {sam.id} and not loud.pings.everyone
    with pytest.raises(AssertionError, match="would ping"):
        emu.messages.assert_nobody_pinged()
    # Discord's own rules, without discord.py in between.
    default = compute_pings(
        "@here <@&1234567890123456789>",
        None,
        can_mention_everyone=False,
        mentionable_roles=frozenset(),
    )
    assert not default.anyone
    everyone = compute_pings(
        "@everyone", None, can_mention_everyone=True, mentionable_roles=frozenset()
    )
    assert everyone.everyone


# -- gateway resilience ---------------------------------------------------------------------------
async def test_dropped_connection_resumes_and_replays_missed_events(env: Env) -> None:
    emu, bot = env.emu, env.bot
    guild = env.sam.guild
    await emu.gateway.drop_connection()
    late = guild.add_text_channel("while-away")  # dispatched while the bot is disconnected
    await emu.gateway.wait_for_resume()
    assert emu.gateway.identifies == 1 and emu.gateway.close_codes == [4000]
    resumed_on = [c.url for c in emu.gateway.connections]
    assert any("/resume?" in url for url in resumed_on)
    assert (await env.sam.slash("ping")).content == "pong"
    assert bot.get_channel(late.id) is not None
    session = emu.gateway.session
    assert session is not None and bot.ws.sequence == session.seq
    assert [s for s, _ in session.sent] == list(range(1, session.seq + 1))


async def test_reconnect_request_is_followed_by_resume(env: Env) -> None:
    env.emu.gateway.request_reconnect()
    await env.emu.gateway.wait_for_resume()
    assert (await env.sam.slash("ping")).content == "pong"


async def test_invalid_session_makes_the_bot_identify_again(env: Env) -> None:
    emu = env.emu
    await emu.gateway.invalidate_session()
    await emu.wait_for_identify(2)
    assert (await env.sam.slash("ping")).content == "pong"


async def test_world_changes_reach_the_bot(env: Env) -> None:
    bot, emu, world_guild = env.bot, env.emu, env.sam.guild
    guild = bot.get_guild(world_guild.id)
    assert guild is not None and guild.get_member(env.quiet.id) is not None
    env.quiet.leave()
    await emu.wait_until(lambda: guild.get_member(env.quiet.id) is None, what="GUILD_MEMBER_REMOVE")
    world_guild.delete_channel(env.third)
    await emu.wait_until(lambda: bot.get_channel(env.third.id) is None, what="CHANNEL_DELETE")
    world_guild.remove_bot()
    await emu.wait_until(lambda: bot.get_guild(world_guild.id) is None, what="GUILD_DELETE")


async def test_permission_overwrites_apply_to_people_and_the_bot(env: Env) -> None:
    bot, emu, world_guild = env.bot, env.emu, env.sam.guild
    mods = world_guild.add_text_channel("mods")
    mods.set_permissions(world_guild.everyone, deny=VIEW_CHANNEL)
    mods.set_permissions(env.mod_role, allow=VIEW_CHANNEL)
    await emu.wait_until(
        lambda: (
            isinstance(c := bot.get_channel(mods.id), discord.TextChannel) and bool(c.overwrites)
        ),
        what="CHANNEL_CREATE and CHANNEL_UPDATE",
    )
    cached = bot.get_channel(mods.id)
    assert isinstance(cached, discord.TextChannel)
    assert cached.overwrites_for(cached.guild.default_role).view_channel is False
    assert (await env.mia.slash("ping", in_channel=mods)).content == "pong"
    with pytest.raises(CommandUnavailable, match="may not use application commands in #mods"):
        await env.sam.slash("ping", in_channel=mods)
    with pytest.raises(discord.Forbidden) as caught:
        await cached.send("the bot cannot see this channel")
    assert caught.value.code == 50001


async def test_rest_reads(env: Env) -> None:
    bot, world_guild = env.bot, env.sam.guild
    guild = await bot.fetch_guild(world_guild.id, with_counts=True)
    assert guild.name == "Study Group" and guild.approximate_member_count == len(
        world_guild.members
    )
    channel = await bot.fetch_channel(env.general.id)
    assert isinstance(channel, discord.TextChannel) and channel.name == "general"
    roles = await guild.fetch_roles()
    assert "Moderator" in [r.name for r in roles]
    member = await guild.fetch_member(env.mia.id)
    assert [r.id for r in member.roles if r.id != guild.id] == [env.mod_role.id]
    with pytest.raises(discord.NotFound):
        await guild.fetch_member(12345678901234567)
    sent = await channel.send("hello")
    fetched = await channel.fetch_message(sent.id)
    assert fetched.content == "hello"
    await fetched.edit(content="hello again")
    assert [m.content async for m in channel.history(limit=5)] == ["hello again"]
    await fetched.delete()
    [posted] = env.emu.messages.in_channel(env.general, include_deleted=True)
    assert posted.deleted and posted.edits[0]["content"] == "hello"


# -- without a bot fixture ------------------------------------------------------------------------
async def test_without_members_intent_only_the_bot_member_is_sent() -> None:
    emu = Emulator()
    guild = emu.world.add_guild("Small")
    guild.add_text_channel("general")
    guild.add_member("Ann")
    async with emu.running():
        client = discord.Client(intents=discord.Intents.default())
        async with run_client(emu, client):
            cached = client.get_guild(guild.id)
            assert cached is not None and cached.member_count == 3
            assert [m.id for m in cached.members] == [emu.application_id]
        assert emu.sync_calls == 0


async def test_vendored_schemas_match_the_spec_and_cover_served_routes() -> None:
    vendored = json.loads(SCHEMAS_FILE.read_text())
    body_routes = {f"{m} {p}" for m, p in SERVED_ROUTES if m in ("POST", "PUT", "PATCH")}
    covered = set(vendored["routes"])
    # Every served write route with a body in the spec is vendored (bodiless ones are not).
    assert covered <= body_routes and "POST /channels/{channel_id}/messages" in covered
    if SPEC_DIR is None or not (SPEC_DIR / "openapi.json").exists():
        pytest.skip("set DISCORD_API_SPEC_DIR to compare against the upstream spec")
    from discord_emulator.discord_openapi.extract import extract

    spec = json.loads((SPEC_DIR / "openapi.json").read_text())
    source = (SPEC_DIR / "SOURCE").read_text().strip()
    assert extract(spec, source) == vendored


async def test_running_reports_problems_at_exit_and_frees_its_port() -> None:
    emu = Emulator()
    with pytest.raises(AssertionError, match="unknown route: GET /nowhere"):
        async with emu.running(), aiohttp.ClientSession() as session:
            port = emu.port
            async with session.get(f"{emu.api_base}/nowhere") as resp:
                assert resp.status == 404
                assert await resp.json() == {"message": "404: Not Found", "code": 0}
                assert resp.headers["Via"] and resp.headers["X-RateLimit-Bucket"]
    assert discord.http.Route.BASE == "https://discord.com/api/v10"
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", port)


def test_world_objects_are_test_facing() -> None:
    emu = Emulator()
    user = emu.world.add_user("Zed")
    assert isinstance(user, User) and user.mention == f"<@{user.id}>"


# -- as strict as Discord -------------------------------------------------------------------------
async def test_the_nonce_window_runs_on_the_emulators_clock(env: Env) -> None:
    emu = env.emu
    now = [datetime(2026, 11, 18, 13, tzinfo=UTC)]
    emu.clock = lambda: now[0]
    channel = env.bot.get_channel(env.second.id)
    assert isinstance(channel, discord.TextChannel)
    first = await channel.send("summary", nonce="occ-1")
    now[0] += timedelta(minutes=4)
    assert (await channel.send("summary", nonce="occ-1")).id == first.id
    now[0] += timedelta(minutes=2)  # past Discord's few minutes
    assert (await channel.send("summary", nonce="occ-1")).id != first.id
    # Discord keeps no nonce: it is in the create answer, never in a fetched message.
    assert first.nonce == "occ-1"
    fetched = await channel.fetch_message(first.id)
    assert fetched.nonce is None
    assert all("nonce" not in m for m in await env.bot.http.logs_from(channel.id, 10))


async def test_history_and_replies_need_read_message_history(env: Env) -> None:
    channel = env.bot.get_channel(env.third.id)
    assert isinstance(channel, discord.TextChannel)
    earlier = await channel.send("earlier")
    guild = env.sam.guild
    env.third.set_permissions(guild.bot_member, deny=READ_MESSAGE_HISTORY)
    assert await env.bot.http.logs_from(channel.id, 50) == []  # Discord returns nothing
    with pytest.raises(discord.HTTPException) as caught:
        await channel.send("a reply", reference=earlier)
    assert (caught.value.status, caught.value.code) == (400, 160002)
    assert (await channel.send("not a reply")).content == "not a reply"


async def test_allowed_mentions_lists_at_most_100_users(env: Env) -> None:
    channel = env.bot.get_channel(env.second.id)
    assert isinstance(channel, discord.TextChannel)
    users = [discord.Object(10**17 + i) for i in range(101)]
    with pytest.raises(discord.HTTPException) as caught:
        await channel.send("hi", allowed_mentions=discord.AllowedMentions(users=users))
    assert caught.value.code == 50035
    assert "allowed_mentions.users" in str(env.emu.take_violations()[0])
    await channel.send("hi", allowed_mentions=discord.AllowedMentions(users=users[:100]))


async def test_automod_refuses_with_discords_error_body(env: Env) -> None:
    env.emu.faults.automod(f"POST /channels/{env.general.id}/messages")
    channel = env.bot.get_channel(env.general.id)
    assert isinstance(channel, discord.TextChannel)
    with pytest.raises(discord.HTTPException) as caught:
        await channel.send("buy cheap pills")
    assert (caught.value.status, caught.value.code) == (400, 200000)
    assert caught.value.text == "Message was blocked by automatic moderation"
    assert env.emu.messages.in_channel(env.general) == []


async def test_threads_and_forums_follow_discords_rules(env: Env) -> None:
    emu, guild = env.emu, env.sam.guild
    thread = env.general.add_thread("Week 3", by=env.sam)
    forum = guild.add_forum_channel("help")
    post = forum.add_thread("Stuck", by=env.sam, message="Any hints?")
    hidden = env.general.add_thread("Mods", by=env.mia, private=True)
    await emu.wait_until(lambda: env.bot.get_channel(post.id) is not None, what="THREAD_CREATE")
    cached = env.bot.get_channel(post.id)
    assert isinstance(cached, discord.Thread) and cached.parent_id == forum.id
    http = env.bot.http
    assert (await http.send_message(thread.id, params=_text("in a thread")))["id"]
    assert (await http.send_message(post.id, params=_text("in a forum post")))["id"]
    with pytest.raises(discord.HTTPException) as caught:
        await http.send_message(forum.id, params=_text("in the forum itself"))
    assert caught.value.code == 50008
    with pytest.raises(discord.Forbidden):  # a private thread the bot is not in
        await http.send_message(hidden.id, params=_text("hello?"))
    thread.archive()
    await http.send_message(thread.id, params=_text("reopens it"))
    assert not thread.archived
    thread.archive(locked=True)
    with pytest.raises(discord.HTTPException) as caught:
        await http.send_message(thread.id, params=_text("locked"))
    assert caught.value.code == 50083
    forum.set_permissions(guild.bot_role, deny=SEND_MESSAGES_IN_THREADS)
    with pytest.raises(discord.Forbidden):
        await http.send_message(post.id, params=_text("no thread permission"))


def _text(content: str) -> MultipartParameters:
    return discord.http.handle_message_parameters(content=content)
