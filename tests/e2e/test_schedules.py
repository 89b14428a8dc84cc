"""Schedules as moderators and members meet them, through the local Discord emulator."""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.services.announcements import Post
from bot.services.occurrences import LEASE, nonce_for
from bot.services.schedules import MAX_SCHEDULES_PER_GUILD
from cogs._publisher import DiscordPublisher
from db.repositories.occurrences import OccurrenceRepository
from discord_emulator import MANAGE_GUILD, SEND_MESSAGES, CommandUnavailable, permissions
from tests.e2e.conftest import StudyGroup, study_group

pytestmark = pytest.mark.e2e

AT_13 = datetime(2026, 11, 18, 13, 0, tzinfo=UTC)  # an hour after the fixture's frozen clock
PNG = b"\x89PNG\r\n\x1a\n"


class ShiftedClock:
    """Real time, moved to just before a fire time, so the real timer fires on its own."""

    def __init__(self, now: datetime) -> None:
        self._offset = now - datetime.now(UTC)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset


async def add_schedule(group: StudyGroup, kind: str, when: str, **options: object) -> int:
    """`/schedule add` as the moderator; returns the new schedule's id."""
    reply = await group.mia.slash(
        "schedule add", kind=kind, when=when, channel=options.pop("channel", group.general),
        **options,
    )  # fmt: skip
    assert "Added schedule" in reply.content, reply.content
    return int(reply.content.split("**#")[1].split("**")[0])


async def test_an_added_reminder_is_posted_at_its_minute(tmp_path: Path) -> None:
    async with study_group(tmp_path, ShiftedClock(AT_13 - timedelta(seconds=2))) as g:
        await add_schedule(g, "reminder", "daily 13:00", message="Read chapter 3 before the call")
        posted = await g.emu.messages.wait_for(
            lambda m: "Read chapter 3" in m.content, channel=g.general, timeout=10
        )
        assert g.clock.now() >= AT_13
        assert posted.nonce and posted.pings.anyone is False
    assert len([m for m in g.posts(g.general) if "Read chapter 3" in m.content]) == 1


async def test_a_role_in_a_reminder_pings_but_everyone_does_not(group: StudyGroup) -> None:
    learners = group.guild.add_role("Learners", mentionable=True)
    await add_schedule(
        group, "reminder", "daily 13:00", message=f"<@&{learners.id}> @everyone quiz time"
    )
    group.clock.set(AT_13)
    await group.scheduler.run_due()
    (posted,) = group.posts(group.general)
    assert posted.pings.roles == {learners.id}
    assert not posted.pings.everyone and not posted.pings.users


async def test_list_shows_the_next_fire_time_in_group_time(group: StudyGroup) -> None:
    await group.mia.slash("settings timezone", tz="Europe/Berlin")
    schedule_id = await add_schedule(group, "goal-prompt", "mon 09:00")
    listed = await group.mia.slash("schedule list")
    assert listed.ephemeral and listed.embed is not None
    (field,) = listed.embed["fields"]
    assert field["name"] == f"#{schedule_id} · goal-prompt"
    monday = int(datetime(2026, 11, 23, 8, 0, tzinfo=UTC).timestamp())  # 09:00 in Berlin
    assert "Mon 23 Nov 09:00 (Europe/Berlin)" in field["value"]
    assert f"<t:{monday}:F>" in field["value"]


async def test_a_bad_when_lists_the_accepted_forms(group: StudyGroup) -> None:
    reply = await group.mia.slash(
        "schedule add", kind="reminder", when="every tuesday-ish", channel=group.general,
        message="hi",
    )  # fmt: skip
    assert reply.ephemeral and "mon,thu 18:30" in reply.content and "cron" in reply.content


async def test_run_posts_now_and_keeps_the_cadence(group: StudyGroup) -> None:
    schedule_id = await add_schedule(group, "reminder", "daily 13:00", message="Stand-up notes")
    ran = await group.mia.slash("schedule run", schedule=schedule_id)
    reply = await ran.wait_for_followup()
    (posted,) = group.posts(group.general)
    assert "Stand-up notes" in posted.content and str(posted.id) in reply.content
    listed = await group.mia.slash("schedule list")
    assert "Wed 18 Nov 13:00" in listed.embed["fields"][0]["value"]


async def test_pause_resume_and_remove(group: StudyGroup) -> None:
    schedule_id = await add_schedule(group, "reminder", "daily 13:00", message="Paused soon")
    choices = await group.mia.autocomplete("schedule pause", "schedule", typed="remind")
    assert [c.value for c in choices] == [schedule_id]
    await group.mia.slash("schedule pause", schedule=schedule_id)
    group.clock.set(AT_13)
    assert await group.scheduler.run_due() == []
    resumed = await group.mia.slash("schedule resume", schedule=schedule_id)
    assert "Thu 19 Nov 13:00" in resumed.content
    await group.mia.slash("schedule remove", schedule=schedule_id)
    listed = await group.mia.slash("schedule list")
    assert "No schedules yet" in listed.embed["description"]
    assert group.posts(group.general) == []


async def test_first_announcements_channel_sets_up_the_weekly_rhythm(group: StudyGroup) -> None:
    reply = await group.mia.slash(
        "settings channel", purpose="announcements", channel=group.announcements
    )
    assert "goal-prompt: Mondays at 09:00" in reply.content
    assert "checkin-prompt: Thursdays at 18:00" in reply.content
    assert "weekly-summary: Sundays at 18:00" in reply.content
    again = await group.mia.slash(
        "settings channel", purpose="announcements", channel=group.general
    )
    assert "weekly rhythm" not in again.content


async def test_the_checkin_prompt_button_works_after_a_restart(group: StudyGroup) -> None:
    schedule_id = await add_schedule(group, "checkin-prompt", "thu 18:00")
    await (await group.mia.slash("schedule run", schedule=schedule_id)).wait_for_followup()
    (prompt,) = group.posts(group.general)
    assert prompt.button_labels() == ["Check in"]
    await group.restart()

    opened = await group.ada.click(prompt, "Check in")
    assert opened.modal is not None
    answered = await group.ada.submit_modal(opened.modal, {"Hours studied today (0–100)": "2"})
    assert "Checked in" in answered.content


async def test_the_goal_prompt_offers_add_goal_and_the_carry_hint(group: StudyGroup) -> None:
    schedule_id = await add_schedule(group, "goal-prompt", "mon 09:00")
    await (await group.mia.slash("schedule run", schedule=schedule_id)).wait_for_followup()
    (prompt,) = group.posts(group.general)
    assert prompt.button_labels() == ["Add goal"]
    assert prompt.embeds[0]["title"] == "Week of 16 Nov: set your goals"
    assert "/goal carry" in prompt.embeds[0]["description"]


async def test_nudges_go_only_to_opted_in_members_who_have_not_checked_in(
    group: StudyGroup,
) -> None:
    cleo = group.guild.add_member(group.emu.world.add_user("Cleo", dms_open=False))
    for member in (group.sam, group.ada, cleo):
        await member.slash("me reminders", enabled=True)
    await group.ada.slash("checkin", hours=2)
    bob = group.guild.add_member("Bob")  # reminders off
    schedule_id = await add_schedule(group, "checkin-prompt", "thu 18:00")
    await (await group.mia.slash("schedule run", schedule=schedule_id)).wait_for_followup()
    await group.scheduler.run_nudges()

    (nudge,) = group.emu.messages.dms_to(group.sam)
    assert "Study Group" in nudge.content and "/checkin" in nudge.content
    assert group.emu.messages.dms_to(group.ada) == []
    assert group.emu.messages.dms_to(bob) == [] and group.emu.messages.dms_to(cleo) == []
    # Cleo's closed DMs were noted: the next prompt does not try her again.
    group.clock.advance(timedelta(minutes=1))
    await (await group.mia.slash("schedule run", schedule=schedule_id)).wait_for_followup()
    await group.scheduler.run_nudges()
    assert len(group.emu.messages.dms_to(group.sam)) == 2
    attempts = [r for r in group.emu.requests if r.status == 403 and "/messages" in r.path]
    assert len(attempts) == 1


async def test_the_weekly_summary_has_numbers_and_a_chart(group: StudyGroup) -> None:
    await group.sam.slash("checkin", hours=3)
    await group.ada.slash("checkin", hours=1.5)
    schedule_id = await add_schedule(group, "weekly-summary", "sun 18:00")
    await (await group.mia.slash("schedule run", schedule=schedule_id)).wait_for_followup()
    (summary,) = group.posts(group.general)
    embed = summary.embeds[0]
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Checked in"] == "2 members" and fields["Hours"].startswith("4.5 h in total")
    assert "Longest streaks" not in fields  # nobody has a streak worth naming yet
    (chart,) = summary.attachments
    assert embed["image"]["url"] == f"attachment://{chart.filename}"
    assert chart.data.startswith(PNG)
    width, height = struct.unpack(">II", chart.data[16:24])
    assert (width, height) == (1000, 500)
    assert not summary.pings.anyone


async def test_a_deleted_channel_disables_its_schedule(group: StudyGroup) -> None:
    await group.mia.slash("settings channel", purpose="announcements", channel=group.announcements)
    doomed = group.guild.add_text_channel("doomed")
    schedule_id = await add_schedule(
        group, "reminder", "daily 13:00", channel=doomed, message="Bye"
    )
    group.guild.delete_channel(doomed)
    notice = await group.emu.messages.wait_for(
        lambda m: f"#{schedule_id}" in m.content, channel=group.announcements
    )
    assert "deleted" in notice.content
    listed = await group.mia.slash("schedule list")
    field = next(f for f in listed.embed["fields"] if f["name"].startswith(f"#{schedule_id} "))
    assert "Disabled" in field["value"]
    group.clock.set(AT_13)
    assert await group.scheduler.run_due() == []


async def test_a_plain_member_cannot_see_or_use_schedule(group: StudyGroup) -> None:
    with pytest.raises(CommandUnavailable):
        await group.sam.slash("schedule list")
    # Even if a server opens the command to everyone, the bot checks again.
    registered = group.emu.commands.find("schedule", guild_id=None, type=1)
    assert registered is not None
    registered.data["default_member_permissions"] = None
    refused = await group.sam.slash("schedule list")
    assert refused.ephemeral and "Only moderators" in refused.content
    schedule_id = await add_schedule(group, "reminder", "daily 13:00", message="secret")
    assert await group.sam.autocomplete("schedule run", "schedule") == []
    refused = await group.sam.slash("schedule run", schedule=schedule_id)
    assert "Only moderators" in refused.content and group.posts(group.general) == []


async def test_another_guilds_schedule_is_not_found(group: StudyGroup) -> None:
    other = group.emu.world.add_guild("Other Group")
    other_general = other.add_text_channel("general")
    owner = other.add_member("Olga", permissions=MANAGE_GUILD)
    reply = await owner.slash(
        "schedule add", kind="reminder", when="daily 13:00", channel=other_general, message="x"
    )
    theirs = int(reply.content.split("**#")[1].split("**")[0])
    refused = await group.mia.slash("schedule remove", schedule=theirs)
    assert "no such schedule" in refused.content


async def test_lost_permission_disables_the_schedule_and_tells_moderators(
    group: StudyGroup,
) -> None:
    await group.mia.slash("settings channel", purpose="announcements", channel=group.announcements)
    schedule_id = await add_schedule(group, "reminder", "daily 13:00", message="Can't post this")
    group.general.set_permissions(group.guild.bot_role, deny=SEND_MESSAGES)
    group.clock.set(AT_13)
    (result,) = await group.scheduler.run_due()
    assert result.status == "disabled"
    notice = await group.emu.messages.wait_for(
        lambda m: f"#{schedule_id}" in m.content, channel=group.announcements
    )
    assert "permissions" in notice.content
    assert [m for m in group.posts(group.general) if "Can't post" in m.content] == []


async def test_list_at_the_schedule_limit_pages_within_discords_embed_budget(
    group: StudyGroup,
) -> None:
    service = group.bot.services.schedules
    for i in range(MAX_SCHEDULES_PER_GUILD):
        text = f"Reminder {i:02}: " + "read the next chapter and post a question. " * 4
        await service.add(
            group.guild.id, "reminder", "daily 13:00", group.general.id, text[:150], group.mia.id
        )
    listed = await group.mia.slash("schedule list")
    assert listed.ephemeral and len(listed.embeds) == 1
    seen: list[str] = [f["name"] for f in listed.embed["fields"]]
    page = listed
    while (button := page.original.find_component("Next")) and not button.get("disabled"):
        page = await group.mia.click(page.original, "Next")
        assert page.callback_type == 7 and len(page.embeds) == 1
        seen += [f["name"] for f in page.embed["fields"]]
    assert len(seen) == len(set(seen)) == MAX_SCHEDULES_PER_GUILD
    assert "Page 2 of 2" in page.embed["footer"]["text"]
    back = await group.mia.click(page.original, "Previous")
    assert "Page 1 of 2" in back.embed["footer"]["text"]
    assert back.original.find_component("Previous").get("disabled")


async def test_a_post_automod_blocks_is_not_retried_and_the_moderators_are_told(
    group: StudyGroup,
) -> None:
    await group.mia.slash("settings channel", purpose="announcements", channel=group.announcements)
    schedule_id = await add_schedule(group, "reminder", "daily 13:00", message="Buy cheap pills")
    group.emu.faults.automod(f"POST /channels/{group.general.id}/messages", times=10)
    group.clock.set(AT_13)
    (result,) = await group.scheduler.run_due()
    assert result.status == "disabled" and "automatic moderation" in (result.reason or "")
    attempts = [r for r in group.emu.requests_to("POST /channels/{channel_id}/messages")
                if r.path.endswith(f"/{group.general.id}/messages")]  # fmt: skip
    assert [r.status for r in attempts] == [400]  # refused once, never tried again
    notice = next(m for m in group.posts(group.announcements) if f"#{schedule_id}" in m.content)
    assert "automatic moderation" in notice.content and "/schedule list" in notice.content
    listed = await group.mia.slash("schedule list")
    field = next(f for f in listed.embed["fields"] if f["name"].startswith(f"#{schedule_id} "))
    assert "Disabled" in field["value"] and "automatic moderation" in field["value"]
    # Nothing more is tried: the next day passes without a request.
    group.clock.set(AT_13 + timedelta(days=1))
    assert await group.scheduler.run_due() == []
    assert group.posts(group.general) == []


@pytest.mark.parametrize(
    ("code", "said"),
    [(200000, "Message was blocked by automatic moderation"), (50035, "Invalid Form Body")],
)
async def test_schedule_run_says_what_discord_said_when_it_refuses(
    group: StudyGroup, code: int, said: str
) -> None:
    schedule_id = await add_schedule(group, "reminder", "daily 13:00", message="Weekly quiz")
    group.emu.faults.fail(
        f"POST /channels/{group.general.id}/messages", 400, code=code, message=said
    )
    ran = await group.mia.slash("schedule run", schedule=schedule_id)
    reply = (await ran.wait_for_followup()).content
    assert said in reply and str(code) in reply and "try again" not in reply
    assert "disabled" in reply and "/schedule resume" in reply
    # Fixed (here: the refusal is gone), resume and it posts again.
    await group.mia.slash("schedule resume", schedule=schedule_id)
    group.clock.advance(timedelta(minutes=1))
    again = await group.mia.slash("schedule run", schedule=schedule_id)
    assert "Posted" in (await again.wait_for_followup()).content


async def interrupted_post(group: StudyGroup, text: str) -> int:
    """What a worker that died mid-post leaves: the occurrence claimed, its post in the
    channel (sent with the occurrence's nonce), no record of it. Returns the message id."""
    await add_schedule(group, "reminder", "daily 13:00", message=text)
    group.clock.set(AT_13)
    occurrences = OccurrenceRepository(group.bot.database.engine)
    (due,) = await occurrences.due(group.clock.now())
    o = due.occurrence
    claimed = await occurrences.claim(o.id, "a-worker-that-died", AT_13, AT_13 + LEASE)
    assert claimed is not None
    publisher = DiscordPublisher(group.bot)
    nonce = nonce_for(o.schedule_id, o.fire_at, o.manual)
    return await publisher.post(group.guild.id, group.general.id, Post(content=text), nonce)


@pytest.mark.parametrize(
    "outage", [timedelta(minutes=3), timedelta(minutes=20), timedelta(hours=5)]
)
async def test_an_interrupted_post_is_not_posted_again_after_an_outage(
    group: StudyGroup, outage: timedelta
) -> None:
    first = await interrupted_post(group, "Once only, whatever the outage")
    group.clock.set(AT_13 + outage)  # past the lease; past Discord's nonce window too
    (result,) = await group.scheduler.run_due()
    assert (result.status, result.message_id) == ("sent", first)
    assert [m.id for m in group.posts(group.general)] == [first]


async def test_without_read_message_history_the_nonce_still_covers_a_short_outage(
    group: StudyGroup,
) -> None:
    group.general.set_permissions(group.guild.bot_member, deny=permissions.READ_MESSAGE_HISTORY)
    first = await interrupted_post(group, "Once within the nonce window")
    group.clock.set(AT_13 + timedelta(minutes=3))
    (result,) = await group.scheduler.run_due()
    assert (result.status, result.message_id) == ("sent", first)
    assert len(group.posts(group.general)) == 1


async def test_yesterdays_identical_post_is_not_taken_for_an_interrupted_one(
    group: StudyGroup,
) -> None:
    await add_schedule(group, "reminder", "daily 13:00", message="Same words every day")
    group.clock.set(AT_13)
    (yesterday,) = await group.scheduler.run_due()
    assert yesterday.status == "sent"
    # The next day a worker claims the post and dies before it reaches Discord.
    tomorrow = AT_13 + timedelta(days=1)
    group.clock.set(tomorrow)
    occurrences = OccurrenceRepository(group.bot.database.engine)
    (due,) = await occurrences.due(tomorrow)
    assert await occurrences.claim(due.occurrence.id, "died", tomorrow, tomorrow + LEASE)
    group.clock.set(tomorrow + timedelta(minutes=20))
    (today,) = await group.scheduler.run_due()
    assert today.status == "sent" and today.message_id != yesterday.message_id
    assert len(group.posts(group.general)) == 2
