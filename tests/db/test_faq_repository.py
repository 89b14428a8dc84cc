"""FAQ entries, votes and queue on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import text

from db.engine import Database, alembic_config, head_revision
from db.repositories.faq import Asker, EntryData, FaqRepository, QuestionExists

NOW = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
GUILD = 1_100_000_000_000_000_001
OTHER_GUILD = 1_100_000_000_000_000_009
SAM = 1_200_000_000_000_000_002
ADA = 1_200_000_000_000_000_003
MIA = 1_200_000_000_000_000_004
CHANNEL = 1_300_000_000_000_000_001


def data(question: str, answer: str = "An answer.", *aliases: str) -> EntryData:
    return EntryData(question, question.lower().rstrip("?"), answer, aliases, ("tag",))


def asker(user_id: int, at: datetime = NOW, message_id: int | None = None) -> Asker:
    return Asker(user_id, CHANNEL, message_id, at)


@pytest.fixture
def repo(database: Database) -> FaqRepository:
    return FaqRepository(database.engine)


# ---------------------------------------------------------------------------------- entries


async def test_add_get_and_list_keep_aliases_tags_and_unicode(repo: FaqRepository) -> None:
    entry = await repo.add(GUILD, data("Qué es Django? ☕", "Un framework 🐍", "django?"), MIA, NOW)
    assert entry.aliases == ("django?",) and entry.tags == ("tag",)
    assert (entry.usage_count, entry.helpful_count, entry.not_helpful_count) == (0, 0, 0)
    assert entry.created_by == MIA and entry.created_at == NOW
    assert await repo.get(GUILD, entry.id) == entry
    assert await repo.entries(GUILD) == [entry]
    assert (await repo.find(GUILD, "qué es django? ☕")) == entry


async def test_a_question_is_unique_per_guild_not_across_guilds(repo: FaqRepository) -> None:
    first = await repo.add(GUILD, data("Cost?"), MIA, NOW)
    with pytest.raises(QuestionExists) as info:
        await repo.add(GUILD, data("Cost?", "other"), MIA, NOW)
    assert info.value.entry_id == first.id
    elsewhere = await repo.add(OTHER_GUILD, data("Cost?"), None, NOW)
    assert elsewhere.id != first.id
    assert [e.id for e in await repo.entries(GUILD)] == [first.id]


async def test_guilds_with_entries_lists_each_guild_once(repo: FaqRepository) -> None:
    assert await repo.guilds_with_entries() == []
    await repo.add(OTHER_GUILD, data("Cost?"), None, NOW)
    await repo.add(GUILD, data("Cost?"), MIA, NOW)
    await repo.add(GUILD, data("Time?"), MIA, NOW)
    assert await repo.guilds_with_entries() == [GUILD, OTHER_GUILD]
    await repo.remove(OTHER_GUILD, (await repo.entries(OTHER_GUILD))[0].id)
    assert await repo.guilds_with_entries() == [GUILD]


async def test_other_guilds_cannot_read_change_or_remove_an_entry(repo: FaqRepository) -> None:
    entry = await repo.add(GUILD, data("Cost?"), MIA, NOW)
    assert await repo.get(OTHER_GUILD, entry.id) is None
    assert await repo.update(OTHER_GUILD, entry.id, data("Mine?"), NOW) is None
    assert await repo.remove(OTHER_GUILD, entry.id) is None
    assert await repo.vote(OTHER_GUILD, entry.id, SAM, True, NOW) is None
    assert await repo.record_use(OTHER_GUILD, entry.id) is None
    assert await repo.get(GUILD, entry.id) == entry


async def test_update_replaces_text_and_refuses_another_entrys_question(
    repo: FaqRepository,
) -> None:
    cost = await repo.add(GUILD, data("Cost?"), MIA, NOW)
    await repo.add(GUILD, data("Time?"), MIA, NOW)
    later = NOW + timedelta(hours=1)
    updated = await repo.update(GUILD, cost.id, data("Price?", "New.", "How much?"), later)
    assert updated is not None
    assert (updated.question, updated.answer, updated.aliases) == ("Price?", "New.", ("How much?",))
    assert updated.updated_at == later and updated.created_at == NOW
    with pytest.raises(QuestionExists):
        await repo.update(GUILD, cost.id, data("Time?"), later)


async def test_page_and_count(repo: FaqRepository) -> None:
    for n in range(12):
        await repo.add(GUILD, data(f"Question {n:02}?"), MIA, NOW)
    assert await repo.count(GUILD) == 12 and await repo.count(OTHER_GUILD) == 0
    second = await repo.page(GUILD, 10, 10)
    assert [e.question for e in second] == ["Question 10?", "Question 11?"]


async def test_concurrent_alias_merges_lose_nothing(repo: FaqRepository) -> None:
    entry = await repo.add(GUILD, data("Cost?"), MIA, NOW)

    async def learn(alias: str) -> None:
        await repo.merge_aliases(GUILD, entry.id, lambda current: (*current, alias), NOW)

    await asyncio.gather(*(learn(f"alias {n}") for n in range(8)))
    stored = await repo.get(GUILD, entry.id)
    assert stored is not None and sorted(stored.aliases) == [f"alias {n}" for n in range(8)]


async def test_import_adds_new_and_updates_existing_all_or_nothing(repo: FaqRepository) -> None:
    existing = await repo.add(GUILD, data("Cost?", "old", "learned"), MIA, NOW)
    result = await repo.import_entries(
        GUILD,
        [data("Cost?", "new", "from file"), data("Time?")],
        lambda current, new: (*new, *current),
        MIA,
        NOW,
    )
    assert [e.question for e in result.created] == ["Time?"]
    (updated,) = result.updated
    assert updated.id == existing.id and updated.answer == "new"
    assert updated.aliases == ("from file", "learned")
    assert await repo.count(GUILD) == 2

    def broken(current: tuple[str, ...], new: tuple[str, ...]) -> tuple[str, ...]:
        raise RuntimeError("stop")

    with pytest.raises(RuntimeError):
        await repo.import_entries(GUILD, [data("Third?"), data("Cost?", "x")], broken, MIA, NOW)
    assert await repo.count(GUILD) == 2  # the new entry before the failure was rolled back


# ------------------------------------------------------------------------------------ votes


async def test_one_vote_per_member_and_changing_it_moves_the_totals(repo: FaqRepository) -> None:
    entry = await repo.add(GUILD, data("Cost?"), MIA, NOW)
    first = await repo.vote(GUILD, entry.id, SAM, True, NOW)
    assert first is not None and first.previous is None and first.changed
    again = await repo.vote(GUILD, entry.id, SAM, True, NOW)
    assert again is not None and not again.changed
    assert (again.entry.helpful_count, again.entry.not_helpful_count) == (1, 0)
    changed = await repo.vote(GUILD, entry.id, SAM, False, NOW)
    assert changed is not None and changed.previous is True
    assert (changed.entry.helpful_count, changed.entry.not_helpful_count) == (0, 1)
    other = await repo.vote(GUILD, entry.id, ADA, False, NOW)
    assert other is not None and other.entry.not_helpful_count == 2


async def test_concurrent_presses_by_one_member_count_once(repo: FaqRepository) -> None:
    entry = await repo.add(GUILD, data("Cost?"), MIA, NOW)
    await asyncio.gather(*(repo.vote(GUILD, entry.id, SAM, True, NOW) for _ in range(6)))
    stored = await repo.get(GUILD, entry.id)
    assert stored is not None and stored.helpful_count == 1


async def test_removing_an_entry_removes_its_votes(repo: FaqRepository, database: Database) -> None:
    entry = await repo.add(GUILD, data("Cost?"), MIA, NOW)
    await repo.vote(GUILD, entry.id, SAM, True, NOW)
    assert await repo.remove(GUILD, entry.id) is not None
    async with database.engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM faq_votes"))).scalar() == 0
    assert await repo.vote(GUILD, entry.id, SAM, True, NOW) is None


# ------------------------------------------------------------------------------------ queue


async def test_the_same_question_merges_into_one_open_item(repo: FaqRepository) -> None:
    first = await repo.enqueue(GUILD, "Paypal?", "paypal", "unanswered", asker(SAM))
    later = NOW + timedelta(minutes=5)
    second = await repo.enqueue(GUILD, "paypal", "paypal", "unanswered", asker(ADA, later))
    assert second.id == first.id and second.ask_count == 2
    assert second.question == "Paypal?" and second.last_asked_at == later
    assert [a.user_id for a in second.askers] == [SAM, ADA]
    elsewhere = await repo.enqueue(OTHER_GUILD, "Paypal?", "paypal", "unanswered", asker(SAM))
    assert elsewhere.id != first.id
    assert [i.id for i in await repo.open_items(GUILD)] == [first.id]
    assert await repo.get_item(OTHER_GUILD, first.id) is None


async def test_concurrent_duplicates_make_one_item_with_their_count(repo: FaqRepository) -> None:
    users = [SAM + n for n in range(5)]
    await asyncio.gather(
        *(repo.enqueue(GUILD, "Paypal?", "paypal", "unanswered", asker(u)) for u in users)
    )
    (item,) = await repo.open_items(GUILD)
    assert item.ask_count == 5 and sorted(a.user_id for a in item.askers) == users


async def test_answering_with_a_new_entry_closes_the_item(repo: FaqRepository) -> None:
    item = await repo.enqueue(GUILD, "Paypal?", "paypal?", "unanswered", asker(SAM))
    done = await repo.answer_item(
        GUILD, item.id, MIA, NOW, new_entry=data("Paypal?", "Yes, PayPal works.")
    )
    assert done is not None and done.created
    assert done.entry.answer == "Yes, PayPal works." and done.entry.created_by == MIA
    assert done.item.state == "answered" and done.item.answered_entry_id == done.entry.id
    assert done.item.askers[0].user_id == SAM
    assert await repo.answer_item(GUILD, item.id, MIA, NOW, new_entry=data("Paypal?")) is None
    assert await repo.open_count(GUILD) == 0
    # Asked again after the answer: a new item.
    again = await repo.enqueue(GUILD, "Paypal?", "paypal?", "unanswered", asker(ADA))
    assert again.id != item.id and again.ask_count == 1


async def test_answering_as_an_alias_is_all_or_nothing(repo: FaqRepository) -> None:
    entry = await repo.add(GUILD, data("Cost?"), MIA, NOW)
    item = await repo.enqueue(GUILD, "Is it pricey", "is it pricey", "unanswered", asker(SAM))

    def refuse(current: tuple[str, ...]) -> tuple[str, ...]:
        raise ValueError("full")

    with pytest.raises(ValueError):
        await repo.answer_item(GUILD, item.id, MIA, NOW, alias_for=(entry.id, refuse))
    still = await repo.get_item(GUILD, item.id)
    assert still is not None and still.open
    done = await repo.answer_item(
        GUILD, item.id, MIA, NOW, alias_for=(entry.id, lambda c: (*c, "Is it pricey"))
    )
    assert done is not None and not done.created and done.entry.aliases == ("Is it pricey",)


async def test_answering_an_existing_question_replaces_its_answer(repo: FaqRepository) -> None:
    entry = await repo.add(GUILD, data("Cost?", "old"), MIA, NOW)
    item = await repo.enqueue(GUILD, "Cost?", "cost", "not-helpful", asker(SAM), entry.id)
    done = await repo.answer_item(GUILD, item.id, MIA, NOW, new_entry=data("Cost?", "better"))
    assert done is not None and not done.created
    assert done.entry.id == entry.id and done.entry.answer == "better"
    assert done.item.shown_entry_id == entry.id


async def test_answered_between_counts_the_week(repo: FaqRepository) -> None:
    for n, day in enumerate((0, 1, 8)):
        item = await repo.enqueue(GUILD, f"Q{n}?", f"q{n}", "unanswered", asker(SAM))
        at = NOW + timedelta(days=day)
        await repo.answer_item(GUILD, item.id, MIA, at, new_entry=data(f"Q{n}?"))
    assert await repo.answered_between(GUILD, NOW, NOW + timedelta(days=7)) == 2
    assert await repo.answered_between(OTHER_GUILD, NOW, NOW + timedelta(days=7)) == 0


# ---------------------------------------------------------------------- members and guilds


async def test_forgetting_a_member(repo: FaqRepository) -> None:
    entry = await repo.add(GUILD, data("Cost?"), SAM, NOW)
    await repo.vote(GUILD, entry.id, SAM, True, NOW)
    await repo.vote(GUILD, entry.id, ADA, True, NOW)
    only_sam = await repo.enqueue(GUILD, "Mine?", "mine", "unanswered", asker(SAM))
    shared = await repo.enqueue(GUILD, "Ours?", "ours", "unanswered", asker(SAM))
    await repo.enqueue(GUILD, "Ours?", "ours", "unanswered", asker(ADA))
    exported = await repo.for_member(GUILD, SAM)
    assert [v.entry_id for v in exported.votes] == [entry.id]
    assert [q.question for q in exported.questions] == ["Mine?", "Ours?"]
    assert exported.entries_written == (entry.id,)

    done = await repo.delete_member(GUILD, SAM)
    assert (done.votes, done.questions, done.entries_unsigned) == (1, 2, 1)
    stored = await repo.get(GUILD, entry.id)
    assert stored is not None and stored.helpful_count == 1 and stored.created_by is None
    assert await repo.get_item(GUILD, only_sam.id) is None
    remaining = await repo.get_item(GUILD, shared.id)
    assert remaining is not None and [a.user_id for a in remaining.askers] == [ADA]
    assert (await repo.for_member(GUILD, SAM)).questions == ()


async def test_deleting_a_guild_keeps_other_guilds(repo: FaqRepository) -> None:
    mine = await repo.add(GUILD, data("Cost?"), MIA, NOW)
    theirs = await repo.add(OTHER_GUILD, data("Cost?"), MIA, NOW)
    await repo.vote(GUILD, mine.id, SAM, True, NOW)
    await repo.enqueue(GUILD, "Q?", "q", "unanswered", asker(SAM))
    assert await repo.delete_guild(GUILD) == 2
    assert await repo.entries(GUILD) == [] and await repo.open_count(GUILD) == 0
    assert await repo.get(OTHER_GUILD, theirs.id) is not None


async def test_the_migration_downgrades_and_upgrades_again(database: Database) -> None:
    def down_and_up(connection: object) -> None:
        config = alembic_config(connection)  # type: ignore[arg-type]
        command.downgrade(config, "0003")
        command.upgrade(config, "head")

    async with database.engine.begin() as conn:
        await conn.run_sync(down_and_up)
    assert (await database.report()).version == head_revision()
    repo = FaqRepository(database.engine)
    assert (await repo.add(GUILD, data("Works?"), None, NOW)).question == "Works?"


# ---------------------------------------------------------------------------------- vectors

MODEL = "all-MiniLM-L6-v2-int8/abc/128"


def digest(n: int) -> bytes:
    return bytes([n]) * 32


def vector(n: int, size: int = 384) -> bytes:
    return bytes([n % 256]) * (4 * size)


async def test_stored_vectors_round_trip_per_guild_and_model(repo: FaqRepository) -> None:
    await repo.store_vectors(GUILD, MODEL, {digest(1): vector(1), digest(2): vector(2)})
    await repo.store_vectors(OTHER_GUILD, MODEL, {digest(1): vector(9)})
    await repo.store_vectors(GUILD, "another-model", {digest(1): vector(7)})
    assert await repo.vectors(GUILD, MODEL) == {digest(1): vector(1), digest(2): vector(2)}
    assert await repo.vectors(OTHER_GUILD, MODEL) == {digest(1): vector(9)}
    assert await repo.vectors(GUILD, "another-model") == {digest(1): vector(7)}
    assert await repo.vectors(GUILD, "unknown") == {}


async def test_storing_a_known_digest_again_keeps_one_row(repo: FaqRepository) -> None:
    await repo.store_vectors(GUILD, MODEL, {digest(1): vector(1)})
    await repo.store_vectors(GUILD, MODEL, {digest(1): vector(1), digest(3): vector(3)})
    await repo.store_vectors(GUILD, MODEL, {})
    assert await repo.vectors(GUILD, MODEL) == {digest(1): vector(1), digest(3): vector(3)}


async def test_many_vectors_are_stored_and_pruned_in_chunks(repo: FaqRepository) -> None:
    # More rows than one statement carries (and than SQLite's default bind limit of 999).
    rows = {n.to_bytes(32, "big"): vector(n, 8) for n in range(1_300)}
    await repo.store_vectors(GUILD, MODEL, rows)
    assert await repo.vectors(GUILD, MODEL) == rows
    keep = {n.to_bytes(32, "big") for n in range(0, 1_300, 3)}
    assert await repo.prune_vectors(GUILD, MODEL, keep) == 1_300 - len(keep)
    assert set(await repo.vectors(GUILD, MODEL)) == keep


async def test_pruning_keeps_used_texts_and_drops_other_models(repo: FaqRepository) -> None:
    await repo.store_vectors(GUILD, MODEL, {digest(1): vector(1), digest(2): vector(2)})
    await repo.store_vectors(GUILD, "old-model", {digest(1): vector(5)})
    await repo.store_vectors(OTHER_GUILD, MODEL, {digest(2): vector(2)})
    assert await repo.prune_vectors(GUILD, MODEL, {digest(1)}) == 2
    assert await repo.vectors(GUILD, MODEL) == {digest(1): vector(1)}
    assert await repo.vectors(GUILD, "old-model") == {}
    assert await repo.vectors(OTHER_GUILD, MODEL) == {digest(2): vector(2)}  # untouched
    assert await repo.prune_vectors(GUILD, MODEL, set()) == 1
    assert await repo.vectors(GUILD, MODEL) == {}


async def test_deleting_a_guild_deletes_its_vectors_only(repo: FaqRepository) -> None:
    await repo.add(GUILD, data("Cost?"), MIA, NOW)
    await repo.store_vectors(GUILD, MODEL, {digest(1): vector(1)})
    await repo.store_vectors(OTHER_GUILD, MODEL, {digest(1): vector(1)})
    await repo.delete_guild(GUILD)
    assert await repo.vectors(GUILD, MODEL) == {}
    assert await repo.vectors(OTHER_GUILD, MODEL) == {digest(1): vector(1)}
