"""Commands used inside threads and forum posts, through the local Discord emulator: answers
arrive, FAQ askers are told there, and settings and schedules refuse a thread or a forum."""

from __future__ import annotations

import pytest

from discord_emulator import Channel, CommandUnavailable, permissions
from tests.e2e.conftest import StudyGroup
from tests.e2e.test_faq import COST_Q, add_cost, answer, only_item

pytestmark = pytest.mark.e2e

UNKNOWN_Q = "Is there a study buddy programme for the capstone?"


def thread_in(group: StudyGroup, kind: str) -> Channel:
    """A thread of #general, or a post in a forum, opened by Sam."""
    if kind == "thread":
        return group.general.add_thread("Chapter 3 questions", by=group.sam)
    forum = group.guild.add_forum_channel("help")
    return forum.add_thread("Stuck on serializers", by=group.sam, message="Any hints?")


@pytest.fixture(params=["thread", "forum post"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_commands_are_answered_in_threads_and_forum_posts(
    group: StudyGroup, kind: str
) -> None:
    where = thread_in(group, kind)
    added = await group.sam.slash("goal add", text="Finish chapter 3", in_channel=where)
    assert added.ephemeral and "Finish chapter 3" in added.content
    checked = await group.sam.slash("checkin", hours=1.5, in_channel=where)
    assert checked.ephemeral and "1.5" in checked.content
    await add_cost(group)
    asked = await group.ada.slash(
        "faq ask", question="what does the certificate cost", in_channel=where
    )
    assert not asked.ephemeral and asked.embed["title"] == COST_Q
    assert asked.original is not None and asked.original.channel_id == where.id


async def test_an_asker_in_a_thread_is_told_there(group: StudyGroup, kind: str) -> None:
    where = thread_in(group, kind)
    await add_cost(group)
    asked = await group.sam.slash(
        "faq ask", question="What does the certificate cost?", in_channel=where
    )
    await group.sam.click(asked, "Not helpful")
    reply = await answer(group, await only_item(group.mia), "Around €39 a month, aid aside.")
    assert f"<#{where.id}>" in reply, reply
    told = await group.emu.messages.wait_for(
        lambda m: "answered your question" in m.content, channel=where
    )
    assert asked.original is not None and told.message_reference is not None
    assert told.message_reference["message_id"] == str(asked.original.id)
    assert told.pings.users == {group.sam.id}


async def test_an_unanswered_question_from_a_forum_post_is_answered_there(
    group: StudyGroup,
) -> None:
    where = thread_in(group, "forum post")
    queued = await group.sam.slash("faq ask", question=UNKNOWN_Q, in_channel=where)
    assert queued.ephemeral and "passed it to the moderators" in queued.content
    await answer(group, await only_item(group.mia), "Yes: ask in #buddies.")
    told = await group.emu.messages.wait_for(
        lambda m: "answered your question" in m.content, channel=where
    )
    assert told.pings.users == {group.sam.id}


async def test_an_archived_thread_is_reopened_by_the_notice(group: StudyGroup) -> None:
    where = thread_in(group, "thread")
    await group.sam.slash("faq ask", question=UNKNOWN_Q, in_channel=where)
    where.archive()
    await answer(group, await only_item(group.mia), "Yes: ask in #buddies.")
    await group.emu.messages.wait_for(
        lambda m: "answered your question" in m.content, channel=where
    )
    assert not where.archived


async def test_a_locked_thread_or_a_private_one_is_reported_not_reached(group: StudyGroup) -> None:
    locked = thread_in(group, "thread")
    await group.sam.slash("faq ask", question=UNKNOWN_Q, in_channel=locked)
    locked.archive(locked=True)
    hidden = group.general.add_thread("Just us", by=group.ada, private=True)
    await group.ada.slash("faq ask", question=UNKNOWN_Q, in_channel=hidden)
    reply = await answer(group, await only_item(group.mia), "Yes: ask in #buddies.")
    assert "Couldn't reach" in reply and f"<@{group.sam.id}>" in reply
    assert f"<@{group.ada.id}>" in reply
    assert group.posts(locked) == [] and group.posts(hidden) == []


@pytest.mark.parametrize("command", ["settings channel", "schedule add"])
async def test_a_thread_or_a_forum_is_refused_as_a_posting_channel(
    group: StudyGroup, command: str
) -> None:
    options = {"purpose": "faq"} if command == "settings channel" else {
        "kind": "reminder", "when": "mon 09:00", "message": "hi"}  # fmt: skip
    thread = thread_in(group, "thread")
    forum = group.guild.add_forum_channel("forum")
    post = forum.add_thread("A post", by=group.sam)
    for channel in (thread, forum, post):
        with pytest.raises(CommandUnavailable, match="channel type"):
            await group.mia.slash(command, channel=channel, **options)
    shown = await group.mia.slash("settings show")
    assert f"<#{thread.id}>" not in shown.text() and f"<#{post.id}>" not in shown.text()


async def test_the_invite_lets_the_bot_tell_askers_in_threads(group: StudyGroup) -> None:
    """With only the documented permissions (nothing through @everyone), a notice still
    reaches a thread: Send Messages in Threads is part of the invite."""
    from tests.hardening.test_least_permissions import documented_permissions

    group.guild.bot_role.permissions = documented_permissions()
    group.guild.everyone.permissions &= ~permissions.SEND_MESSAGES_IN_THREADS
    where = thread_in(group, "thread")
    await group.sam.slash("faq ask", question=UNKNOWN_Q, in_channel=where)
    reply = await answer(group, await only_item(group.mia), "Yes: ask in #buddies.")
    assert "Couldn't reach" not in reply, reply
    assert len(group.posts(where)) == 1
