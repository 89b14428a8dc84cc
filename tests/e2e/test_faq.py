"""/faq as members and moderators use it, through the local Discord emulator."""

from __future__ import annotations

import asyncio
import json
import re
import sys

import pytest

from bot.services.faq import IMPORT_MAX_BYTES
from discord_emulator import InteractionResult, Member, PostedMessage, Upload, permissions
from tests.e2e.conftest import StudyGroup, refused

pytestmark = pytest.mark.e2e

COST_Q = "How much does the certificate cost?"
COST_A = "It's a monthly subscription; **financial aid** is available."
UNKNOWN_Q = "Can I pay for the course with PayPal?"


def entry_id(reply: InteractionResult) -> int:
    found = re.search(r"\*\*#(\d+)\*\*", reply.content)
    assert found, reply.content
    return int(found[1])


async def add_cost(group: StudyGroup) -> int:
    reply = await group.mia.slash(
        "faq add", question=COST_Q, answer=COST_A, aliases="price, is it expensive"
    )
    assert reply.ephemeral and "with 2 other phrasings" in reply.content
    return entry_id(reply)


async def queue_text(group: StudyGroup) -> str:
    listed = await group.mia.slash("faq queue")
    assert listed.ephemeral
    return listed.text()


async def answer(group: StudyGroup, item: int, text: str) -> str:
    result = await group.mia.slash("faq answer", item=item, answer=text)
    return (await result.wait_for_followup()).content


async def only_item(member: Member) -> int:
    (choice,) = await member.autocomplete("faq answer", "item", answer="x")
    return int(choice.value)


# ------------------------------------------------------------------------------- asking


async def test_a_confident_answer_is_public_with_buttons(group: StudyGroup) -> None:
    cost = await add_cost(group)
    result = await group.sam.slash("faq ask", question="how much does the cert cost??")
    assert not result.ephemeral
    assert result.embed["title"] == COST_Q and "**financial aid**" in result.embed["description"]
    assert result.embed["footer"]["text"] == "Asked: how much does the cert cost??"
    assert result.original is not None
    assert result.original.button_labels() == ["Helpful", "Not helpful"]
    listed = await group.sam.slash("faq list")
    assert f"**#{cost}**" in listed.embed["description"]
    assert "answered 1 time" in listed.embed["description"]


async def test_no_confident_answer_goes_to_the_queue_privately(group: StudyGroup) -> None:
    await add_cost(group)
    result = await group.sam.slash("faq ask", question=UNKNOWN_Q)
    assert result.ephemeral and "passed it to the moderators" in result.content
    text = await queue_text(group)
    assert UNKNOWN_Q in text and f"<@{group.sam.id}>" in text and "no confident answer" in text


async def test_helpful_votes_and_only_the_askers_not_helpful_queues(group: StudyGroup) -> None:
    await add_cost(group)
    asked = await group.sam.slash("faq ask", question="What does the certificate cost?")
    forged = await group.ada.click(asked, "Not helpful")
    assert forged.ephemeral and "Only" in forged.content and f"<@{group.sam.id}>" in forged.content
    again = await group.ada.click(asked, "Not helpful")
    assert "already voted" in again.content
    assert "No open questions" in await queue_text(group)

    helpful = await group.ada.click(asked, "Helpful")  # changing one's vote is fine
    assert "vote is counted" in helpful.content
    own = await group.sam.click(asked, "Not helpful")
    assert "passed your question to the moderators" in own.content
    text = await queue_text(group)
    assert "What does the certificate cost?" in text and "answer not helpful" in text
    listed = await group.sam.slash("faq list")
    assert "👍 1 · 👎 1" in listed.embed["description"]

    await answer(group, await only_item(group.mia), "Around €39 a month, aid aside.")
    reply = await group.emu.messages.wait_for(
        lambda m: "answered your question" in m.content, channel=group.general
    )
    assert asked.original is not None and reply.message_reference is not None
    assert reply.message_reference["message_id"] == str(asked.original.id)
    assert reply.pings.users == {group.sam.id}


async def test_duplicate_questions_merge_with_a_count(group: StudyGroup) -> None:
    await group.sam.slash("faq ask", question=UNKNOWN_Q)
    second = await group.ada.slash("faq ask", question="can i pay for the course with paypal")
    assert "asked 2 times so far" in second.content
    text = await queue_text(group)
    assert "asked 2×" in text and text.count("PayPal") == 1


async def test_concurrent_duplicate_asks_make_one_item(group: StudyGroup) -> None:
    results = await asyncio.gather(
        group.sam.slash("faq ask", question=UNKNOWN_Q),
        group.ada.slash("faq ask", question=UNKNOWN_Q),
    )
    assert all(r.ephemeral for r in results)
    (choice,) = await group.mia.autocomplete("faq answer", "item", answer="x")
    assert choice.name.startswith(f"#{choice.value} ×2 · ")


async def test_unicode_questions_match_without_accents(group: StudyGroup) -> None:
    added = await group.mia.slash(
        "faq add", question="¿Cuánto cuesta el certificado? 💸", answer="Una suscripción 🙂"
    )
    result = await group.sam.slash("faq ask", question="cuanto cuesta el certificado")
    assert not result.ephemeral and result.embed["description"] == "Una suscripción 🙂"
    assert result.embed["title"] == "¿Cuánto cuesta el certificado? 💸"
    (choice,) = await group.mia.autocomplete("faq remove", "entry", typed="cuánto")
    assert choice.value == entry_id(added)


async def test_everyone_in_questions_and_answers_never_pings(group: StudyGroup) -> None:
    await group.mia.slash(
        "faq add",
        question="Who runs the meetups for everyone?",
        answer="@everyone <@&1> the moderators",
    )
    public = await group.sam.slash("faq ask", question="@everyone who runs the meetups")
    assert not public.ephemeral and "@everyone" not in public.embed["description"]
    private = await group.sam.slash("faq ask", question="@everyone @here is this a scam?")
    assert private.ephemeral
    assert "@\u200beveryone @\u200bhere is this a scam?" in await queue_text(group)
    group.emu.messages.assert_nobody_pinged()


# ----------------------------------------------------------------------- answering the queue


async def test_answering_with_an_entry_teaches_it_and_tells_the_askers(
    group: StudyGroup,
) -> None:
    cost = await add_cost(group)
    await group.ada.slash("me reminders", enabled=True)
    phrasing = "is this going to empty my wallet"
    await group.sam.slash("faq ask", question=phrasing, in_channel=group.general)
    await group.ada.slash("faq ask", question=phrasing)
    assert await group.sam.autocomplete("faq answer", "item", answer="x") == []

    summary = await answer(group, await only_item(group.mia), f"#{cost}")
    assert "another phrasing of" in summary and f"#{cost}" in summary
    assert f"Told by DM: <@{group.ada.id}>" in summary and f"<@{group.sam.id}> in" in summary

    (dm,) = group.emu.messages.dms_to(group.ada.user)
    assert "answered your question" in dm.content and dm.embeds[0]["title"] == COST_Q
    reply = await group.emu.messages.wait_for(
        lambda m: "answered your question" in m.content, channel=group.general
    )
    assert reply.pings.users == {group.sam.id} and not reply.pings.everyone
    learned = await group.sam.slash("faq ask", question="Is this going to EMPTY my wallet?")
    assert not learned.ephemeral and learned.embed["title"] == COST_Q


async def test_closed_dms_fall_back_to_a_reply_where_they_asked(group: StudyGroup) -> None:
    cleo = group.guild.add_member(group.emu.world.add_user("Cleo", dms_open=False))
    await cleo.slash("me reminders", enabled=True)
    await cleo.slash("faq ask", question=UNKNOWN_Q, in_channel=group.announcements)
    summary = await answer(group, await only_item(group.mia), "Yes, PayPal works.")
    assert f"<@{cleo.id}> in <#{group.announcements.id}>" in summary
    reply = await group.emu.messages.wait_for(
        lambda m: "answered your question" in m.content, channel=group.announcements
    )
    assert reply.pings.users == {cleo.id} and reply.embeds[0]["description"] == "Yes, PayPal works."
    assert group.emu.messages.dms_to(cleo.user) == []


async def test_answering_with_text_makes_a_new_entry(group: StudyGroup) -> None:
    asked = await group.sam.slash("faq ask", question=UNKNOWN_Q)
    assert asked.ephemeral
    summary = await answer(group, await only_item(group.mia), "Yes — Coursera takes PayPal.")
    assert "new entry" in summary
    again = await group.ada.slash("faq ask", question="can I pay for the course with paypal?")
    assert again.embed["description"] == "Yes — Coursera takes PayPal."
    assert "No open questions" in await queue_text(group)


async def test_edit_opens_a_prefilled_form(group: StudyGroup) -> None:
    cost = await add_cost(group)
    opened = await group.mia.slash("faq edit", entry=cost)
    assert opened.modal is not None
    values = {f.label: f.value for f in opened.modal.fields}
    assert values["Question"] == COST_Q and values["Answer"] == COST_A
    assert values["Other phrasings (one per line)"] == "price\nis it expensive"
    saved = await group.mia.submit_modal(
        opened.modal, {"Answer": "Now €39 a month.", "Other phrasings (one per line)": "fees"}
    )
    assert "Updated" in saved.content and "1 other phrasing" in saved.content
    result = await group.sam.slash("faq ask", question="what are the fees")
    assert result.embed["description"] == "Now €39 a month."


# -------------------------------------------------------------------------- who may do what


async def test_members_cannot_use_moderator_commands(group: StudyGroup) -> None:
    cost = await add_cost(group)
    await group.sam.slash("faq ask", question=UNKNOWN_Q)
    attempts = [
        group.sam.slash("faq add", question="Mine?", answer="yes"),
        group.sam.slash("faq edit", entry=cost),
        group.sam.slash("faq remove", entry=cost),
        group.sam.slash("faq queue"),
        group.sam.slash("faq answer", item=1, answer="hijacked"),
        group.sam.slash("faq import", pack="meta-back-end"),
        group.sam.slash("faq export"),
    ]
    for attempt in attempts:
        result = await attempt
        assert refused(result, "only moderators"), result.content
    assert (await group.sam.slash("faq list")).embed["description"].count("**#") == 1


async def test_another_servers_faq_is_invisible(group: StudyGroup) -> None:
    cost = await add_cost(group)
    zoe = group.zoe
    result = await zoe.slash("faq ask", question=COST_Q)
    assert result.ephemeral and "passed it to the moderators" in result.content
    assert "No entries yet" in (await zoe.slash("faq list")).embed["description"]
    assert await zoe.autocomplete("faq edit", "entry", typed="") == []
    owner = group.other_guild.owner
    assert owner is not None
    gone = await owner.slash("faq remove", entry=cost)
    assert refused(gone, "no such faq entry")


# ---------------------------------------------------------------------- import and export


async def final_text(result: InteractionResult) -> str:
    """The reply, or for a deferred command the follow-up that completes it."""
    if result.deferred:
        return (await result.wait_for_followup()).content
    return result.content


async def test_import_rejects_bad_files_clearly(group: StudyGroup) -> None:
    mia = group.mia
    broken = await mia.slash("faq import", file=Upload("faq.json", b'{"version": 1, "entries": ['))
    assert "isn't valid JSON" in await final_text(broken)
    wrong = json.dumps({"version": 1, "entries": [{"question": "Where?"}]}).encode()
    named = await mia.slash("faq import", file=Upload("faq.json", wrong))
    assert "Entry 1 (“Where?”): `answer` is missing" in await final_text(named)
    huge = await mia.slash("faq import", file=Upload("faq.json", b" " * (IMPORT_MAX_BYTES + 1)))
    assert huge.ephemeral and "too big" in huge.content
    neither = await mia.slash("faq import")
    assert refused(neither, "one of the two")
    assert "No entries yet" in (await mia.slash("faq list")).embed["description"]


async def reply(result: InteractionResult, timeout: float = 30.0) -> PostedMessage:
    """The message that answers a command: its response, or after a deferral its follow-up."""
    if result.deferred:
        return await result.wait_for_followup(timeout=timeout)
    assert result.original is not None
    return result.original


async def test_export_then_import_round_trips(group: StudyGroup) -> None:
    cost = await add_cost(group)
    await group.mia.slash("faq add", question="Is there a mobile app?", answer="Yes 📱")
    exported = await group.mia.slash("faq export")
    assert exported.deferred  # the file is made off the event loop
    done = await reply(exported)
    assert done.ephemeral and "2 entries" in done.content
    (attachment,) = done.attachments
    assert attachment.filename == "faq.json"
    document = json.loads(attachment.data)
    assert document["version"] == 1
    assert [e["question"] for e in document["entries"]] == [COST_Q, "Is there a mobile app?"]
    assert document["entries"][0]["aliases"] == ["price", "is it expensive"]

    await group.mia.slash("faq remove", entry=cost)
    imported = await group.mia.slash("faq import", file=Upload("faq.json", attachment.data))
    assert "1 entry new, 1 entry updated" in await final_text(imported)
    again = json.loads((await reply(await group.mia.slash("faq export"))).attachments[0].data)

    def by_question(doc: dict[str, list[dict[str, str]]]) -> list[dict[str, str]]:
        return sorted(doc["entries"], key=lambda e: e["question"])

    assert by_question(again) == by_question(document)


async def test_the_starter_pack_and_list_pages(group: StudyGroup) -> None:
    imported = await group.mia.slash("faq import", pack="meta-back-end")
    done = await final_text(imported)
    total = int(re.search(r"The FAQ has (\d+) entries", done)[1])  # type: ignore[index]
    assert total >= 25
    pages = -(-total // 10)

    first = await group.sam.slash("faq list")
    assert first.embed["description"].count("**#") == 10
    assert first.embed["footer"]["text"].startswith(f"Page 1 of {pages}")
    assert first.original is not None
    previous, _next = first.original.buttons
    assert previous.get("disabled") is True
    second = await group.sam.click(first, "Next")
    assert second.callback_type == 7
    assert first.original.embeds[0]["footer"]["text"].startswith(f"Page 2 of {pages}")
    last = await group.sam.slash("faq list", page=pages + 5)
    assert last.embed["footer"]["text"].startswith(f"Page {pages} of {pages}")
    assert last.embed["description"].count("**#") == total - (pages - 1) * 10

    asked = await group.sam.slash("faq ask", question="is there financial aid")
    assert not asked.ephemeral


# ---------------------------------------------------------------------------- restarts


async def test_answer_buttons_work_after_a_restart(group: StudyGroup) -> None:
    await add_cost(group)
    asked = await group.sam.slash("faq ask", question="what's the price of the certificate")
    assert not asked.ephemeral
    await group.restart()
    pressed = await group.sam.click(asked, "Helpful")
    assert pressed.ephemeral and "Glad it helped" in pressed.content
    own = await group.sam.click(asked, "Not helpful")
    assert "passed your question to the moderators" in own.content
    assert "what's the price of the certificate" in await queue_text(group)


async def test_the_asker_is_told_without_read_message_history(group: StudyGroup) -> None:
    """Invited with the permissions of older installs: a reply (message reference) would be
    refused (160002), so the notice is a plain post that links the answer they judged."""
    await add_cost(group)
    asked = await group.sam.slash("faq ask", question="What does the certificate cost?")
    await group.sam.click(asked, "Not helpful")
    group.general.set_permissions(group.guild.bot_member, deny=permissions.READ_MESSAGE_HISTORY)
    await answer(group, await only_item(group.mia), "Around €39 a month, aid aside.")
    told = await group.emu.messages.wait_for(
        lambda m: "answered your question" in m.content, channel=group.general
    )
    assert asked.original is not None and told.message_reference is None
    link = f"/channels/{group.guild.id}/{group.general.id}/{asked.original.id}"
    assert link in told.content and told.pings.users == {group.sam.id}
    assert told.button_labels() == ["Helpful", "Not helpful"]


async def test_a_two_character_alias_imports_and_answers(group: StudyGroup) -> None:
    file = json.dumps(
        {
            "version": 1,
            "entries": [
                {
                    "question": "How do I set my timezone?",
                    "answer": "Use `/me timezone`.",
                    "aliases": ["tz"],
                },
                {
                    "question": "Can someone review my CV?",
                    "answer": "Post it in #cv.",
                    "aliases": ["CV"],
                },
            ],
        }
    ).encode()
    imported = await group.mia.slash("faq import", file=Upload("faq.json", file))
    assert "2 entries new" in await final_text(imported)
    asked = await group.sam.slash("faq ask", question="tz?")
    answered = await reply(asked)
    assert not answered.ephemeral and answered.embeds[0]["title"] == "How do I set my timezone?"
    (choice, *_) = await group.mia.autocomplete("faq edit", "entry", typed="tz")
    assert "timezone" in choice.name


async def test_a_slow_answer_is_deferred_then_public_and_a_slow_queueing_private(
    group: StudyGroup, monkeypatch: pytest.MonkeyPatch
) -> None:
    await add_cost(group)
    # As if the index were still building (the cog is loaded as an extension of the bot).
    monkeypatch.setattr(sys.modules["cogs.faq"], "ASK_ACK_WITHIN", 0.0)
    asked = await group.sam.slash("faq ask", question="how much does the cert cost??")
    assert asked.deferred and not asked.rejected_callbacks
    answered = await reply(asked)
    assert not answered.ephemeral and answered.embeds[0]["title"] == COST_Q
    queued = await group.sam.slash("faq ask", question=UNKNOWN_Q)
    assert queued.deferred
    private = await reply(queued)
    assert private.ephemeral and "passed it to the moderators" in private.content
    assert queued.original is not None and queued.original.deleted  # no public trace
    assert queued.original.loading and not queued.original.content  # never filled in


async def test_a_restart_with_a_thousand_entries_answers_at_once(group: StudyGroup) -> None:
    entries = [
        {"question": f"What is the rule number {n} of the study hall?", "answer": "See the pins."}
        for n in range(999)
    ]
    entries.append({"question": COST_Q, "answer": COST_A, "aliases": ["price"]})
    raw = json.dumps({"version": 1, "entries": entries}).encode()
    imported = await group.mia.slash("faq import", file=Upload("faq.json", raw))
    assert "1000 entries new" in (await imported.wait_for_followup(timeout=60)).content
    await group.restart()
    # Asked while the new process builds its index: acknowledged in time, answered publicly.
    asked = await group.sam.slash("faq ask", question="how much does the certificate cost")
    assert asked.acknowledged and not asked.rejected_callbacks
    answered = await reply(asked)
    assert not answered.ephemeral and answered.embeds[0]["title"] == COST_Q
    await group.bot.services.faq.settled()
