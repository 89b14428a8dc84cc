"""Course plans as members and moderators use them, through the local Discord emulator."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.courses import IMPORT_MAX_BYTES
from discord_emulator import InteractionResult, Member, PostedMessage, Upload
from discord_emulator.interactions import EPHEMERAL, CommandUnavailable
from tests.e2e.conftest import StudyGroup, refused

pytestmark = pytest.mark.e2e

PACK_TOTAL = 194
PNG = b"\x89PNG\r\n\x1a\n"


def course_file(modules: list[dict[str, object]], key: str = "mini") -> Upload:
    document = {"version": 1, "course": {"key": key, "title": "Mini course", "modules": modules}}
    return Upload("course.json", json.dumps(document).encode())


async def answer(result: InteractionResult) -> PostedMessage:
    """The reply, or for a deferred command the follow-up that completes it."""
    if result.deferred:
        return await result.wait_for_followup()
    assert result.original is not None
    return result.original


async def said(result: InteractionResult, *words: str) -> bool:
    """An ephemeral answer (reply or follow-up) that says each of `words`."""
    message = await answer(result)
    text = message.content.lower()
    return bool(message.flags & EPHEMERAL) and all(w.lower() in text for w in words)


async def import_pack(group: StudyGroup) -> None:
    text = (await answer(await group.mia.slash("plan import", pack="meta-back-end"))).content
    assert "9 modules" in text and f"{PACK_TOTAL} h" in text, text


async def module_choice(member: Member, command: str, typed: str) -> int:
    choices = await member.autocomplete(command, "module", typed=typed)
    assert len(choices) == 1, choices
    return int(choices[0].value)


async def shown(result: InteractionResult) -> dict[str, str]:
    """The fields of a /plan show embed, and its description."""
    (embed,) = (await answer(result)).embeds
    fields = {f["name"]: f["value"] for f in embed.get("fields", [])}
    fields["description"] = embed.get("description", "")
    return fields


async def test_the_pack_imports_lists_and_round_trips_through_export(group: StudyGroup) -> None:
    await import_pack(group)
    courses = await group.sam.slash("plan courses")
    (field,) = courses.embed["fields"]
    assert "Meta Back-End Developer Professional Certificate" in field["name"]
    assert "1. Introduction to Back-End Development · 18 h" in field["value"]
    assert "9. Coding Interview Preparation · 16 h" in field["value"]
    choices = await group.mia.autocomplete("plan export", "course", typed="meta")
    exported = await group.mia.slash("plan export", course=choices[0].value)
    (attachment,) = exported.attachments
    document = json.loads(attachment.data)
    assert sum(m["hours"] for m in document["course"]["modules"]) == PACK_TOTAL
    assert "7-8 months" in document["course"]["source"]
    again = await group.mia.slash("plan import", file=Upload("c.json", attachment.data))
    assert await said(again, "Updated", "0 new, 0 changed")
    # Members may list courses but not import or export them; other guilds see none.
    assert await said(await group.sam.slash("plan import", pack="meta-back-end"), "moderators")
    assert refused(await group.sam.slash("plan export", course="meta-back-end"), "moderators")
    assert await group.zoe.autocomplete("plan start", "course") == []


async def test_bad_course_files_import_nothing_and_list_the_problems(group: StudyGroup) -> None:
    mia = group.mia
    bad = course_file([{"title": "A", "hours": 0.1}, {"title": "a", "hours": 2}, {"hours": 600}])
    result = await mia.slash("plan import", file=bad)
    assert await said(result, "nothing imported", "4 problems", "between 0.5 and 500", "twice")
    too_many = course_file([{"title": f"m{i}", "hours": 1} for i in range(201)])
    assert await said(await mia.slash("plan import", file=too_many), "at most 200 modules")
    long_title = course_file([{"title": "x" * 101, "hours": 1}])
    assert await said(await mia.slash("plan import", file=long_title), "longer than 100")
    broken = await mia.slash("plan import", file=Upload("c.json", b"{not json"))
    assert await said(broken, "not valid JSON")
    huge = await mia.slash("plan import", file=Upload("c.json", b" " * (IMPORT_MAX_BYTES + 1)))
    assert await said(huge, "at most 1 MB")
    assert await said(await mia.slash("plan import"), "one of the two")
    assert "no courses yet" in (await group.sam.slash("plan courses")).content


async def test_start_finish_and_undo_modules_and_the_projection_follows(
    group: StudyGroup,
) -> None:
    await import_pack(group)
    sam = group.sam
    (course,) = await sam.autocomplete("plan start", "course", typed="back-end")
    started = await sam.slash("plan start", course=course.value, target="2027-06-30")
    assert started.ephemeral and "target **2027-06-30**" in started.content
    assert "h a week" in started.content

    # Check in 6 h in the plan's first two weeks, then look in the third.
    for days in (0, 7):
        group.clock.set(datetime(2026, 11, 18, 12, tzinfo=UTC) + timedelta(days=days))
        await sam.slash("checkin", hours=6)
    group.clock.set(datetime(2026, 12, 3, 12, tzinfo=UTC))
    before = await shown(await sam.slash("plan show"))
    assert before["Modules"] == "0 of 9 done" and before["Hours left"] == "194 h of 194 h"
    assert before["Pace kept"].startswith("6 h/week")
    (chart,) = (await answer(await sam.slash("plan show"))).attachments
    assert chart.data.startswith(PNG)

    module = await module_choice(sam, "plan done", "python")
    done = await sam.slash("plan done", module=module)
    assert "Finished **Programming in Python**" in done.content
    assert "1 of 9 modules · 164 h left" in done.content
    after = await shown(await sam.slash("plan show"))
    assert after["Hours left"] == "164 h of 194 h"
    assert after["Projected finish"] != before["Projected finish"]
    assert "already finished" in (await sam.slash("plan done", module=module)).content
    assert await sam.autocomplete("plan done", "module", typed="python") == []

    undo = await module_choice(sam, "plan undo", "python")
    undone = await sam.slash("plan undo", module=undo)
    assert "unfinished again" in undone.content and "194 h left" in undone.content

    # Others can look at Sam's plan but not touch his modules.
    assert "Hours left" in await shown(await group.ada.slash("plan show", member=sam))
    assert refused(await group.ada.slash("plan done", module=module), "no plan")
    assert await said(await group.ada.slash("plan show"), "no plan")
    assert await said(await group.mia.slash("plan show", member=group.ada), "Ada has no plan")


async def test_bad_plan_input_gets_one_clear_line(group: StudyGroup) -> None:
    await import_pack(group)
    sam = group.sam
    course = "meta-back-end"
    cases = [
        ({"target": "2026-01-01"}, "not in the future"),
        ({"target": "2035-01-01"}, "more than 5 years"),
        ({"target": "whenever"}, "2027-06-30"),
        ({"target": "2 weeks"}, "would need 97.0 h a week"),
        ({}, "target"),
    ]
    for options, words in cases:
        result = await sam.slash("plan start", course=course, **options)
        assert refused(result, words), (options, result.content)
        assert "\n" not in result.content
    assert refused(await sam.slash("plan start", course="nope", hours=5), "no such course")
    assert refused(await group.zoe.slash("plan start", course=course, hours=5), "no such course")
    # A module of another course (or guild) is not one of the member's.
    await answer(
        await group.mia.slash(
            "plan import", file=course_file([{"title": "Other", "hours": 2}], key="other")
        )
    )
    (other,) = await group.mia.autocomplete("plan start", "course", typed="mini")
    await group.mia.slash("plan start", course=other.value, hours=2)
    other_module = await module_choice(group.mia, "plan done", "")
    await sam.slash("plan start", course=course, hours=6)
    assert refused(await sam.slash("plan done", module=other_module), "not part of your plan")
    assert refused(await sam.slash("plan done", module=99999), "not part of your plan")
    # Discord itself refuses hours outside 1–60 (the service checks again).
    for hours in (0, 61):
        with pytest.raises(CommandUnavailable):
            await sam.slash("plan start", course=course, hours=hours)
    group.emu.messages.assert_nobody_pinged()


async def test_hostile_course_text_is_shown_inert(group: StudyGroup) -> None:
    hostile = course_file([{"title": "@everyone **Week** <@&1> 📚", "hours": 3}], key="x")
    assert await said(await group.mia.slash("plan import", file=hostile), "Added")
    listed = await group.sam.slash("plan courses")
    value = listed.embed["fields"][0]["value"]
    assert "\\*\\*Week\\*\\*" in value and "📚" in value
    await group.sam.slash("plan start", course="x", hours=3)
    shown_fields = await shown(await group.sam.slash("plan show"))
    assert (
        "@\u200beveryone" in shown_fields["Next up"] or "@everyone" not in shown_fields["Next up"]
    )
    group.emu.messages.assert_nobody_pinged()


# ------------------------------------------------------------------------ woven into the week


async def run_schedule(group: StudyGroup, kind: str, when: str) -> PostedMessage:
    reply = await group.mia.slash("schedule add", kind=kind, when=when, channel=group.general)
    schedule_id = int(reply.content.split("**#")[1].split("**")[0])
    before = len(group.posts(group.general))
    await (await group.mia.slash("schedule run", schedule=schedule_id)).wait_for_followup()
    posts = group.posts(group.general)
    assert len(posts) == before + 1
    return posts[-1]


async def test_plan_my_week_adds_the_weeks_share_as_goals_once(group: StudyGroup) -> None:
    await import_pack(group)
    sam = group.sam
    await sam.slash("plan start", course="meta-back-end", hours=6)
    prompt = await run_schedule(group, "goal-prompt", "mon 09:00")
    assert prompt.button_labels() == ["Add goal", "Plan my week"]
    assert "Plan my week" in prompt.embeds[0]["description"]

    week = await sam.slash("plan week")
    assert "This week's share of your plan: 6 h" in week.content
    assert "Introduction to Back-End Development · 6 h of 18 h" in week.content

    pressed = await sam.click(prompt, "Plan my week")
    assert pressed.ephemeral and "Added 1 goal" in pressed.content
    assert "Plan: Introduction to Back-End Development" in pressed.content
    listed = await sam.slash("goal list")
    assert "Plan: Introduction to Back-End Development · 6 h" in listed.embed["description"]
    again = await sam.click(prompt, "Plan my week")
    assert "already added this week" in again.content
    assert "Already added" in (await sam.slash("plan week")).content
    listed = await sam.slash("goal list")
    assert listed.embed["description"].count("Plan: ") == 1

    # Members without a plan are told how to start one; next week the button works again.
    assert refused(await group.ada.click(prompt, "Plan my week"), "no plan", "/plan start")
    group.clock.set(datetime(2026, 11, 23, 9, tzinfo=UTC))
    assert "Added 1 goal" in (await sam.click(prompt, "Plan my week")).content


async def test_a_guild_without_courses_gets_the_plain_goal_prompt(group: StudyGroup) -> None:
    prompt = await run_schedule(group, "goal-prompt", "mon 09:00")
    assert prompt.button_labels() == ["Add goal"]


async def test_nudges_say_ahead_or_behind_and_the_summary_counts_without_names(
    group: StudyGroup,
) -> None:
    await import_pack(group)
    for member in (group.sam, group.ada):
        await member.slash("me reminders", enabled=True)
        await member.slash("plan start", course="meta-back-end", target="6 months")
    group.clock.set(datetime(2026, 12, 3, 12, tzinfo=UTC))
    await group.sam.slash("checkin", hours=20)
    await run_schedule(group, "checkin-prompt", "thu 18:00")
    await group.scheduler.run_nudges()
    (nudge,) = group.emu.messages.dms_to(group.ada)
    assert "Course plan:" in nudge.content and "behind your plan" in nudge.content
    assert group.emu.messages.dms_to(group.sam) == []  # checked in this week

    summary = await run_schedule(group, "weekly-summary", "sun 18:00")
    fields = {f["name"]: f["value"] for f in summary.embeds[0]["fields"]}
    assert fields["On track with their plan"] == "0 of 2 members on plans"
    assert "Ada" not in summary.text() and str(group.ada.id) not in summary.text()


async def test_away_pauses_nudges_and_reviews_keeps_the_streak_and_moves_the_target(
    group: StudyGroup,
) -> None:
    await import_pack(group)
    sam = group.sam
    await sam.slash("me reminders", enabled=True)
    await sam.slash("plan start", course="meta-back-end", target="2027-06-30")
    await sam.slash("checkin", hours=3)  # week of 16 Nov

    away = await sam.slash("me away", weeks=2)
    assert away.ephemeral and "Away until" in away.content
    fields = await shown(await sam.slash("plan show"))
    assert fields["Target"].startswith("14 Jul 2027") and "moved 14 days" in fields["Target"]
    assert "Away until" in fields and fields["description"].startswith("**🏖️ Away**")
    status = await sam.slash("review status")
    assert "paused" in status.text().lower()

    group.clock.set(datetime(2026, 11, 26, 18, tzinfo=UTC))
    await run_schedule(group, "checkin-prompt", "thu 18:00")
    await group.scheduler.run_nudges()
    assert group.emu.messages.dms_to(sam) == []

    # Back early after 8 days: the target moves by 8 days, and the streak survived the gap.
    group.clock.set(datetime(2026, 11, 26, 12, tzinfo=UTC))
    back = await sam.slash("me away", weeks=0)
    assert "Welcome back" in back.content
    assert "weren't away" in (await sam.slash("me away", weeks=0)).content
    fields = await shown(await sam.slash("plan show"))
    assert fields["Target"].startswith("8 Jul 2027") and "Away until" not in fields
    group.clock.set(datetime(2026, 12, 2, 12, tzinfo=UTC))
    # The week of 30 Nov, after the week of 23 Nov spent (half) away: 2 weeks in a row.
    checked = await sam.slash("checkin", hours=2)
    assert "streak: **2 weeks**" in checked.content
    progress = await answer(await sam.slash("progress"))
    assert "2 weeks" in progress.text()
    # The weekly summary counts it the same way.
    summary = await run_schedule(group, "weekly-summary", "sun 18:00")
    fields = {f["name"]: f["value"] for f in summary.embeds[0]["fields"]}
    assert fields["Longest streaks"] == f"<@{sam.id}> · 2 weeks in a row"


# ------------------------------------------------------------------------ the group, members' data


async def test_group_plans_shows_who_is_where_for_moderators_only(group: StudyGroup) -> None:
    await import_pack(group)
    await group.sam.slash("plan start", course="meta-back-end", hours=6)
    await group.ada.slash("plan start", course="meta-back-end", target="9 months")
    first = await module_choice(group.ada, "plan done", "introduction to back")
    await group.ada.slash("plan done", module=first)
    await group.ada.slash("me away", weeks=1)

    (page,) = (await answer(await group.mia.slash("group plans"))).embeds
    text = page["description"]
    assert "Meta Back-End Developer Professional Certificate" in text and "2 members" in text
    intro, python = text.index("**Introduction to Back-End"), text.index("**Programming in Py")
    assert intro < text.index(f"<@{group.sam.id}>") < python < text.index(f"<@{group.ada.id}>")
    assert "🏖️ Away" in text
    overview = (await answer(await group.mia.slash("group overview"))).embeds[0]
    fields = {f["name"]: f["value"] for f in overview["fields"]}
    assert fields["Away"].startswith("1 ")
    group.emu.messages.assert_nobody_pinged()


async def test_group_plans_pages_through_many_members(group: StudyGroup) -> None:
    await import_pack(group)
    for i in range(60):
        member = group.guild.add_member(f"Learner {i}")
        await member.slash("plan start", course="meta-back-end", hours=1 + i % 50)
    result = await group.mia.slash("group plans")
    first = await answer(result)
    footer = first.embeds[0]["footer"]["text"]
    assert footer.startswith("Page 1 of ") and footer != "Page 1 of 1"
    assert all(len(e["description"]) <= 4096 for e in first.embeds)
    turned = await group.mia.click(first, "Next")
    assert turned.original is not None
    assert turned.original.embeds[0]["footer"]["text"].startswith("Page 2 of ")


async def test_me_data_includes_the_plan_and_forget_removes_it(group: StudyGroup) -> None:
    await import_pack(group)
    sam = group.sam
    await sam.slash("plan start", course="meta-back-end", target="2027-06-30")
    module = await module_choice(sam, "plan done", "version")
    await sam.slash("plan done", module=module)
    await sam.slash("me away", weeks=1)
    data = json.loads((await answer(await sam.slash("me data"))).attachments[0].data)
    assert data["course_plan"]["course_key"] == "meta-back-end"
    assert data["course_plan"]["target_day"] == "2027-06-30"
    assert [m["module"] for m in data["finished_modules"]] == ["Version Control"]
    assert len(data["away"]) == 1

    prompt = (await sam.slash("me forget")).original
    assert prompt is not None
    done = await sam.click(prompt, "Delete my data")
    await done.wait_until(lambda r: r.original is not None and "Done" in r.original.content)
    assert await said(await sam.slash("plan show"), "no plan")
    data = json.loads((await answer(await sam.slash("me data"))).attachments[0].data)
    assert data["course_plan"] is None and data["finished_modules"] == [] and data["away"] == []
    # The guild's course stays for everyone else.
    assert "Version Control" in (await group.ada.slash("plan courses")).embed["fields"][0]["value"]


async def test_many_long_courses_fit_one_listing(group: StudyGroup) -> None:
    for n in range(8):
        modules = [{"title": f"Module {i} " + "x" * 80, "hours": 2} for i in range(200)]
        await answer(await group.mia.slash("plan import", file=course_file(modules, key=f"c{n}")))
    listed = await group.sam.slash("plan courses")
    embed = listed.embed
    size = len(embed["title"]) + len(embed["footer"]["text"])
    size += sum(len(f["name"]) + len(f["value"]) for f in embed["fields"])
    assert size <= 6000 and "more not shown" in embed["footer"]["text"]
