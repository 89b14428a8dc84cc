"""The starter pack's validity, and the ranker's figures on the evaluation sets.

The model is loaded once per test process (``load_default_embedder`` is cached) and the pack's
semantic index is built once here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from typing import Any

import jsonschema
import numpy as np
import pytest

from benchmarks.faq_eval_report import (
    EVAL_PATH,
    HELDOUT_PATH,
    PACK_PATH,
    REWORDINGS_PATH,
    TARGET_ABSTENTION,
    TARGET_COVERAGE,
    TARGET_PRECISION,
    UNSEEN_PATH,
    Bm25Baseline,
    EvalSet,
    IndexRanker,
    as_authored,
    figures,
    load_eval,
    load_pack,
    outcomes,
    shares_content_word,
)
from bot.domain import faq_ranking
from bot.domain.faq_embedding import load_default_embedder
from bot.domain.faq_ranking import FaqDoc, FaqIndex, chat_lines
from bot.domain.text import normalize

PACK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["version", "entries"],
    "properties": {
        "version": {"const": 1},
        "entries": {
            "type": "array",
            "minItems": 25,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["question", "answer", "aliases", "tags"],
                "properties": {
                    "question": {"type": "string", "minLength": 3, "maxLength": 300},
                    "answer": {"type": "string", "minLength": 1, "maxLength": 4000},
                    "aliases": {
                        "type": "array",
                        "maxItems": 20,
                        "items": {"type": "string", "minLength": 1, "maxLength": 300},
                    },
                    "tags": {"type": "array", "items": {"type": "string", "minLength": 1}},
                },
            },
        },
    },
}


@cache
def pack_json() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(PACK_PATH.read_text(encoding="utf-8"))
    return data


@cache
def docs() -> tuple[FaqDoc, ...]:
    return tuple(load_pack())


@cache
def tune_set() -> EvalSet:
    return load_eval(docs(), EVAL_PATH)


@cache
def held_out() -> EvalSet:
    return load_eval(docs(), HELDOUT_PATH)


@cache
def unseen() -> EvalSet:
    return load_eval(docs(), UNSEEN_PATH)


@cache
def authored() -> tuple[FaqDoc, ...]:
    return tuple(as_authored(docs(), tune_set()))


@cache
def semantic_index() -> FaqIndex:
    return FaqIndex.build(docs(), load_default_embedder())


# --- the starter pack ----------------------------------------------------------------------


def test_pack_matches_the_exchange_format() -> None:
    jsonschema.validate(pack_json(), PACK_SCHEMA)


def test_pack_has_at_least_25_entries() -> None:
    assert len(pack_json()["entries"]) >= 25


def test_pack_questions_are_unique_once_normalised() -> None:
    questions = [normalize(e["question"]) for e in pack_json()["entries"]]
    assert len(set(questions)) == len(questions)


def test_pack_aliases_do_not_repeat_any_question_or_alias() -> None:
    seen: set[str] = set()
    for entry in pack_json()["entries"]:
        for text in (entry["question"], *entry["aliases"]):
            key = normalize(text)
            assert key not in seen, text
            seen.add(key)


def test_pack_text_is_clean() -> None:
    for entry in pack_json()["entries"]:
        for text in (entry["question"], entry["answer"], *entry["aliases"]):
            assert text == text.strip()
            assert "  " not in text
            assert "@everyone" not in text and "@here" not in text


@pytest.mark.parametrize(
    "command",
    [
        "/goal add",
        "/checkin",
        "/progress",
        "/review submit",
        "/me timezone",
        "/me reminders",
        "/me data",
        "/me forget",
        "/faq ask",
    ],
)
def test_pack_explains_the_bot_commands(command: str) -> None:
    assert any(command in e["answer"] for e in pack_json()["entries"])


def test_pack_says_prices_may_change() -> None:
    cost = next(e for e in pack_json()["entries"] if "cost" in e["tags"])
    assert "change" in cost["answer"] and "course page" in cost["answer"]


def _rewordings() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(REWORDINGS_PATH.read_text(encoding="utf-8"))
    return rows


def test_every_pack_entry_has_two_plain_rewordings_that_are_not_pack_text() -> None:
    rows = _rewordings()
    assert sorted(r["question"] for r in rows) == sorted(d.question for d in docs())
    texts = {normalize(t) for d in docs() for t in (d.question, *d.aliases)}
    for row in rows:
        assert len(row["rewordings"]) == 2
        assert not any(normalize(r) in texts for r in row["rewordings"]), row


@pytest.mark.parametrize("row", _rewordings(), ids=lambda row: row["question"][:40])
def test_the_pack_answers_each_question_and_two_plain_rewordings(row: dict[str, Any]) -> None:
    index = semantic_index()
    expected = next(d.id for d in docs() if d.question == row["question"])
    for text in (row["question"], *row["rewordings"]):
        best = index.rank(text).best
        assert best is not None and best.doc_id == expected, text


# --- the evaluation sets -------------------------------------------------------------------


@pytest.mark.parametrize("held", [held_out, unseen], ids=["held-out", "unseen"])
def test_held_out_set_size_and_spread(held: Callable[[], EvalSet]) -> None:
    data = held()
    assert len(data.paraphrases) >= 150
    assert len({p.expected for p in data.paraphrases}) >= 30
    assert len(data.unrelated) >= 60
    queries = [normalize(p.query) for p in data.paraphrases] + [
        normalize(q) for q in data.unrelated
    ]
    assert len(set(queries)) == len(queries)


@pytest.mark.parametrize("held", [held_out, unseen], ids=["held-out", "unseen"])
def test_held_out_questions_are_neither_pack_text_nor_tune_questions(
    held: Callable[[], EvalSet],
) -> None:
    pack = {normalize(t) for d in docs() for t in (d.question, *d.aliases)}
    tune = {normalize(p.query) for p in tune_set().paraphrases} | {
        normalize(q) for q in tune_set().unrelated
    }
    asked = [p.query for p in held().paraphrases] + list(held().unrelated)
    assert not [q for q in asked if normalize(q) in pack | tune]


def test_the_two_held_out_sets_share_no_line() -> None:
    def lines(data: EvalSet) -> set[str]:
        return {normalize(p.query) for p in data.paraphrases} | set(map(normalize, data.unrelated))

    assert not lines(held_out()) & lines(unseen())


def test_half_of_the_held_out_questions_share_no_content_word_with_their_entry() -> None:
    """(The unseen set was written from the questions alone, not knowing the entries' other
    phrasings: a fifth of it shares no word with them.)"""
    by_id = {d.id: d for d in authored()}
    questions = held_out().paraphrases
    free = [p for p in questions if not shares_content_word(p.query, by_id[p.expected])]
    assert len(free) / len(questions) >= 0.5


def test_chat_lines_are_the_tune_parts_off_topic_lines_and_no_held_out_line() -> None:
    assert all(line == line.strip() and line for line in chat_lines())
    lines = [normalize(line) for line in chat_lines()]
    assert len(lines) >= 100 and len(set(lines)) == len(lines)
    # One list: the tune file has no off-topic lines of its own to drift from the chat lines.
    assert "unrelated" not in json.loads(EVAL_PATH.read_text(encoding="utf-8"))
    held = {normalize(p.query) for s in (held_out(), unseen()) for p in s.paraphrases}
    held |= {normalize(q) for s in (held_out(), unseen()) for q in s.unrelated}
    pack = {normalize(t) for d in docs() for t in (d.question, *d.aliases)}
    assert not set(lines) & (held | pack)


def test_chat_about_an_entrys_topic_is_declined_and_its_question_still_answered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    chat = ("finally got my first django view rendering 🎉", "passed the sql quiz first try!!")
    index = semantic_index()
    for line in chat:
        assert index.rank(line).best is None, line
    django = next(d.id for d in docs() if d.question == "Does the certificate teach Django?")
    for asked in ("do they teach us django in this program", "is django part of the courses"):
        found = index.rank(asked).best
        assert found is not None and found.doc_id == django, asked
    # Without the chat lines, the same lines would get a public answer.
    monkeypatch.setattr(faq_ranking, "chat_vectors", lambda embedder: np.zeros((0, 384)))
    without = FaqIndex.build(docs(), load_default_embedder())
    assert all(without.rank(line).best is not None for line in chat)


def test_the_tune_questions_are_the_members_phrasings_the_pack_learned() -> None:
    by_id = {d.id: d for d in docs()}
    for p in tune_set().paraphrases:
        assert normalize(p.query) in {normalize(a) for a in by_id[p.expected].aliases}, p.query
    assert len(tune_set().paraphrases) >= 150 and len(tune_set().unrelated) >= 40


@pytest.mark.parametrize(
    ("query", "question", "shared"),
    [
        ("is this going to empty my wallet", "How much does it cost?", False),
        ("whats the damage per month", "Is it a monthly subscription?", True),  # inflection
        ("hw much dose it cots", "How much does it cost?", True),  # typo
        ("the price??", "What is the price?", True),
    ],
)
def test_shared_word_rule(query: str, question: str, shared: bool) -> None:
    assert shares_content_word(query, FaqDoc(1, question, "answer", ())) is shared


# --- figures -------------------------------------------------------------------------------


@pytest.mark.parametrize("held", [held_out, unseen], ids=["held-out", "unseen"])
def test_semantic_ranking_meets_the_targets_on_the_held_out_sets(
    held: Callable[[], EvalSet],
) -> None:
    ranker = IndexRanker(semantic_index())
    found = figures(outcomes(ranker, held(), authored(), loo=False), ranker.threshold)
    assert found.coverage >= TARGET_COVERAGE, found
    assert found.precision >= TARGET_PRECISION, found
    assert found.abstention >= TARGET_ABSTENTION, found


def test_semantic_ranking_beats_lexical_and_bm25_by_a_wide_margin() -> None:
    semantic = IndexRanker(semantic_index())
    lexical = IndexRanker(FaqIndex.build(docs()))
    bm25 = Bm25Baseline(docs(), threshold=0.0)
    ours = figures(outcomes(semantic, held_out(), authored(), False), semantic.threshold)
    lex = figures(outcomes(lexical, held_out(), authored(), False), lexical.threshold)
    top1_bm25 = figures(outcomes(bm25, held_out(), authored(), False), 0.0).top1
    assert ours.coverage >= lex.coverage + 0.3
    assert ours.top1 >= top1_bm25 + 0.1


def test_lexical_ranking_keeps_its_precision_on_the_tune_set() -> None:
    ranker = IndexRanker(FaqIndex.build(docs()))
    found = figures(outcomes(ranker, tune_set(), authored(), loo=True), ranker.threshold)
    assert found.precision >= 0.9, found
    assert found.abstention >= 0.9, found
    assert found.coverage >= 0.12, found


def test_a_one_entry_faq_answers_its_question_and_declines_neighbouring_ones() -> None:
    cost = FaqDoc(1, "How much does the certificate cost?", "A monthly subscription.", ("price",))
    index = FaqIndex.build([cost], load_default_embedder())
    assert index.rank("what are the fees").best is not None
    for loosely_related in ("Can I pay for the course with PayPal?", "is this a scam?"):
        assert index.rank(loosely_related).best is None, loosely_related


def test_a_new_entry_is_answered_in_its_own_words_however_close_its_neighbours() -> None:
    """The pack's entries crowd a new one's meaning (study hours, schedules); asked word for
    word — or in a phrasing the moderators added — it is still the answer."""
    meet = FaqDoc(
        10_000, "Where do we meet on Fridays?", "In the voice channel, 18:00.", ("fri meetup",)
    )
    index = FaqIndex.build([*docs(), meet], load_default_embedder())
    for asked in ("Where do we meet on Fridays?", "where do we meet on fridays", "FRI MEETUP!"):
        found = index.rank(asked)
        assert found.best is not None and found.best.doc_id == meet.id, asked
        assert found.best.confidence == 1.0 and meet.id not in {m.doc_id for m in found.related}
    index.remove(meet.id)
    assert index.rank("fri meetup").best is None  # its phrasings go with it


def test_a_phrasing_two_entries_share_is_not_taken_as_word_for_word() -> None:
    first = FaqDoc(1, "How do I reset my password?", "Use the account page.", ("login help",))
    second = FaqDoc(2, "Where do I ask for login help?", "In #support.", ("login help",))
    both = [first, second]
    for index in (FaqIndex.build(both), FaqIndex.build(both, load_default_embedder())):
        found = index.rank("login help")
        assert found.best is None or found.best.confidence < 1.0


def test_a_servers_own_small_faq_answers_its_members_and_declines_their_chat() -> None:
    """A server's own six entries (no learned phrasings): members' wordings are answered, and
    the chat lines keep "anyone wanna study tonight" from getting the study-role entry."""
    entries = (
        ("Where do we meet on Fridays?", ("when's the friday meetup", "where r we meeting friday")),
        ("How do I get the study role?", ("how do i get the role",)),
        ("What timezone does the server use?", ("which timezone do you use",)),
        ("Can I share my portfolio here?", ("can i post my portfolio",)),
        ("Who are the moderators?", ("who mods this server",)),
        ("How do I submit my project for review?", ("how do i get my project reviewed",)),
    )
    docs = [
        FaqDoc(n, question, "See the pinned message.", ())
        for n, (question, _) in enumerate(entries)
    ]
    index = FaqIndex.build(docs, load_default_embedder())
    for doc_id, (_, asked) in enumerate(entries):
        for text in asked:
            found = index.rank(text).best
            assert found is not None and found.doc_id == doc_id, text
    for chat in ("lol", "anyone wanna study tonight", "how do i fix a 404 in django"):
        assert index.rank(chat).best is None, chat


def test_an_entry_about_what_the_chat_lines_cover_is_still_answered() -> None:
    """A server may add an entry on what the shipped chat lines treat as chat (nicknames, a
    movie night): rewordings of it are answered, the chat line does not veto them."""
    nickname = FaqDoc(1000, "How do I change my nickname on this server?", "Edit Profile.", ())
    movies = FaqDoc(1001, "Is there a movie night?", "Fridays 20:00 in #voice.", ())
    index = FaqIndex.build([*docs(), nickname, movies], load_default_embedder())
    asked = {
        "how can i change my nickname here": nickname.id,
        "can i rename myself on the server": nickname.id,
        "when is movie night": movies.id,
    }
    for text, expected in asked.items():
        found = index.rank(text).best
        assert found is not None and found.doc_id == expected, text
