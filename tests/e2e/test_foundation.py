"""Start-up, command sync, /settings, /me, permissions and the error handler, end to end.

Every test drives the real bot through the local Discord emulator (see discord_emulator/README.md)
and ends with two checks on everything the bot sent: no unknown route, nobody pinged.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from zoneinfo import available_timezones

import aiohttp
import discord
import pytest

from cogs.settings import POSTING_PERMISSIONS
from discord_emulator import (
    ATTACH_FILES,
    MANAGE_GUILD,
    SEND_MESSAGES,
    VIEW_CHANNEL,
    CommandUnavailable,
    InteractionResult,
    Member,
    gateway,
)
from discord_emulator.permissions import USE_APPLICATION_COMMANDS
from tests.contract import CONTRACT, MODERATOR_GROUPS
from tests.e2e.conftest import StudyGroup, refused

pytestmark = pytest.mark.e2e

README = Path(__file__).resolve().parents[2] / "README.md"
MESSAGES = "POST /channels/{channel_id}/messages"
FOLLOWUP = "POST /webhooks/{webhook_id}/{webhook_token}"
INCIDENT = re.compile(r"incident `([0-9a-f]{8})`")
# Discord's labels in the invite URL generator, as discord.py names the flags.
PERMISSION_LABELS = {
    "View Channels": "view_channel",
    "Send Messages": "send_messages",
    "Embed Links": "embed_links",
    "Attach Files": "attach_files",
    "Read Message History": "read_message_history",
    "Send Messages in Threads": "send_messages_in_threads",
}


@pytest.fixture(autouse=True)
async def nothing_unknown_and_nobody_pinged(group: StudyGroup) -> AsyncIterator[None]:
    yield
    assert group.emu.unknown_routes == [], group.emu.unknown_routes
    group.emu.messages.assert_nobody_pinged()


# -- helpers --------------------------------------------------------------------------------------
def walk(options: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for option in options:
        yield option
        yield from walk(option.get("options") or [])


async def forged(
    group: StudyGroup, member: Member, command: str, **options: Any
) -> InteractionResult:
    """An invocation the Discord client would not send (command hidden from `member`, a value
    outside the declared limits), as a modified client or a replayed payload could."""
    registered = group.emu.commands.find(command.split()[0], guild_id=None)
    assert registered is not None
    kept = copy.deepcopy(registered.data)
    registered.data["default_member_permissions"] = None
    for option in walk(registered.data.get("options") or []):
        for rule in ("min_length", "max_length", "min_value", "max_value", "choices"):
            option.pop(rule, None)
    engine = group.emu.interactions
    try:
        result = engine.command(
            member.user, member, member.guild, member.guild.first_text_channel, command, options
        )
    finally:
        registered.data = kept  # what the bot synced stays what Discord keeps
    return await engine.send(result)


async def shown(member: Member) -> dict[str, str]:
    """The fields of /settings show, as `member` sees them."""
    reply = await member.slash("settings show")
    assert reply.ephemeral and reply.embed["title"] == "Cohort settings"
    return {f["name"]: f["value"] for f in reply.embed["fields"]}


def open_to_everyone(group: StudyGroup, *names: str) -> None:
    """What a server does in Server Settings → Integrations: show the commands to everyone.

    From then on only the bot's own check stands between a member and the command."""
    for name in names:
        registered = group.emu.commands.find(name, guild_id=None)
        assert registered is not None
        registered.data["default_member_permissions"] = None


# -- start-up and command sync --------------------------------------------------------------------
async def test_the_registered_tree_matches_the_contract(group: StudyGroup) -> None:
    (first_sync,) = group.emu.commands.sync_calls
    assert first_sync.guild_id is None  # global, no DEV_GUILD_ID
    registered: dict[str, tuple[str, ...]] = {}
    for command in group.emu.commands.tree():
        expected = str(MANAGE_GUILD) if command["name"] in MODERATOR_GROUPS else None
        assert command["default_member_permissions"] == expected, command["name"]
        subcommands = [o for o in command["options"] if o["type"] == 1]
        for sub in subcommands:
            registered[f"{command['name']} {sub['name']}"] = tuple(
                o["name"] for o in sub.get("options") or []
            )
        if not subcommands:
            registered[command["name"]] = tuple(o["name"] for o in command["options"])
    for path, option_names in registered.items():
        assert CONTRACT.get(path) == option_names, path
    foundation = [p for p in CONTRACT if p.startswith(("settings ", "me timezone", "me remind"))]
    assert len(foundation) == 8 and set(foundation) <= set(registered)
    # Guild-only: the Discord client offers none of them in the bot's DM.
    with pytest.raises(CommandUnavailable, match="not available in DMs"):
        await group.sam.user.slash("me reminders", enabled=True)


async def test_a_restart_with_the_same_tree_makes_no_sync_call(group: StudyGroup) -> None:
    def command_writes() -> list[str]:
        return [
            f"{r.method} {r.path}"
            for r in group.emu.requests
            if "/commands" in r.path and r.method in ("PUT", "POST", "PATCH", "DELETE")
        ]

    writes = command_writes()
    assert writes == [f"PUT /applications/{group.emu.application_id}/commands"]
    await group.mia.slash("settings timezone", tz="Europe/Berlin")
    await group.restart()
    assert group.emu.gateway.identifies == 2  # a real second start, on the same database
    assert command_writes() == writes
    assert len(group.emu.commands.sync_calls) == 1
    fields = await shown(group.mia)  # the commands Discord kept still reach the new process
    assert fields["Timezone"] == "Europe/Berlin"


# -- /settings ------------------------------------------------------------------------------------
async def test_settings_show_lists_the_defaults(group: StudyGroup) -> None:
    fields = await shown(group.mia)
    assert fields == {
        "Timezone": "UTC",
        "Week starts on": "Monday",
        "Reviewers per submission": "2",
        "Announcements channel": "not set",
        "Checkins channel": "not set",
        "Reviews channel": "not set",
        "Faq channel": "not set",
        "Moderator role": "only Manage Server",
    }


async def test_settings_timezone_autocompletes_iana_names(group: StudyGroup) -> None:
    mia = group.mia
    (first, *_) = await mia.autocomplete("settings timezone", "tz", typed="berl")
    assert (first.name, first.value) == ("Europe/Berlin", "Europe/Berlin")
    common = await mia.autocomplete("settings timezone", "tz", typed="")
    assert 1 <= len(common) <= 25 and "UTC" in [c.value for c in common]
    many = await mia.autocomplete("settings timezone", "tz", typed="a")
    assert len(many) == 25  # Discord's maximum, though hundreds of names contain "a"
    assert all(c.name == c.value and c.value in available_timezones() for c in many)
    assert await mia.autocomplete("settings timezone", "tz", typed="x" * 80) == []
    assert await mia.autocomplete("settings timezone", "tz", typed="東京") == []


async def test_settings_timezone_accepts_names_and_refuses_the_rest(group: StudyGroup) -> None:
    mia = group.mia
    done = await mia.slash("settings timezone", tz="europe/berlin")
    assert done.ephemeral and "**Europe/Berlin**" in done.content
    city = await mia.slash("settings timezone", tz="Berlin")
    assert refused(city, "not a timezone I know", "Did you mean Europe/Berlin")
    typo = await mia.slash("settings timezone", tz="Europe/Berln")
    assert refused(typo, "not a timezone I know", "start typing to see suggestions")
    unicode = await mia.slash("settings timezone", tz="Europe/Zürich")
    assert refused(unicode, "not a timezone I know") and "Did you mean" not in unicode.content
    ping = await mia.slash("settings timezone", tz="@everyone")
    assert refused(ping, "not a timezone I know")
    blank = await mia.slash("settings timezone", tz="   ")
    assert refused(blank, "Give a timezone name")
    with pytest.raises(CommandUnavailable, match="at most 64 characters"):
        await mia.slash("settings timezone", tz="Europe/" + "x" * 58)
    too_long = await forged(group, mia, "settings timezone", tz="Europe/" + "x" * 300)
    assert refused(too_long, "at most 64 characters")
    assert (await shown(mia))["Timezone"] == "Europe/Berlin"


async def test_concurrent_timezone_changes_each_get_an_answer(group: StudyGroup) -> None:
    zones = ["Asia/Tokyo", "America/New_York", "Africa/Lagos", "Europe/Paris"]
    replies = await asyncio.gather(
        *(group.mia.slash("settings timezone", tz=zone) for zone in zones)
    )
    # Each is applied and answered with its own zone (no lock error, no incident, no answer that
    # names another caller's change); the last write wins.
    for zone, reply in zip(zones, replies, strict=True):
        assert reply.ephemeral and reply.content.startswith(f"The group's timezone is now **{zone}")
    assert (await shown(group.mia))["Timezone"] in zones


async def test_settings_week_start_moves_the_study_week(group: StudyGroup) -> None:
    await group.sam.slash("goal add", text="Chapter 4")
    before = await group.sam.slash("goal list")
    assert before.embed["title"].endswith("week of 16 Nov")  # Monday
    done = await group.mia.slash("settings week-start", day=6)
    assert done.ephemeral and "**Sunday**" in done.content
    assert (await shown(group.mia))["Week starts on"] == "Sunday"
    after = await group.sam.slash("goal list")
    assert after.embed["title"].endswith("week of 15 Nov")  # the Sunday before Wed 18 Nov
    with pytest.raises(CommandUnavailable, match="not one of the choices"):
        await group.mia.slash("settings week-start", day=7)
    out_of_range = await forged(group, group.mia, "settings week-start", day=9)
    assert refused(out_of_range, "That value isn't valid here: 9")
    assert (await shown(group.mia))["Week starts on"] == "Sunday"


async def test_settings_channel_checks_the_bot_can_post_there(group: StudyGroup) -> None:
    guild, mia = group.guild, group.mia
    done = await mia.slash("settings channel", purpose="checkins", channel=group.general)
    assert done.ephemeral and f"<#{group.general.id}>" in done.content
    locked = guild.add_text_channel("locked")
    locked.set_permissions(guild.bot_role, deny=SEND_MESSAGES)
    warned = await mia.slash("settings channel", purpose="reviews", channel=locked)
    assert refused(warned, f"can't post in <#{locked.id}>", "missing Send Messages")
    assert "nothing was changed" in warned.content
    no_files = guild.add_text_channel("no-files")
    no_files.set_permissions(guild.bot_role, deny=ATTACH_FILES)
    warned = await mia.slash("settings channel", purpose="reviews", channel=no_files)
    assert refused(warned, "I'm missing Attach Files there.")  # charts need it; nothing else
    category = guild.add_category("Study")
    with pytest.raises(CommandUnavailable, match="channel type 4"):
        await mia.slash("settings channel", purpose="faq", channel=category)
    with pytest.raises(CommandUnavailable, match="not one of the choices"):
        await mia.slash("settings channel", purpose="memes", channel=group.general)
    elsewhere = group.other_guild.channel("lobby")
    foreign = await forged(group, mia, "settings channel", purpose="faq", channel=elsewhere)
    assert refused(foreign, "That value isn't valid here: lobby")
    unknown = await forged(group, mia, "settings channel", purpose="memes", channel=group.general)
    assert refused(unknown, "That value isn't valid here: memes")
    fields = await shown(mia)
    assert fields["Checkins channel"] == f"<#{group.general.id}>"
    assert fields["Reviews channel"] == "not set" and fields["Faq channel"] == "not set"
    assert group.posts(locked) == []


async def test_settings_reviewers_is_one_to_three(group: StudyGroup) -> None:
    done = await group.mia.slash("settings reviewers", count=3)
    assert done.ephemeral and "**3** reviewers" in done.content
    one = await group.mia.slash("settings reviewers", count=1)
    assert "**1** reviewer." in one.content
    for count in (0, 4):
        with pytest.raises(CommandUnavailable):
            await group.mia.slash("settings reviewers", count=count)
    forged_four = await forged(group, group.mia, "settings reviewers", count=4)
    assert refused(forged_four, "1 to 3 reviewers")
    with pytest.raises(TypeError):
        await group.mia.slash("settings reviewers", count="two")
    assert (await shown(group.mia))["Reviewers per submission"] == "1"


async def test_the_moderator_role_makes_moderators(group: StudyGroup) -> None:
    guild, mia, ada, sam = group.guild, group.mia, group.ada, group.sam
    mentors = guild.add_role("Mentors", mentionable=True)
    ada.add_role(mentors)
    done = await mia.slash("settings moderator-role", role=mentors)
    assert done.ephemeral and f"<@&{mentors.id}>" in done.content
    assert (await shown(mia))["Moderator role"] == f"<@&{mentors.id}>"
    # Discord still hides the command from her until the server opens it to the role.
    with pytest.raises(CommandUnavailable, match="default_member_permissions"):
        await ada.slash("settings show")
    open_to_everyone(group, "settings", "schedule")

    changed = await ada.slash("settings reviewers", count=3)
    assert "**3** reviewers" in changed.content
    listed = await ada.slash("schedule list")
    assert "No schedules yet" in listed.embed["description"]
    denied = await sam.slash("settings reviewers", count=1)
    assert refused(denied, "Only moderators")
    ada.remove_role(mentors)
    demoted = await ada.slash("schedule list")
    assert refused(demoted, "Only moderators") and demoted.embeds == []
    everyone = await mia.slash("settings moderator-role", role=guild.everyone)
    assert refused(everyone, "@everyone can't be the moderator role")
    fields = await shown(mia)
    assert fields["Moderator role"] == f"<@&{mentors.id}>"
    assert fields["Reviewers per submission"] == "3"


async def test_a_plain_member_is_refused_moderator_commands(group: StudyGroup) -> None:
    sam = group.sam
    for command, options in [
        ("settings show", {}),
        ("settings timezone", {"tz": "Asia/Tokyo"}),
        ("settings week-start", {"day": 6}),
        ("settings channel", {"purpose": "announcements", "channel": group.general}),
        ("settings moderator-role", {"role": group.guild.everyone}),
        ("settings reviewers", {"count": 1}),
    ]:
        with pytest.raises(CommandUnavailable, match="hidden from Sam"):
            await sam.slash(command, **options)
        # A client that ignores Discord's rule meets the bot's own check.
        answer = await forged(group, sam, command, **options)
        assert refused(answer, "Only moderators"), command
        assert answer.embeds == []
    fields = await shown(group.mia)
    assert (fields["Timezone"], fields["Week starts on"]) == ("UTC", "Monday")
    assert fields["Announcements channel"] == "not set"
    assert fields["Reviewers per submission"] == "2"
    assert fields["Moderator role"] == "only Manage Server"
    assert group.posts(group.general) == []


async def test_another_server_has_its_own_settings(group: StudyGroup) -> None:
    await group.mia.slash("settings timezone", tz="Europe/Berlin")
    await group.mia.slash("settings channel", purpose="announcements", channel=group.announcements)
    olga = group.other_guild.add_member("Olga", permissions=MANAGE_GUILD)
    theirs = await shown(olga)
    assert theirs["Timezone"] == "UTC" and theirs["Announcements channel"] == "not set"
    await olga.slash("settings timezone", tz="Asia/Tokyo")
    ours = await shown(group.mia)
    assert ours["Timezone"] == "Europe/Berlin"
    assert ours["Announcements channel"] == f"<#{group.announcements.id}>"
    assert (await shown(olga))["Timezone"] == "Asia/Tokyo"
    # Zoe moderates nothing here, whatever she can do elsewhere.
    with pytest.raises(CommandUnavailable):
        await group.zoe.slash("settings show")


# -- /me ------------------------------------------------------------------------------------------
async def test_me_timezone_sets_and_resets_the_members_own_zone(group: StudyGroup) -> None:
    sam, guild = group.sam, group.guild
    preferences = group.bot.services.member_preferences
    (first, *_) = await sam.autocomplete("me timezone", "tz", typed="kolk")
    assert first.value == "Asia/Kolkata"
    assert len(await sam.autocomplete("me timezone", "tz", typed="e")) == 25
    done = await sam.slash("me timezone", tz=first.value)
    assert done.ephemeral and "Your timezone is now **Asia/Kolkata**" in done.content
    assert (await preferences.get(guild.id, sam.id)).timezone == "Asia/Kolkata"
    assert (await preferences.get(guild.id, group.ada.id)).timezone is None
    assert (await shown(group.mia))["Timezone"] == "UTC"  # the group's is untouched
    reset = await sam.slash("me timezone", tz="reset")
    assert "follow the group's timezone" in reset.content
    assert (await preferences.get(guild.id, sam.id)).timezone is None


async def test_me_timezone_refuses_what_is_not_a_zone(group: StudyGroup) -> None:
    sam, guild = group.sam, group.guild
    preferences = group.bot.services.member_preferences
    await sam.slash("me timezone", tz="Asia/Tokyo")
    for bad in ("Mars/Olympus_Mons", "Азия/Токио", "🕒", "@everyone", "x" * 64):
        answer = await sam.slash("me timezone", tz=bad)
        assert refused(answer, "not a timezone I know"), bad
    with pytest.raises(CommandUnavailable, match="at most 64"):
        await sam.slash("me timezone", tz="x" * 65)
    with pytest.raises(CommandUnavailable, match="at least 1"):
        await sam.slash("me timezone", tz="")
    too_long = await forged(group, sam, "me timezone", tz="Asia/" + "y" * 500)
    assert refused(too_long, "at most 64 characters")
    assert (await preferences.get(guild.id, sam.id)).timezone == "Asia/Tokyo"


async def test_me_reminders_on_and_off(group: StudyGroup) -> None:
    sam, guild = group.sam, group.guild
    preferences = group.bot.services.member_preferences
    assert (await preferences.get(guild.id, sam.id)).reminders_enabled is False
    on = await sam.slash("me reminders", enabled=True)
    assert on.ephemeral and "DM reminders are **on**" in on.content
    assert (await preferences.get(guild.id, sam.id)).reminders_enabled is True
    assert (await preferences.get(guild.id, group.ada.id)).reminders_enabled is False
    off = await sam.slash("me reminders", enabled=False)
    assert "DM reminders are **off**" in off.content
    assert (await preferences.get(guild.id, sam.id)).reminders_enabled is False
    with pytest.raises(TypeError):
        await sam.slash("me reminders", enabled="yes")
    # The same member twice at once, and someone else: each gets a real answer.
    replies = await asyncio.gather(
        sam.slash("me reminders", enabled=True),
        sam.slash("me reminders", enabled=True),
        group.ada.slash("me reminders", enabled=True),
    )
    assert all("**on**" in r.content for r in replies)
    assert (await preferences.get(guild.id, sam.id)).reminders_enabled is True
    # In another server Zoe's choice is hers alone.
    await group.zoe.slash("me reminders", enabled=True)
    assert (await preferences.get(group.other_guild.id, group.zoe.id)).reminders_enabled is True
    assert (await preferences.get(guild.id, group.zoe.id)).reminders_enabled is False


# -- the error handler ----------------------------------------------------------------------------
async def test_an_unexpected_error_gives_an_incident_id_and_logs_it(
    group: StudyGroup, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="bot.tree")
    path = group.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:  # someone broke the database under the running bot
        db.execute("ALTER TABLE member_preferences RENAME TO member_preferences_broken")
    answer = await group.sam.slash("me reminders", enabled=True)
    assert answer.ephemeral and answer.callback_type == 4
    assert "Something went wrong on our side" in answer.content
    match = INCIDENT.search(answer.content)
    assert match is not None
    assert "member_preferences" not in answer.content  # no internals shown to the user
    (record,) = [r for r in caplog.records if match.group(1) in r.getMessage()]
    assert record.levelno == logging.ERROR and "me reminders" in record.getMessage()
    assert record.exc_info is not None and "no such table" in str(record.exc_info[1])
    assert "Traceback" in caplog.text


async def test_an_error_after_deferring_is_answered_in_a_follow_up(
    group: StudyGroup, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.ERROR, logger="bot.tree")

    async def broken_chart(*_: object) -> bytes:
        raise RuntimeError("chart renderer exploded")

    monkeypatch.setattr(group.bot.services.progress, "chart", broken_chart)
    result = await group.sam.slash("progress")
    assert result.deferred and result.ephemeral
    reply = await result.wait_for_followup()
    assert reply.ephemeral and reply.attachments == []
    match = INCIDENT.search(reply.content)
    assert match is not None and "exploded" not in reply.content
    (record,) = [r for r in caplog.records if match.group(1) in r.getMessage()]
    assert record.exc_info is not None and isinstance(record.exc_info[1], RuntimeError)
    assert "broken_chart" in caplog.text  # the traceback, down to where it failed
    assert result.rejected_callbacks == []


# -- Discord's rate limits ------------------------------------------------------------------------
async def test_a_429_on_a_channel_post_is_retried_and_posted_once(group: StudyGroup) -> None:
    emu = group.emu
    reply = await group.mia.slash(
        "schedule add", kind="reminder", when="daily 13:00", channel=group.general,
        message="Quiz at 14:00",
    )  # fmt: skip
    schedule_id = int(reply.content.split("**#")[1].split("**")[0])
    emu.ratelimits.limit(MESSAGES, 1, per=0.5)
    # Another process with the same token (an old deploy still running) spends the bucket,
    # so the bot's own view of it is out of date and Discord answers 429.
    async with aiohttp.ClientSession() as http:
        spent = await http.post(
            f"{emu.api_base}/channels/{group.general.id}/messages",
            json={"content": "from the old process"},
            headers={"Authorization": f"Bot {emu.bot_token}"},
        )
        assert spent.status == 200
    ran = await group.mia.slash("schedule run", schedule=schedule_id)
    answer = await ran.wait_for_followup()
    assert answer.content.startswith("Posted: ")
    statuses = [r.status for r in emu.requests_to(MESSAGES)]
    assert statuses == [200, 429, 200]
    assert emu.ratelimits.hits == [(MESSAGES, str(group.general.id), False)]
    limited = next(r for r in emu.requests_to(MESSAGES) if r.status == 429)
    assert limited.response["global"] is False and limited.headers["X-RateLimit-Scope"] == "user"
    (posted,) = [m for m in group.posts(group.general) if "Quiz at 14:00" in m.content]
    assert str(posted.id) in answer.content


async def test_a_429_on_an_interaction_follow_up_is_retried(group: StudyGroup) -> None:
    emu = group.emu
    await group.sam.slash("checkin", hours=2)
    emu.faults.fail(FOLLOWUP, 429, retry_after=0.2)
    result = await group.sam.slash("progress", weeks=2)
    (reply,) = await result.followups(1)
    assert [r.status for r in emu.requests_to(FOLLOWUP)] == [429, 200]
    assert reply.ephemeral and reply.embeds[0]["title"] == "Progress — Sam"
    (chart,) = reply.attachments
    assert chart.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(result.followup_messages) == 1


# -- invite permissions ---------------------------------------------------------------------------
def readme_invite_permissions() -> tuple[set[str], int]:
    text = README.read_text()
    match = re.search(r"bot\s+permissions\s+(.*?)\(permissions integer `(\d+)`\)", text, re.DOTALL)
    assert match is not None, "README's invite section names the bot permissions and integer"
    labels = re.findall(r"\*\*(.+?)\*\*", match.group(1))
    unknown = [label for label in labels if label not in PERMISSION_LABELS]
    assert unknown == [], f"unknown permission labels in README: {unknown}"
    return {PERMISSION_LABELS[label] for label in labels}, int(match.group(2))


async def test_the_readme_invite_permissions_are_enough_for_the_bot(group: StudyGroup) -> None:
    names, integer = readme_invite_permissions()
    listed = discord.Permissions(**dict.fromkeys(names, True)).value
    assert integer == listed, f"README lists {sorted(names)} = {listed}, but says {integer}"
    assert set(POSTING_PERMISSIONS) <= names

    # A server where the bot has exactly those permissions and @everyone has none.
    emu = group.emu
    strict = emu.world.add_guild("Strict Group", bot_permissions=integer)
    strict.everyone.permissions = 0
    emu.dispatch(
        "GUILD_ROLE_UPDATE", {"guild_id": str(strict.id), "role": strict.everyone.to_json()}
    )
    study = strict.add_text_channel("study")
    people = strict.add_role("People", VIEW_CHANNEL | SEND_MESSAGES | USE_APPLICATION_COMMANDS)
    olga = strict.add_member("Olga", roles=[people], permissions=MANAGE_GUILD)
    await emu.wait_until(lambda: group.bot.get_channel(study.id) is not None, what="the guild")
    cached = group.bot.get_guild(strict.id)
    assert cached is not None and cached.default_role.permissions.value == 0

    chosen = await olga.slash("settings channel", purpose="announcements", channel=study)
    assert "will be posted in" in chosen.content, chosen.content
    schedules = await olga.slash("schedule list")
    for field in schedules.embed["fields"]:  # the weekly rhythm: buttons, embeds, a chart
        schedule_id = int(field["name"].split("·")[0].strip().lstrip("#"))
        await (await olga.slash("schedule run", schedule=schedule_id)).wait_for_followup()
    posts = group.posts(study)
    assert len(posts) == 3
    assert any(p.attachments for p in posts) and all(p.embeds for p in posts)
    assert [r for r in emu.requests if r.status == 403] == []


async def test_the_bot_asks_only_for_the_intents_it_uses(group: StudyGroup) -> None:
    """Guilds (channels deleted, servers joined and left) and Server Members (members who
    leave): no messages, reactions, typing, voice, invites or presences."""
    session = group.emu.gateway.session
    assert session is not None and session.intents == gateway.GUILDS | gateway.GUILD_MEMBERS
    sent_before = len(session.sent)
    channel = str(group.general.id)
    await group.sam.say("hello everyone", channel=group.general)
    unused = {
        "TYPING_START": {"channel_id": channel, "user_id": str(group.sam.id), "timestamp": 0},
        "MESSAGE_REACTION_ADD": {"channel_id": channel, "message_id": "1", "user_id": "2",
                                 "emoji": {"id": None, "name": "👍"}},
        "INVITE_CREATE": {"channel_id": channel, "code": "abc"},
        "VOICE_STATE_UPDATE": {"channel_id": None, "user_id": str(group.sam.id)},
        "PRESENCE_UPDATE": {"user": {"id": str(group.sam.id)}, "status": "online"},
    }  # fmt: skip
    for event, data in unused.items():
        assert group.emu.dispatch(event, {**data, "guild_id": str(group.guild.id)}) is None, event
    assert len(session.sent) == sent_before
    with pytest.raises(ValueError, match="intent"):  # no event slips past the filter unnamed
        group.emu.dispatch("SOMETHING_NEW", {})
    # What it does use still arrives: a member leaving.
    bob = group.guild.add_member("Bob")
    bob.leave()
    assert any(p["t"] == "GUILD_MEMBER_REMOVE" for _, p in session.sent[sent_before:])
