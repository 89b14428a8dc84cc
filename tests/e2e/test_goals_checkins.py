"""Goals, check-ins and progress as members use them, through the local Discord emulator."""

from __future__ import annotations

import struct
from datetime import UTC, datetime

import pytest

from cogs.study_buttons import study_buttons_view
from tests.e2e.conftest import StudyGroup

pytestmark = pytest.mark.e2e


async def test_add_list_done_edit_remove(group: StudyGroup) -> None:
    sam = group.sam
    added = await sam.slash("goal add", text="Read chapter 2", hours=2.5)
    assert added.ephemeral and "Read chapter 2" in added.content and "2.5 h" in added.content
    await sam.slash("goal add", text="Finish the quiz")

    listed = await sam.slash("goal list")
    assert listed.embed is not None
    assert listed.embed["title"] == "Sam — goals for the week of 16 Nov"
    assert "▱▱ 0/2" in listed.embed["description"]
    assert "⬜ Read chapter 2 · 2.5 h" in listed.embed["description"]

    choices = await sam.autocomplete("goal done", "goal", typed="read")
    assert [c.name for c in choices] == ["⬜ Read chapter 2"]
    done = await sam.slash("goal done", goal=choices[0].value)
    assert "Done" in done.content and "▰▱ 1/2" in done.content
    assert await sam.autocomplete("goal done", "goal", typed="read") == []

    (quiz,) = await sam.autocomplete("goal edit", "goal", typed="quiz")
    edited = await sam.slash("goal edit", goal=quiz.value, text="Finish quiz 3")
    assert "Finish quiz 3" in edited.content
    (quiz,) = await sam.autocomplete("goal remove", "goal", typed="quiz")
    removed = await sam.slash("goal remove", goal=quiz.value)
    assert "Finish quiz 3" in removed.content
    listed = await sam.slash("goal list")
    assert "Finish quiz 3" not in listed.embed["description"]


async def test_members_see_each_others_goals_but_cannot_touch_them(group: StudyGroup) -> None:
    await group.sam.slash("goal add", text="Sam's goal")
    (choice,) = await group.sam.autocomplete("goal done", "goal")
    assert await group.ada.autocomplete("goal done", "goal") == []

    listed = await group.ada.slash("goal list", member=group.sam)
    assert "Sam's goal" in listed.embed["description"]
    for command in ("goal done", "goal remove"):
        refused = await group.ada.slash(command, goal=choice.value)
        assert refused.ephemeral and "no such goal of yours" in refused.content
    refused = await group.ada.slash("goal edit", goal=choice.value, text="mine now")
    assert "no such goal of yours" in refused.content
    listed = await group.sam.slash("goal list")
    assert "⬜ Sam's goal" in listed.embed["description"]


async def test_goal_text_never_pings(group: StudyGroup) -> None:
    reply = await group.sam.slash("goal add", text="@everyone ping test <@&1> **loud**")
    listed = await group.sam.slash("goal list")
    group.emu.messages.assert_nobody_pinged()
    assert "@everyone" not in reply.content
    assert "\\*\\*loud\\*\\*" in listed.embed["description"]


async def test_eleventh_goal_is_refused(group: StudyGroup) -> None:
    for i in range(10):
        await group.sam.slash("goal add", text=f"goal {i}")
    refused = await group.sam.slash("goal add", text="one more")
    assert refused.ephemeral and "10 goals" in refused.content


async def test_carry_brings_unfinished_goals_once(group: StudyGroup) -> None:
    await group.sam.slash("goal add", text="Unfinished")
    group.clock.set(datetime(2026, 11, 24, 9, tzinfo=UTC))
    first = await group.sam.slash("goal carry")
    again = await group.sam.slash("goal carry")
    assert "Carried 1 goal" in first.content and "Unfinished" in first.content
    assert "Nothing to carry" in again.content
    listed = await group.sam.slash("goal list")
    assert listed.embed["description"].count("Unfinished") == 1


async def test_checkin_with_options_and_again_the_same_day(group: StudyGroup) -> None:
    first = await group.sam.slash("checkin", hours=2, done="videos", mood=4)
    assert first.ephemeral and "Checked in" in first.content and "2 h" in first.content
    assert "1 week" in first.content
    second = await group.sam.slash("checkin", blockers="the quiz")
    assert "Updated" in second.content and "2 h" in second.content


async def test_checkin_without_options_opens_a_form(group: StudyGroup) -> None:
    opened = await group.sam.slash("checkin")
    assert opened.modal is not None
    answered = await group.sam.submit_modal(
        opened.modal, {"Hours studied today (0–100)": "1,5", "What did you do?": "notes"}
    )
    assert "Checked in" in answered.content and "1.5 h" in answered.content


async def test_a_bad_form_value_is_explained(group: StudyGroup) -> None:
    opened = await group.sam.slash("checkin")
    answered = await group.sam.submit_modal(opened.modal, {"Hours studied today (0–100)": "lots"})
    assert answered.ephemeral
    assert "hours must be a number between 0 and 100" in answered.content


async def test_progress_is_an_embed_with_a_chart(group: StudyGroup) -> None:
    await group.sam.slash("checkin", hours=3)
    await group.sam.slash("goal add", text="Chapter 3")
    result = await group.sam.slash("progress", weeks=4)
    message = await result.wait_for_followup()
    (attachment,) = message.attachments
    png = attachment.data
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert struct.unpack(">II", png[16:24]) == (1000, 500)
    assert 5_000 < len(png) < 2_000_000
    fields = {f["name"]: f["value"] for f in message.embeds[0]["fields"]}
    assert fields["Hours this week"] == "3 h" and fields["Goals this week"] == "▱ 0/1"
    assert fields["Last check-in"].startswith("<t:")


async def test_buttons_keep_working_after_a_restart(group: StudyGroup) -> None:
    channel = group.bot.get_channel(group.general.id)
    posted = await channel.send("Time to check in", view=study_buttons_view(group.guild.id))
    await group.restart()

    message = group.emu.messages.get(posted.id)
    opened = await group.ada.click(message, "Check in")
    answered = await group.ada.submit_modal(
        opened.modal, {"Hours studied today (0–100)": "2", "Mood, 1 (rough) to 5 (great)": "5"}
    )
    assert "Checked in" in answered.content and "2 h" in answered.content
    goal_form = await group.ada.click(message, "Add goal")
    added = await group.ada.submit_modal(goal_form.modal, {"Goal": "From the button"})
    assert "From the button" in added.content


async def test_list_shows_last_week_and_other_members_progress(group: StudyGroup) -> None:
    await group.sam.slash("goal add", text="Last week's goal")
    await group.sam.slash("checkin", hours=4)
    group.clock.set(datetime(2026, 11, 24, 9, tzinfo=UTC))
    last = await group.sam.slash("goal list", week="last")
    assert "Last week's goal" in last.embed["description"]
    assert "week of 16 Nov" in last.embed["title"]
    this = await group.sam.slash("goal list", week="this")
    assert "No goals yet" in this.embed["description"]

    result = await group.ada.slash("progress", member=group.sam, weeks=2)
    message = await result.wait_for_followup()
    assert message.embeds[0]["title"] == "Progress — Sam"
    fields = {f["name"]: f["value"] for f in message.embeds[0]["fields"]}
    assert fields["Weekly average"] == "2 h" and fields["Streak"] == "🔥 1 week"


async def test_a_button_minted_for_another_server_is_refused(group: StudyGroup) -> None:
    other = group.emu.world.add_guild("Other Group")
    lobby = other.add_text_channel("lobby")
    cleo = other.add_member("Cleo")
    await group.emu.wait_until(lambda: group.bot.get_channel(lobby.id) is not None, what="guild")
    channel = group.bot.get_channel(lobby.id)
    posted = await channel.send("Copied post", view=study_buttons_view(group.guild.id))
    pressed = await cleo.click(group.emu.messages.get(posted.id), "Check in")
    assert pressed.modal is None and pressed.ephemeral
    assert "another server" in pressed.content
