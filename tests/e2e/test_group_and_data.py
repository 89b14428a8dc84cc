"""/group overview and export, /me data and forget, and guilds and members coming and going,
through the local Discord emulator."""

from __future__ import annotations

import asyncio
import csv
import gzip
import io
import json
import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.services.lifecycle import GUILD_LEFT_REASON
from db.repositories.member_records import FORMER_MEMBER
from db.repositories.nudges import NudgeRepository
from db.schema.reviews import review_assignments
from discord_emulator import CommandUnavailable, InteractionResult, Member, PostedMessage
from discord_emulator import interactions as emulator_interactions
from tests.e2e.conftest import NOW, StudyGroup, eventually, refused
from tests.seeding import checkin_row, goal_row, insert_rows

pytestmark = pytest.mark.e2e

THIS_WEEK = NOW.date() - timedelta(days=NOW.weekday())


async def study(group: StudyGroup) -> None:
    await group.sam.slash("goal add", text="Finish module 3 📚 @everyone", hours=2)
    await group.sam.slash("checkin", hours=1.5, done="Read <@&1> notes")
    await group.ada.slash("goal add", text="Ada's goal")
    await group.zoe.slash("goal add", text="Zoe elsewhere")


def open_to_everyone(group: StudyGroup, name: str) -> None:
    """A server may open a moderator command to everyone; the bot still checks."""
    registered = group.emu.commands.find(name, guild_id=None, type=1)
    assert registered is not None
    registered.data["default_member_permissions"] = None


# ----------------------------------------------------------------------------- /group overview


async def test_overview_shows_the_weeks_figures_to_moderators(group: StudyGroup) -> None:
    await study(group)
    result = await group.mia.slash("group overview")
    message = await result.wait_for_followup()
    assert message.ephemeral
    (embed,) = message.embeds
    assert embed["title"] == "Group overview · Week of 16 Nov"
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["This week"].startswith("**2** active · **1** checked in · median 1.5 h")
    assert "goals done 0/2" in fields["This week"]
    assert fields["Check-in rate"].startswith("50% (1 of 2 members")
    assert "Nobody is drifting" in embed["description"]
    assert message.components == []  # one page: no buttons
    group.emu.messages.assert_nobody_pinged()


async def test_overview_is_for_moderators_only(group: StudyGroup) -> None:
    with pytest.raises(CommandUnavailable):
        await group.sam.slash("group overview")
    open_to_everyone(group, "group")
    assert refused(await group.sam.slash("group overview"), "Only moderators")
    assert refused(await group.sam.slash("group export"), "Only moderators")


async def test_a_long_drifting_list_pages_with_buttons(group: StudyGroup) -> None:
    quiet_week = THIS_WEEK - timedelta(days=14)
    drifters = [5_000 + i for i in range(13)]
    await insert_rows(
        group.bot.database.engine,
        [],
        [checkin_row(group.guild.id, user, quiet_week) for user in drifters],
    )
    result = await group.mia.slash("group overview")
    message = await result.wait_for_followup()
    (first,) = message.embeds
    assert first["description"].startswith("**Drifting (13)**")
    assert first["description"].count("no check-in for 2 study weeks") == 10
    assert first["footer"]["text"] == "Page 1 of 2"
    assert message.button_labels() == ["Previous", "Next"]

    page = await group.mia.click(message, "Next")
    (second,) = page.original.embeds
    assert second["footer"]["text"] == "Page 2 of 2"
    assert second["description"].count("<@50") == 3
    back = await group.mia.click(page.original, "Previous")
    assert back.original.embeds[0]["footer"]["text"] == "Page 1 of 2"
    group.emu.messages.assert_nobody_pinged()


# ----------------------------------------------------------------------------- /group export


async def test_export_is_a_csv_of_members_and_weeks(group: StudyGroup) -> None:
    await study(group)
    last_week = THIS_WEEK - timedelta(days=7)
    await insert_rows(
        group.bot.database.engine,
        [goal_row(group.guild.id, group.ada.user.id, last_week, 1, done=True)],
    )
    result = await group.mia.slash("group export")
    message = await result.wait_for_followup()
    assert message.ephemeral and "3 rows" in message.content
    (attachment,) = message.attachments
    assert attachment.filename == f"cohort-progress-{THIS_WEEK.isoformat()}.csv"
    rows = list(csv.reader(io.StringIO(attachment.data.decode())))
    assert rows[0][:3] == ["week_start", "member_id", "goals_set"]
    by_member = {(int(r[1]), r[0]): r[2:] for r in rows[1:]}
    sam, ada = group.sam.user.id, group.ada.user.id
    assert by_member == {
        (sam, THIS_WEEK.isoformat()): ["1", "0", "1.5", "1", "0", "0"],
        (ada, last_week.isoformat()): ["1", "1", "0", "0", "0", "0"],
        (ada, THIS_WEEK.isoformat()): ["1", "0", "0", "0", "0", "0"],
    }


async def test_export_of_an_empty_group(group: StudyGroup) -> None:
    result = await group.mia.slash("group export")
    message = await result.wait_for_followup()
    assert "Nothing to export yet" in message.content
    (attachment,) = message.attachments
    assert attachment.data.decode().count("\r\n") == 1


async def test_an_export_too_big_to_attach_is_compressed(
    group: StudyGroup, monkeypatch: pytest.MonkeyPatch
) -> None:
    weeks = [THIS_WEEK - timedelta(days=7 * i) for i in range(4)]
    await insert_rows(
        group.bot.database.engine,
        [],
        [checkin_row(group.guild.id, 7_000 + i, week) for i in range(200) for week in weeks],
    )
    monkeypatch.setattr(emulator_interactions, "ATTACHMENT_SIZE_LIMIT", 20_000)
    message = await (await group.mia.slash("group export")).wait_for_followup()
    (attachment,) = message.attachments
    assert attachment.filename.endswith(".csv.gz") and len(attachment.data) <= 20_000
    text = gzip.decompress(attachment.data).decode()
    assert text.count("\r\n") == 1 + 200 * 4 and "800 rows" in message.content

    monkeypatch.setattr(emulator_interactions, "ATTACHMENT_SIZE_LIMIT", 100)
    too_big = await group.mia.slash("group export")
    await too_big.wait_until(lambda r: "larger than Discord" in r.content)
    assert too_big.ephemeral


# ----------------------------------------------------------------------------- /me data


async def test_me_data_is_a_json_file_of_the_callers_own_data(group: StudyGroup) -> None:
    await study(group)
    await group.sam.slash("me reminders", enabled=True)
    result = await group.sam.slash("me data")
    message = await result.wait_for_followup()
    assert message.ephemeral
    (attachment,) = message.attachments
    assert attachment.filename == "cohort-my-data.json"
    data = json.loads(attachment.data)
    assert data["user_id"] == str(group.sam.user.id)
    assert data["guild_id"] == str(group.guild.id)
    assert [g["text"] for g in data["goals"]] == ["Finish module 3 📚 @everyone"]
    assert data["check_ins"][0]["done"] == "Read <@&1> notes"
    assert data["preferences"]["reminders_enabled"] is True
    assert "Ada's goal" not in attachment.data.decode()
    assert "Zoe elsewhere" not in attachment.data.decode()
    group.emu.messages.assert_nobody_pinged()


# ----------------------------------------------------------------------------- /me forget


async def forget_prompt(member: Member) -> PostedMessage:
    result = await member.slash("me forget")
    assert result.ephemeral and "Delete it all?" in result.content
    assert result.original is not None
    assert result.original.button_labels() == ["Delete my data", "Cancel"]
    return result.original


async def forge_press(
    group: StudyGroup, member: Member, carrier: PostedMessage, custom_id: str
) -> InteractionResult:
    """A press of a button carrying `custom_id` that `member` was never given: a client that
    rewrote the custom_id of a button on its own message."""
    engine = group.emu.interactions
    press = engine.component(
        member.user, member, member.guild, carrier, {"type": 2, "custom_id": custom_id}
    )
    return await engine.send(press)


async def goal_texts(member: Member) -> str:
    listed = await member.slash("goal list")
    return listed.embed["description"]


async def test_forget_deletes_the_members_data_after_confirming(group: StudyGroup) -> None:
    await study(group)
    prompt = await forget_prompt(group.sam)
    done = await group.sam.click(prompt, "Delete my data")
    await done.wait_until(lambda r: r.original is not None and "Done" in r.original.content)
    text = done.original.content
    assert "Deleted: 1 goals · 1 check-ins" in text
    assert done.original.components == []
    assert "Finish module 3" not in await goal_texts(group.sam)
    assert "Ada's goal" in await goal_texts(group.ada)
    data = json.loads(
        (await (await group.sam.slash("me data")).wait_for_followup()).attachments[0].data
    )
    assert data["goals"] == [] and data["check_ins"] == [] and data["preferences"] is None


async def test_cancel_keeps_everything(group: StudyGroup) -> None:
    await study(group)
    prompt = await forget_prompt(group.sam)
    cancelled = await group.sam.click(prompt, "Cancel")
    assert "nothing was deleted" in cancelled.original.content.lower()
    assert "Finish module 3" in await goal_texts(group.sam)


async def test_a_forged_press_by_another_member_does_nothing_and_is_logged(
    group: StudyGroup, caplog: pytest.LogCaptureFixture
) -> None:
    await study(group)
    sams = (await forget_prompt(group.sam)).find_component("Delete my data")["custom_id"]
    adas_own = await forget_prompt(group.ada)
    with caplog.at_level(logging.WARNING, logger="cogs._forget"):
        forged = await forge_press(group, group.ada, adas_own, sams)
    assert refused(forged, "Only the member who asked")
    assert any("refused a /me forget" in r.getMessage() for r in caplog.records)
    assert "Finish module 3" in await goal_texts(group.sam)
    assert "Ada's goal" in await goal_texts(group.ada)


async def test_a_press_from_another_guild_does_nothing_and_is_logged(
    group: StudyGroup, caplog: pytest.LogCaptureFixture
) -> None:
    await study(group)
    sams = (await forget_prompt(group.sam)).find_component("Delete my data")["custom_id"]
    # Sam in another server the bot is in: his own button, pressed from the wrong guild.
    sam_elsewhere = group.other_guild.add_member(group.sam.user)
    carrier = await forget_prompt(sam_elsewhere)
    zoes = await forget_prompt(group.zoe)
    with caplog.at_level(logging.WARNING, logger="cogs._forget"):
        from_elsewhere = await forge_press(group, sam_elsewhere, carrier, sams)
        by_zoe = await forge_press(group, group.zoe, zoes, sams)
    assert refused(from_elsewhere, "Only the member who asked")
    assert refused(by_zoe, "Only the member who asked")
    assert sum("refused a /me forget" in r.getMessage() for r in caplog.records) == 2
    assert "Finish module 3" in await goal_texts(group.sam)
    assert "Zoe elsewhere" in await goal_texts(group.zoe)


async def test_an_old_confirmation_expires(group: StudyGroup) -> None:
    await study(group)
    prompt = await forget_prompt(group.sam)
    group.clock.advance(timedelta(minutes=11))
    late = await group.sam.click(prompt, "Delete my data")
    assert refused(late, "expired")
    assert "Finish module 3" in await goal_texts(group.sam)


async def test_two_presses_at_once_forget_once(group: StudyGroup) -> None:
    await study(group)
    prompt = await forget_prompt(group.sam)
    await asyncio.gather(
        group.sam.click(prompt, "Delete my data"), group.sam.click(prompt, "Delete my data")
    )
    await group.emu.wait_until(lambda: len(prompt.edits) >= 2, what="both presses answered")
    texts = [edit["content"] for edit in prompt.edits[1:]] + [prompt.content]
    assert sum("Deleted: 1 goals · 1 check-ins" in text for text in texts) == 1
    assert sum("nothing stored about you" in text for text in texts) == 1
    assert "Finish module 3" not in await goal_texts(group.sam)


# ----------------------------------------------------------------------------- lifecycle


async def test_removed_bot_stops_schedules_at_once_and_purges_after_30_days(
    group: StudyGroup,
) -> None:
    await study(group)
    added = await group.mia.slash(
        "schedule add", kind="reminder", when="daily 13:00", channel=group.general, message="Hi"
    )
    assert "Added schedule" in added.content
    lifecycle = group.bot.services.lifecycle
    guild_id = group.guild.id

    group.guild.remove_bot()

    async def departed() -> bool:
        return guild_id in await lifecycle.departed_guilds()

    await eventually(departed, "the departure to be recorded")
    (info,) = await group.bot.services.schedules.for_guild(guild_id)
    assert info.schedule.disabled_reason == GUILD_LEFT_REASON and info.next_fire is None
    group.clock.advance(timedelta(hours=2))
    assert await group.scheduler.run_due() == []

    group.clock.advance(timedelta(days=29))
    assert await lifecycle.purge_due() == []
    group.clock.advance(timedelta(days=1))
    assert await lifecycle.purge_due() == [guild_id]
    assert await group.bot.services.schedules.for_guild(guild_id) == []
    export = await group.bot.services.member_data.export(guild_id, group.sam.user.id)
    assert export["goals"] == [] and export["check_ins"] == []
    # The other server is untouched.
    zoe = await group.bot.services.member_data.export(group.other_guild.id, group.zoe.user.id)
    assert [g["text"] for g in zoe["goals"]] == ["Zoe elsewhere"]


async def test_nothing_is_lost_when_the_bot_comes_back(group: StudyGroup) -> None:
    await study(group)
    await group.mia.slash(
        "schedule add", kind="reminder", when="daily 13:00", channel=group.general, message="Hi"
    )
    lifecycle = group.bot.services.lifecycle
    guild_id = group.guild.id
    group.guild.remove_bot()

    async def departed() -> bool:
        return guild_id in await lifecycle.departed_guilds()

    await eventually(departed, "the departure to be recorded")
    group.clock.advance(timedelta(days=20))
    group.guild.bot_present = True
    group.emu.gateway.send_guild_create(group.guild)

    async def back() -> bool:
        return not await departed()

    await eventually(back, "the return to be noticed")
    group.clock.advance(timedelta(days=15))
    assert await lifecycle.purge_due() == []
    (info,) = await group.bot.services.schedules.for_guild(guild_id)
    assert info.schedule.active and info.next_fire is not None
    result = await group.sam.slash("me data")
    data = json.loads((await result.wait_for_followup()).attachments[0].data)
    assert [g["text"] for g in data["goals"]] == ["Finish module 3 📚 @everyone"]


async def test_a_removal_while_offline_is_noticed_at_the_next_start(group: StudyGroup) -> None:
    await study(group)
    guild_id = group.guild.id
    runner = group._stack.pop()
    await runner.__aexit__(None, None, None)
    group.guild.bot_present = False  # removed while Cohort was down: no event ever arrives
    group._stack.append(runner)
    await group.restart()
    lifecycle = group.bot.services.lifecycle

    async def departed() -> bool:
        return guild_id in await lifecycle.departed_guilds()

    await eventually(departed, "the missed removal to be noticed")
    assert group.other_guild.id not in await lifecycle.departed_guilds()


async def test_a_member_who_leaves_drops_out_of_nudges_but_keeps_their_data(
    group: StudyGroup,
) -> None:
    await study(group)
    await group.sam.slash("me reminders", enabled=True)
    await group.ada.slash("me reminders", enabled=True)
    lifecycle = group.bot.services.lifecycle
    guild_id, sam_id = group.guild.id, group.sam.user.id
    group.sam.leave()  # GUILD_MEMBER_REMOVE reaches the bot through its Server Members intent

    async def left() -> bool:
        return sam_id in await lifecycle.departed_members(guild_id)

    await eventually(left, "the member's departure to be recorded")
    targets = await NudgeRepository(group.bot.database.engine).targets(
        guild_id, group.clock.now(), timedelta(days=30)
    )
    assert [t.user_id for t in targets] == [group.ada.user.id]
    data = await group.bot.services.member_data.export(guild_id, sam_id)
    assert [g["text"] for g in data["goals"]] == ["Finish module 3 📚 @everyone"]
    assert data["membership"]["left_at"] is not None


# ----------------------------------------------------------------------------- with peer review


async def test_peer_review_shows_in_overview_export_and_forget(group: StudyGroup) -> None:
    bob, cy = group.guild.add_member("Bob"), group.guild.add_member("Cy")
    for member in (group.sam, group.ada, bob, cy):
        reply = await member.slash("review submit", link=f"https://github.com/{member.id}/app")
        assert reply.ephemeral
    await (await group.mia.slash("review pair")).wait_for_followup()
    first, *_rest = await group.ada.autocomplete("review done", "submission", typed="")
    await group.ada.slash("review done", submission=first.value, feedback="Clear code")
    group.clock.advance(timedelta(days=8))  # the other reviews are now overdue

    overview = await (await group.mia.slash("group overview")).wait_for_followup()
    (embed,) = overview.embeds
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Reviews owed"] == "7 (7 overdue)"
    assert embed["description"].count("owes 2 overdue reviews") == 3  # Sam, Bob and Cy
    assert embed["description"].count("owes 1 overdue review") == 1  # Ada

    export = await (await group.mia.slash("group export")).wait_for_followup()
    rows = list(csv.reader(io.StringIO(export.attachments[0].data.decode())))
    reviews = {(int(r[1]), r[0]): (r[6], r[7]) for r in rows[1:]}
    assert reviews[(group.ada.id, THIS_WEEK.isoformat())] == ("1", "0")
    assert sum(int(given) for given, _ in reviews.values()) == 1

    prompt = await forget_prompt(group.ada)
    done = await group.ada.click(prompt, "Delete my data")
    await done.wait_until(lambda r: r.original is not None and "Done" in r.original.content)
    text = done.original.content
    assert "1 peer-review submissions" in text
    assert "Kept without your name (as “a former member”): 1 reviews you gave" in text
    assert "Handed to other reviewers: 1 reviews you owed" in text
    async with group.bot.database.engine.connect() as conn:
        kept = (
            await conn.execute(
                select(review_assignments.c.reviewer_id).where(
                    review_assignments.c.feedback == "Clear code"
                )
            )
        ).all()
    assert kept == [(FORMER_MEMBER,)]  # the author keeps the review, without Ada's name
    overview = await (await group.mia.slash("group overview")).wait_for_followup()
    fields = {f["name"]: f["value"] for f in overview.embeds[0]["fields"]}
    assert fields["Reviews owed"].startswith("5 (")  # Ada's 1 moved; her work's 2 gone
