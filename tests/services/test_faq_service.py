"""The FAQ through its service: ranking kept in step, the queue, learning, import and export."""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt
import pytest

from bot.clock import FrozenClock
from bot.domain.faq_ranking import chat_vectors
from bot.domain.text import terms
from bot.errors import InvalidInput, LimitReached, NotFound
from bot.services import faq as faq_module
from bot.services.faq import (
    ANSWER_MAX,
    IMPORT_MAX_BYTES,
    MAX_ALIASES,
    MAX_ENTRIES,
    MAX_TAGS,
    QUESTION_MAX,
    TAG_MAX,
    Answer,
    FaqService,
    Queued,
    parse_exchange,
)
from db.engine import Database
from db.repositories.faq import FaqRepository
from db.repositories.member_preferences import MemberPreferencesRepository

GUILD = 1_100_000_000_000_000_001
OTHER_GUILD = 1_100_000_000_000_000_009
SAM = 1_200_000_000_000_000_002
ADA = 1_200_000_000_000_000_003
MIA = 1_200_000_000_000_000_004
CHANNEL = 1_300_000_000_000_000_001
MESSAGE = 1_400_000_000_000_000_001

COST_ANSWER = "A monthly subscription; financial aid exists for those who qualify."


def make_service(database: Database, clock: FrozenClock, **kwargs: object) -> FaqService:
    return FaqService(
        FaqRepository(database.engine),
        MemberPreferencesRepository(database.engine),
        clock,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture
def service(database: Database, clock: FrozenClock) -> FaqService:
    return make_service(database, clock)


async def seed(service: FaqService) -> dict[str, int]:
    cost = await service.add(
        GUILD, MIA, "How much does the certificate cost?", COST_ANSWER, "What is the price?"
    )
    time = await service.add(
        GUILD, MIA, "How long does the certificate take?", "About seven months at 6 h a week."
    )
    git = await service.add(GUILD, MIA, "Will I learn Git and GitHub?", "Yes, in course 2.")
    return {"cost": cost.id, "time": time.id, "git": git.id}


def exchange(*entries: object, version: object = 1) -> bytes:
    return json.dumps({"version": version, "entries": list(entries)}).encode()


# ------------------------------------------------------------------------------------- ask


async def test_a_confident_question_gets_the_entry_and_counts_its_use(service: FaqService) -> None:
    ids = await seed(service)
    result = await service.ask(GUILD, SAM, "how much does the cert cost??", CHANNEL)
    assert isinstance(result, Answer) and result.entry.id == ids["cost"]
    assert result.entry.usage_count == 1 and result.confidence >= 0.48
    assert all(r.id != ids["cost"] for r in result.related)


async def test_an_unconfident_question_joins_the_queue(service: FaqService) -> None:
    await seed(service)
    result = await service.ask(GUILD, SAM, "Can I bring my dog to the meetup?", CHANNEL)
    assert isinstance(result, Queued)
    assert result.item.reason == "unanswered" and result.item.ask_count == 1
    assert result.item.askers[0].user_id == SAM and result.item.askers[0].channel_id == CHANNEL


async def test_an_empty_faq_queues_everything(service: FaqService) -> None:
    assert isinstance(await service.ask(GUILD, SAM, "How much does it cost?", CHANNEL), Queued)


async def test_questions_that_are_too_short_long_or_wordless_are_refused(
    service: FaqService,
) -> None:
    for question in ("", "hi", "?!?!", "💸💸💸", "x" * 301):
        with pytest.raises(InvalidInput):
            await service.ask(GUILD, SAM, question, CHANNEL)
    assert await service.open_count(GUILD) == 0


async def test_duplicates_merge_whatever_their_case_accents_and_punctuation(
    service: FaqService,
) -> None:
    first = await service.ask(GUILD, SAM, "Qué es el café?", CHANNEL)
    second = await service.ask(GUILD, ADA, "que ES el   cafe", CHANNEL)
    assert isinstance(first, Queued) and isinstance(second, Queued)
    assert second.item.id == first.item.id and second.item.ask_count == 2
    assert (await service.queue(GUILD)).total == 1


async def test_another_guilds_entries_are_invisible(service: FaqService) -> None:
    await seed(service)
    result = await service.ask(OTHER_GUILD, SAM, "How much does the certificate cost?", CHANNEL)
    assert isinstance(result, Queued)
    assert await service.suggestions(OTHER_GUILD, "cost") == []
    with pytest.raises(NotFound):
        await service.get(OTHER_GUILD, 1)


# ----------------------------------------------------------------------- index kept in step


async def test_edits_and_removals_reach_the_index(service: FaqService) -> None:
    ids = await seed(service)
    await service.ask(GUILD, SAM, "warm the index", CHANNEL)
    await service.edit(
        GUILD, ids["git"], "Is version control taught?", "Yes, Git.", "Do we use GitHub?"
    )
    edited = await service.ask(GUILD, SAM, "is version control taught", CHANNEL)
    assert isinstance(edited, Answer) and edited.entry.id == ids["git"]
    await service.remove(GUILD, ids["git"])
    assert isinstance(await service.ask(GUILD, SAM, "is version control taught", CHANNEL), Queued)
    with pytest.raises(NotFound):
        await service.remove(GUILD, ids["git"])


async def test_a_fresh_service_reads_the_same_faq(
    service: FaqService, database: Database, clock: FrozenClock
) -> None:
    ids = await seed(service)
    fresh = make_service(database, clock)
    result = await fresh.ask(GUILD, SAM, "how long does the certificate take", CHANNEL)
    assert isinstance(result, Answer) and result.entry.id == ids["time"]


async def test_add_refuses_an_existing_question_and_bad_text(service: FaqService) -> None:
    ids = await seed(service)
    with pytest.raises(InvalidInput, match=f"entry #{ids['cost']}"):
        await service.add(GUILD, MIA, "how much does the CERTIFICATE cost", "again")
    with pytest.raises(InvalidInput):
        await service.add(GUILD, MIA, "Fine question?", "   ")
    with pytest.raises(InvalidInput):
        await service.add(GUILD, MIA, "Fine question?", "x" * 4001)
    entry = await service.add(GUILD, MIA, "Aliases?", "ok", "one, One!, two ,, aliases")
    assert entry.aliases == ("one", "two")  # duplicates and the question itself dropped


async def test_edit_refuses_another_entrys_question(service: FaqService) -> None:
    ids = await seed(service)
    with pytest.raises(InvalidInput, match=f"#{ids['time']}"):
        await service.edit(GUILD, ids["cost"], "How long does the certificate take?", "x", "")


async def test_autocomplete_by_id_words_and_typos(database: Database, clock: FrozenClock) -> None:
    ids = await seed(make_service(database, clock))
    service = make_service(database, clock)  # as after a restart
    # Cold: an autocomplete can't wait for the index, so it matches words and starts the build.
    assert not service.ready(GUILD)
    assert await service.suggestions(GUILD, "certficate cost") == []
    await service.settled()
    assert service.ready(GUILD)
    assert [e.id for e in await service.suggestions(GUILD, "")] == list(ids.values())
    assert (await service.suggestions(GUILD, f"#{ids['git']}"))[0].id == ids["git"]
    assert [e.id for e in await service.suggestions(GUILD, "price")] == [ids["cost"]]
    assert (await service.suggestions(GUILD, "certficate cost"))[0].id == ids["cost"]


async def test_pages_are_ten_entries(service: FaqService) -> None:
    for n in range(23):
        await service.add(GUILD, MIA, f"Question number {n}?", "answer")
    third = await service.page(GUILD, 3)
    assert (third.page, third.pages, third.total, len(third.entries)) == (3, 3, 23, 3)
    assert (await service.page(GUILD, 99)).page == 3  # past the end: the last page
    empty = await service.page(OTHER_GUILD, 1)
    assert (empty.page, empty.pages, empty.entries) == (1, 1, ())


# --------------------------------------------------------------------------------- feedback


async def test_only_the_askers_not_helpful_queues_the_question(service: FaqService) -> None:
    ids = await seed(service)
    kwargs = {
        "asker_id": SAM,
        "question": "what does it cost",
        "channel_id": CHANNEL,
        "message_id": MESSAGE,
    }
    other = await service.feedback(GUILD, ids["cost"], ADA, False, **kwargs)  # type: ignore[arg-type]
    assert not other.by_asker and other.queued is None
    own = await service.feedback(GUILD, ids["cost"], SAM, False, **kwargs)  # type: ignore[arg-type]
    assert own.by_asker and own.queued is not None
    assert own.queued.reason == "not-helpful" and own.queued.shown_entry_id == ids["cost"]
    assert own.queued.askers[0].message_id == MESSAGE
    again = await service.feedback(GUILD, ids["cost"], SAM, False, **kwargs)  # type: ignore[arg-type]
    assert again.queued is None and not again.vote.changed
    assert again.vote.entry.not_helpful_count == 2
    assert (await service.queue(GUILD)).total == 1


async def test_feedback_on_a_removed_entry_is_not_found(service: FaqService) -> None:
    ids = await seed(service)
    await service.remove(GUILD, ids["git"])
    with pytest.raises(NotFound):
        await service.feedback(
            GUILD,
            ids["git"],
            SAM,
            True,
            asker_id=SAM,
            question=None,
            channel_id=None,
            message_id=None,
        )


# ------------------------------------------------------------------------------------ queue


async def test_answering_makes_an_entry_that_answers_next_time(
    service: FaqService, database: Database, clock: FrozenClock
) -> None:
    await MemberPreferencesRepository(database.engine).set_reminders(GUILD, ADA, True, clock.now())
    first = await service.ask(GUILD, SAM, "Can I pay with PayPal?", CHANNEL)
    await service.ask(GUILD, ADA, "can i pay with paypal", CHANNEL + 1)
    assert isinstance(first, Queued)
    page = await service.queue(GUILD)
    assert [line.item.ask_count for line in page.lines] == [2]

    result = await service.answer(GUILD, first.item.id, "Yes, Coursera takes PayPal.", MIA)
    assert result.how == "new-entry" and result.entry.question == "Can I pay with PayPal?"
    assert [(r.user_id, r.by_dm, r.channel_id) for r in result.recipients] == [
        (SAM, False, CHANNEL),
        (ADA, True, CHANNEL + 1),
    ]
    again = await service.ask(GUILD, SAM, "can I pay with paypal?", CHANNEL)
    assert isinstance(again, Answer) and again.entry.id == result.entry.id
    assert (await service.queue(GUILD)).total == 0
    with pytest.raises(InvalidInput, match="answered already"):
        await service.answer(GUILD, first.item.id, "again", MIA)


async def test_answering_with_an_entry_reference_teaches_it_the_phrasing(
    service: FaqService,
) -> None:
    ids = await seed(service)
    phrasing = "is this going to empty my wallet"
    asked = await service.ask(GUILD, SAM, phrasing, CHANNEL)
    assert isinstance(asked, Queued)
    result = await service.answer(GUILD, asked.item.id, f"# {ids['cost']}", MIA)
    assert result.how == "alias" and phrasing in result.entry.aliases
    learned = await service.ask(GUILD, ADA, "Is this going to EMPTY my wallet?!", CHANNEL)
    assert isinstance(learned, Answer) and learned.entry.id == ids["cost"]


async def test_answer_errors_are_clear(service: FaqService) -> None:
    ids = await seed(service)
    asked = await service.ask(GUILD, SAM, "Where is the capstone rubric?", CHANNEL)
    assert isinstance(asked, Queued)
    with pytest.raises(NotFound, match="no such question"):
        await service.answer(GUILD, asked.item.id + 100, "x", MIA)
    with pytest.raises(NotFound, match="no such question"):
        await service.answer(OTHER_GUILD, asked.item.id, "x", MIA)
    with pytest.raises(NotFound, match="#999"):
        await service.answer(GUILD, asked.item.id, "#999", MIA)
    full = await service.edit(
        GUILD,
        ids["git"],
        "Will I learn Git and GitHub?",
        "Yes.",
        "\n".join(f"git phrasing {n}" for n in range(MAX_ALIASES)),
    )
    assert len(full.aliases) == MAX_ALIASES
    with pytest.raises(LimitReached, match="phrasings"):
        await service.answer(GUILD, asked.item.id, f"#{ids['git']}", MIA)
    assert (await service.queue(GUILD)).total == 1  # still waiting


async def test_item_autocomplete_puts_the_most_asked_first(service: FaqService) -> None:
    once = await service.ask(GUILD, SAM, "Where is the capstone rubric?", CHANNEL)
    twice = await service.ask(GUILD, SAM, "Is there a Discord for alumni?", CHANNEL)
    await service.ask(GUILD, ADA, "Is there a Discord for alumni?", CHANNEL)
    assert isinstance(once, Queued) and isinstance(twice, Queued)
    assert [i.id for i in await service.item_suggestions(GUILD, "")] == [
        twice.item.id,
        once.item.id,
    ]
    assert [i.id for i in await service.item_suggestions(GUILD, "rubric")] == [once.item.id]
    assert await service.item_suggestions(OTHER_GUILD, "") == []


async def test_the_weekly_counter_counts_answered_questions(
    service: FaqService, clock: FrozenClock
) -> None:
    asked = await service.ask(GUILD, SAM, "Where is the capstone rubric?", CHANNEL)
    assert isinstance(asked, Queued)
    await service.answer(GUILD, asked.item.id, "In the last course.", MIA)
    start = clock.now() - timedelta(days=1)
    assert await service.answered_between(GUILD, start, start + timedelta(days=7)) == 1
    assert await service.answered_between(GUILD, start - timedelta(days=7), start) == 0


# --------------------------------------------------------------------------- import/export


async def test_import_adds_and_updates_by_normalised_question(service: FaqService) -> None:
    ids = await seed(service)
    result = await service.import_file(
        GUILD,
        MIA,
        exchange(
            {
                "question": "HOW much does the certificate cost",
                "answer": "New answer.",
                "aliases": ["pricing?"],
                "tags": ["money"],
            },
            {"question": "Is there a mobile app?", "answer": "Yes."},
        ),
    )
    assert (result.created, result.updated) == (1, 1)
    cost = await service.get(GUILD, ids["cost"])
    assert cost.answer == "New answer." and cost.tags == ("money",)
    assert cost.aliases == ("pricing?", "What is the price?")  # learned phrasings stay
    answered = await service.ask(GUILD, SAM, "pricing?", CHANNEL)
    assert isinstance(answered, Answer) and answered.entry.id == ids["cost"]


async def test_export_then_import_round_trips(
    service: FaqService, database: Database, clock: FrozenClock
) -> None:
    await seed(service)
    await service.add(GUILD, MIA, "Émojis 🎉 and ünïcödé?", "Sí ✅ — **bold** @everyone")
    exported = await service.export(GUILD, 10_000_000)
    assert exported.filename == "faq.json" and exported.entries == 4
    document = json.loads(exported.data)
    assert document["version"] == 1 and len(document["entries"]) == 4
    again = await service.import_file(GUILD, MIA, exported.data)
    assert (again.created, again.updated) == (0, 4)
    other = await service.import_file(OTHER_GUILD, MIA, exported.data)
    assert other.created == 4
    assert json.loads((await service.export(OTHER_GUILD, 10_000_000)).data) == document


async def test_export_fits_the_upload_limit_compact_then_gzipped(service: FaqService) -> None:
    for n in range(30):
        await service.add(GUILD, MIA, f"Question {n} about 日本語?", "答え " * 500)
    full = await service.export(GUILD, 10_000_000)
    assert full.filename == "faq.json" and b"\n  " in full.data  # indented when it fits
    compact = await service.export(GUILD, len(full.data) - 1)
    assert compact.filename == "faq.json" and b"\n" not in compact.data
    assert json.loads(compact.data) == json.loads(full.data)
    packed = await service.export(GUILD, len(compact.data) - 1)
    assert packed.filename == "faq.json.gz" and len(packed.data) < len(compact.data)
    assert json.loads(gzip.decompress(packed.data)) == json.loads(full.data)
    # What export writes, import reads back, gzipped or not.
    again = await service.import_file(GUILD, MIA, packed.data)
    assert (again.created, again.updated) == (0, 30)
    with pytest.raises(LimitReached, match="even gzipped"):
        await service.export(GUILD, len(packed.data) - 1)


def test_the_import_limit_covers_the_largest_export() -> None:
    field = "\x01"  # escaped as \u0001 in JSON: the longest a character gets
    document = {
        "version": 1,
        "entries": [
            {
                "question": field * QUESTION_MAX,
                "answer": field * ANSWER_MAX,
                "aliases": [field * 199] * MAX_ALIASES,
                "tags": [field * TAG_MAX] * MAX_TAGS,
            }
        ]
        * MAX_ENTRIES,
    }
    largest = len(json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode())
    assert largest <= IMPORT_MAX_BYTES


def test_a_broken_or_oversized_gzip_is_refused() -> None:
    with pytest.raises(InvalidInput, match="can't be unpacked"):
        parse_exchange(b"\x1f\x8b" + b"not really gzip")
    bomb = gzip.compress(b" " * (IMPORT_MAX_BYTES + 10))
    with pytest.raises(InvalidInput, match="too big"):
        parse_exchange(bomb)


async def test_short_aliases_import_and_answer(service: FaqService) -> None:
    raw = exchange(
        {"question": "How do I set my timezone?", "answer": "/me timezone", "aliases": ["tz"]},
        {"question": "Can you look at my resume?", "answer": "Post it", "aliases": ["CV", "X"]},
    )
    assert (await service.import_file(GUILD, MIA, raw)).created == 2
    answered = await service.ask(GUILD, SAM, "tz?", CHANNEL)  # /faq ask takes 3+ characters
    assert isinstance(answered, Answer) and answered.entry.question == "How do I set my timezone?"
    cv = await service.ask(GUILD, SAM, "CV?", CHANNEL)
    assert isinstance(cv, Answer) and cv.entry.aliases == ("CV", "X")
    with pytest.raises(InvalidInput, match="only symbols"):
        parse_exchange(exchange({"question": "Symbols?", "answer": "x", "aliases": ["?!"]}))


async def test_the_starter_pack_imports_and_answers(service: FaqService) -> None:
    result = await service.import_pack(GUILD, MIA, "meta-back-end")
    assert result.created >= 25 and result.updated == 0
    again = await service.import_pack(GUILD, MIA, "meta-back-end")
    assert again.created == 0 and again.updated == result.created
    with pytest.raises(InvalidInput):
        await service.import_pack(GUILD, MIA, "nope")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"{not json", "isn't valid JSON (line 1, column 2"),
        (b"\xff\xfe\x00", "isn't UTF-8"),
        (b"[1, 2]", "one JSON object"),
        (b'{"entries": []}', "no `version`"),
        (exchange({"question": "Q??", "answer": "A"}, version=2), "version 2"),
        (exchange({"question": "Q??", "answer": "A"}, version=True), "version True"),
        (b'{"version": 1}', "`entries` list"),
        (exchange(), "no entries"),
        (b'{"version": 1, "entries": [], "extra": 1}', "Unknown field `extra`"),
        (b"[" * 100_000 + b"]" * 100_000, "nests far too deeply"),
    ],
)
def test_import_rejects_malformed_files(raw: bytes, message: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_exchange(raw)
    assert message in info.value.message


def test_import_errors_name_the_bad_entries() -> None:
    raw = exchange(
        {"question": "Fine question?", "answer": "Fine."},
        {"question": "No answer here?"},
        {"question": "Q?", "answer": "too short question"},
        "just text",
        {"question": "Aliases wrong?", "answer": "x", "aliases": "not a list"},
        {"question": "fine QUESTION", "answer": "duplicate"},
        {"question": "Typo field?", "answer": "x", "alias": ["a"]},
        {"question": "Long answer?", "answer": "x" * 4001},
    )
    with pytest.raises(InvalidInput) as info:
        parse_exchange(raw)
    message = info.value.message
    assert message.startswith("Nothing was imported")
    assert "Entry 2 (“No answer here?”): `answer` is missing." in message
    assert "Entry 3 (“Q?”): a question must be 3–300 characters (it has 2)." in message
    assert "Entry 4: must be an object" in message
    assert "Entry 5 (“Aliases wrong?”): `aliases` must be a list of texts." in message
    assert "Entry 6 (“fine QUESTION”): same question as entry 1." in message
    assert "…and 2 more." in message and len(message) < 2000


def test_import_refuses_oversized_files_before_parsing() -> None:
    padding = " " * (IMPORT_MAX_BYTES + 1)
    with pytest.raises(InvalidInput, match="too big"):
        parse_exchange(exchange({"question": "Q??", "answer": "A"}) + padding.encode())


def test_mentions_in_import_errors_cannot_render() -> None:
    with pytest.raises(InvalidInput) as info:
        parse_exchange(exchange({"question": "@everyone <@123> hi?"}))
    assert "@everyone" not in info.value.message and "@\u200beveryone" in info.value.message


async def test_import_respects_the_entry_limit(
    service: FaqService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(faq_module, "MAX_ENTRIES", 3)
    await seed(service)
    with pytest.raises(LimitReached, match="Nothing was imported"):
        await service.import_file(GUILD, MIA, exchange({"question": "One more?", "answer": "x"}))
    with pytest.raises(LimitReached):
        await service.add(GUILD, MIA, "One more?", "x")
    assert len((await service.page(GUILD)).entries) == 3


# ------------------------------------------------------------------------ members' data


async def test_members_data_export_and_forget(service: FaqService) -> None:
    ids = await seed(service)
    await service.ask(GUILD, SAM, "Can I bring my dog to the meetup?", CHANNEL)
    await service.feedback(
        GUILD,
        ids["cost"],
        SAM,
        True,
        asker_id=SAM,
        question=None,
        channel_id=None,
        message_id=None,
    )
    exported = (await service.export_member(GUILD, SAM))["faq"]
    assert exported["votes"][0]["entry_id"] == ids["cost"]
    assert exported["questions_asked"][0]["question"] == "Can I bring my dog to the meetup?"
    forgotten = {f.what: f.count for f in await service.forget_member(GUILD, SAM)}
    assert forgotten["FAQ votes"] == 1 and forgotten["questions you asked the FAQ"] == 1
    assert await service.open_count(GUILD) == 0
    assert (await service.get(GUILD, ids["cost"])).helpful_count == 0
    assert await service.purge_guild(GUILD) >= 3
    assert isinstance(await service.ask(GUILD, SAM, "How much does it cost?", CHANNEL), Queued)


# ----------------------------------------------------------------------- the semantic model


class HashingEmbedder:
    """Deterministic stand-in for the model: a normalised bag of hashed words."""

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        out = np.zeros((len(texts), 64), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in terms(text):
                out[row, int(hashlib.sha256(word.encode()).hexdigest(), 16) % 64] += 1.0
            norm = np.linalg.norm(out[row])
            if norm:
                out[row] /= norm
        return out


async def test_the_model_loads_once_in_the_background_and_takes_over(
    database: Database, clock: FrozenClock
) -> None:
    loads: list[datetime] = []

    def load() -> HashingEmbedder:
        loads.append(datetime.now(UTC))
        return HashingEmbedder()

    service = make_service(database, clock, load_embedder=load)
    ids = await seed(service)
    await service.ask(GUILD, SAM, "warm the lexical index", CHANNEL)
    assert service.ready(GUILD) and not service.semantic(GUILD)
    await service.warm_up()
    await service.warm_up()
    assert len(loads) == 1
    await service.settled()  # the embeddings are attached in the background
    assert service.semantic(GUILD)
    result = await service.ask(GUILD, SAM, "How long does the certificate take?", CHANNEL)
    assert isinstance(result, Answer) and result.entry.id == ids["time"]


async def test_start_up_builds_every_guild_with_entries(
    database: Database, clock: FrozenClock
) -> None:
    await seed(make_service(database, clock))
    service = make_service(database, clock, load_embedder=HashingEmbedder)  # a restart
    assert not service.ready(GUILD)
    await service.warm_up()
    await service.settled()
    assert service.ready(GUILD) and service.semantic(GUILD)
    assert not service.ready(OTHER_GUILD)  # no entries there: nothing to build


async def test_a_model_that_fails_to_load_is_logged_once_and_ranking_stays_lexical(
    database: Database, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    def load() -> HashingEmbedder:
        raise OSError("model file missing")

    service = make_service(database, clock, load_embedder=load)
    ids = await seed(service)
    with caplog.at_level(logging.WARNING, logger="bot.services.faq"):
        await service.warm_up()
        await service.warm_up()
    lines = [r for r in caplog.records if "semantic model" in r.getMessage()]
    assert len(lines) == 1 and "model file missing" in lines[0].getMessage()
    await service.settled()
    assert service.ready(GUILD) and not service.semantic(GUILD)
    result = await service.ask(GUILD, SAM, "will i learn git", CHANNEL)
    assert isinstance(result, Answer) and result.entry.id == ids["git"]


async def test_changes_while_embedding_are_not_lost(
    database: Database, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(faq_module, "INLINE_TEXTS", 0)  # embed in the background, as a big FAQ
    monkeypatch.setattr(faq_module, "EMBED_CHUNK", 2)
    gate = threading.Event()

    class Slow(HashingEmbedder):
        def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
            gate.wait(timeout=30)
            return super().embed(texts)

    ids = await seed(make_service(database, clock))
    service = make_service(database, clock, embedder=Slow())  # as after a restart
    await service.ask(GUILD, SAM, "warm the lexical index", CHANNEL)  # embedding starts
    assert not service.semantic(GUILD)
    added = await service.add(GUILD, MIA, "Is there a Discord study hall?", "Yes: #study-hall.")
    await service.remove(GUILD, ids["git"])
    gate.set()
    await service.settled()
    assert service.semantic(GUILD)
    hall = await service.ask(GUILD, SAM, "is there a discord study hall", CHANNEL)
    assert isinstance(hall, Answer) and hall.entry.id == added.id
    assert all(e.id != ids["git"] for e in await service.suggestions(GUILD, "git"))


async def test_an_import_rebuilds_a_semantic_index_once_reusing_embeddings(
    database: Database, clock: FrozenClock
) -> None:
    class Counting(HashingEmbedder):
        texts = 0

        def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
            Counting.texts += len(texts)
            return super().embed(texts)

    service = make_service(database, clock, embedder=Counting())
    await service.import_pack(GUILD, MIA, "meta-back-end")
    await service.ask(GUILD, SAM, "warm up", CHANNEL)
    await service.settled()
    assert service.semantic(GUILD)
    before = Counting.texts
    raw = exchange({"question": "Is there a Discord study hall?", "answer": "Yes."})
    await service.import_file(GUILD, MIA, raw)
    assert service.semantic(GUILD)
    assert Counting.texts - before == 2  # only the new entry's question and answer
    hall = await service.ask(GUILD, SAM, "is there a discord study hall", CHANNEL)
    assert isinstance(hall, Answer)


async def test_without_the_extra_ranking_stays_lexical(service: FaqService) -> None:
    await service.warm_up()  # no loader: nothing to do
    ids = await seed(service)
    result = await service.ask(GUILD, SAM, "will i learn git", CHANNEL)
    assert isinstance(result, Answer) and result.entry.id == ids["git"]


# ------------------------------------------------------------------ stored vectors (the real model)


class SpyEmbedder:
    """The real model, counting the texts it is asked to embed."""

    def __init__(self) -> None:
        from bot.domain.faq_embedding import load_default_embedder

        self._model = load_default_embedder()
        self.model_id = self._model.model_id
        self.dimensions = self._model.dimensions
        self.texts: list[str] = []
        chat_vectors(self)  # once per embedder, whatever the FAQ: not counted
        self.texts.clear()

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        self.texts.extend(texts)
        return self._model.embed(texts)


QUESTION = "how much money is the certificate"


async def stored(database: Database, guild_id: int = GUILD) -> dict[bytes, bytes]:
    from bot.domain.faq_embedding import MODEL_ID

    return await FaqRepository(database.engine).vectors(guild_id, MODEL_ID)


async def test_a_restart_reuses_stored_vectors_and_embeds_only_the_question(
    database: Database, clock: FrozenClock
) -> None:
    first = SpyEmbedder()
    service = make_service(database, clock, embedder=first)
    ids = await seed(service)
    await service.settled()
    assert service.semantic(GUILD) and first.texts  # the entries were embedded once
    assert len(await stored(database)) == 7  # 3 questions, 1 alias, 3 answers
    before = await service.ask(GUILD, SAM, QUESTION, CHANNEL)

    again = SpyEmbedder()
    restarted = make_service(database, clock, load_embedder=lambda: again)
    await restarted.warm_up()
    await restarted.settled()
    assert restarted.semantic(GUILD)
    assert again.texts == []  # the index came from stored vectors alone
    after = await restarted.ask(GUILD, SAM, QUESTION, CHANNEL)
    assert again.texts == [QUESTION]  # one model call per question
    assert isinstance(before, Answer) and isinstance(after, Answer)
    assert after.entry.id == before.entry.id == ids["cost"]
    assert after.confidence == before.confidence  # stored vectors rank as fresh ones


async def test_an_edit_embeds_only_changed_texts_and_drops_the_old_ones(
    database: Database, clock: FrozenClock
) -> None:
    spy = SpyEmbedder()
    service = make_service(database, clock, embedder=spy)
    ids = await seed(service)
    await service.settled()
    old = await stored(database)
    spy.texts.clear()
    new_answer = "Forty-nine dollars a month, and financial aid exists."
    await service.edit(
        GUILD, ids["cost"], "How much does the certificate cost?", new_answer, "What is the price?"
    )
    await service.settled()
    assert spy.texts == [new_answer]  # question and alias are unchanged
    now = await stored(database)
    assert len(now) == 7 and len(set(now) - set(old)) == 1  # the old answer's vector went

    restarted_spy = SpyEmbedder()
    restarted = make_service(database, clock, embedder=restarted_spy)
    await restarted.warm_up()
    await restarted.settled()
    assert restarted.semantic(GUILD) and restarted_spy.texts == []


async def test_removed_entries_and_a_purged_guild_leave_no_vectors(
    database: Database, clock: FrozenClock
) -> None:
    service = make_service(database, clock, embedder=SpyEmbedder())
    ids = await seed(service)
    await service.add(OTHER_GUILD, MIA, "Is there a study hall?", "Yes: #study-hall.")
    await service.settled()
    await service.remove(GUILD, ids["git"])
    await service.settled()
    assert len(await stored(database)) == 5  # the Git entry's question and answer went
    await service.purge_guild(GUILD)
    await service.settled()
    assert await stored(database) == {}
    assert len(await stored(database, OTHER_GUILD)) == 2


async def test_an_entry_sharing_a_text_with_a_removed_one_keeps_its_vector(
    database: Database, clock: FrozenClock
) -> None:
    service = make_service(database, clock, embedder=SpyEmbedder())
    ids = await seed(service)
    await service.add(GUILD, MIA, "Is Git taught?", "Yes, in course 2.")  # the Git answer again
    await service.settled()
    await service.remove(GUILD, ids["git"])
    await service.settled()
    spy = SpyEmbedder()
    restarted = make_service(database, clock, embedder=spy)
    await restarted.warm_up()
    await restarted.settled()
    assert restarted.semantic(GUILD) and spy.texts == []


async def test_a_large_faq_embedded_in_the_background_is_stored_for_the_next_start(
    database: Database, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(faq_module, "INLINE_TEXTS", 0)  # in the background, as a big FAQ
    monkeypatch.setattr(faq_module, "EMBED_CHUNK", 2)
    await seed(make_service(database, clock))  # written without the model
    spy = SpyEmbedder()
    service = make_service(database, clock, load_embedder=lambda: spy)
    await service.warm_up()
    await service.settled()
    assert service.semantic(GUILD) and len(spy.texts) == 7
    assert len(await stored(database)) == 7

    again = SpyEmbedder()
    restarted = make_service(database, clock, load_embedder=lambda: again)
    await restarted.warm_up()
    await restarted.settled()
    assert restarted.semantic(GUILD) and again.texts == []
