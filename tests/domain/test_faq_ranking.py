from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.faq_ranking import (
    CONFIDENCE_THRESHOLD,
    MAX_QUERY_CHARS,
    MAX_RELATED,
    FaqDoc,
    FaqIndex,
    Match,
    Ranking,
    chat_vectors,
)
from bot.domain.text import normalize, stem, terms, tokens

DOCS = (
    FaqDoc(
        1,
        "How much does the certificate cost?",
        "It is paid monthly through a subscription; check the course page for the price.",
        ("What is the price of the certificate?", "Is it a monthly subscription?"),
    ),
    FaqDoc(
        2,
        "Is there financial aid?",
        "Coursera offers financial aid to learners who qualify.",
        ("Can I get a scholarship?",),
    ),
    FaqDoc(
        3,
        "How long does it take to finish?",
        "About seven to eight months at five to seven hours a week.",
        ("How many months is the program?",),
    ),
    FaqDoc(
        4,
        "How do I set my timezone?",
        "Use /me timezone and pick your zone.",
        ("How do I change my time zone?",),
    ),
    FaqDoc(
        5,
        "How do I delete my data?",
        "Use /me forget and press the confirm button.",
        ("Erase everything about me",),
    ),
    FaqDoc(
        6,
        "Will I learn Git and GitHub?",
        "Yes, version control with Git and GitHub is part of the program.",
        ("Is version control covered?",),
    ),
)


@pytest.fixture
def index() -> FaqIndex:
    return FaqIndex.build(DOCS)


def best_id(index: FaqIndex, query: str) -> int | None:
    best = index.rank(query).best
    return None if best is None else best.doc_id


# --- normalisation -------------------------------------------------------------------------


def test_normalize_folds_case() -> None:
    assert normalize("HoW MuCh") == "how much"


def test_normalize_strips_accents() -> None:
    assert normalize("Ça coûte combien? Español, naïve, Ångström") == (
        "ca coute combien espanol naive angstrom"
    )


def test_normalize_turns_punctuation_into_spaces() -> None:
    assert normalize("cost?!...(price)/fee;; back-end") == "cost price fee back end"


def test_normalize_joins_apostrophes() -> None:
    assert normalize("can't won’t it's") == "cant wont its"


def test_normalize_drops_emoji() -> None:
    assert normalize("price 💸🤑 please 👍🏽") == "price please"


def test_normalize_removes_zero_width_characters_inside_words() -> None:
    assert normalize("pri\u200bce\u200d co\ufeffst \u2060x") == "price cost x"


def test_normalize_folds_compatibility_forms() -> None:
    assert normalize("ＦＵＬＬ ﬁnance") == "full finance"


def test_normalize_empty_and_symbol_only() -> None:
    assert normalize("") == ""
    assert normalize("  ?!  🍕 \u200b ") == ""


def test_normalize_ascii_and_unicode_paths_agree() -> None:
    text = "Can't FIND the /faq ask cmd -- 100%_sure; it's 2x slower!"
    assert (
        normalize(text)
        == normalize(text + "\u200b")
        == "cant find the faq ask cmd 100 sure its 2x slower"
    )


def test_terms_drop_stop_words_expand_abbreviations_and_stem() -> None:
    assert terms("How many hrs does the cert take?") == ["mani", "hour", "certif", "take"]
    assert stem("courses") == stem("course")
    assert stem("studying") == stem("studies") == stem("study")


def test_tokens_keep_stop_words() -> None:
    assert tokens("How do I?") == ["how", "do", "i"]


# --- matching ------------------------------------------------------------------------------


def test_exact_question_is_answered(index: FaqIndex) -> None:
    ranking = index.rank("How much does the certificate cost?")
    assert ranking.best is not None
    assert ranking.best.doc_id == 1
    assert ranking.best.confidence >= CONFIDENCE_THRESHOLD


@pytest.mark.parametrize(
    "query",
    [
        "HOW MUCH DOES THE CERTIFICATE COST",
        "how much does the certificate cost???",
        "hOw   much does the cértificate cost 💸",
        "how much does the certi\u200bficate cost",
    ],
)
def test_case_accents_punctuation_emoji_zero_width_do_not_matter(
    index: FaqIndex, query: str
) -> None:
    assert best_id(index, query) == 1


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("how much dose the certifcate costt", 1),
        ("finacial aid", 2),
        ("how do i set my timezon", 4),
        ("wil i lern git and guthub", 6),
    ],
)
def test_typos_are_tolerated(index: FaqIndex, query: str, expected: int) -> None:
    assert best_id(index, query) == expected


def test_alias_matches(index: FaqIndex) -> None:
    assert best_id(index, "can i get a scholarship") == 2
    assert best_id(index, "erase everything about me") == 5


def test_answer_is_down_weighted() -> None:
    docs = [
        FaqDoc(1, "What is the refund policy?", "Ask the platform.", ()),
        FaqDoc(2, "Can I pause my plan?", "Yes. The refund policy is on the platform.", ()),
    ]
    ranking = FaqIndex.build(docs).rank("refund policy")
    assert ranking.best is not None
    assert ranking.best.doc_id == 1
    answer_only = [m for m in ranking.candidates if m.doc_id == 2]
    assert not answer_only or answer_only[0].score < ranking.best.score / 2


def test_a_match_in_the_answer_alone_is_not_an_answer() -> None:
    index = FaqIndex.build(
        [FaqDoc(1, "Can I pause my plan?", "The refund policy is on the platform page.", ())]
    )
    assert index.rank("what is the refund policy").best is None


@pytest.mark.parametrize(
    "query",
    ["", "   ", "?!?", "🍕🍕🍕", "\u200b\u200b", "asdfghjkl qwertyuiop", "zzz", "lol hello"],
)
def test_abstains_on_empty_and_nonsense(index: FaqIndex, query: str) -> None:
    ranking = index.rank(query)
    assert ranking.best is None
    assert ranking.related == ()


def test_abstains_on_unrelated_question(index: FaqIndex) -> None:
    assert index.rank("what's the weather in london tomorrow").best is None
    assert index.rank("how do i bake sourdough bread").best is None


def test_related_excludes_best_and_has_at_most_three() -> None:
    questions = [
        "How do I submit a project for peer review?",
        "How do I pause peer reviews?",
        "Who grades peer reviews of a project?",
        "How many peer reviews do I owe?",
        "What if a peer review of my project is unfair?",
        "How much does the certificate cost?",
        "How do I set my timezone?",
        "Is there financial aid?",
    ]
    docs = [FaqDoc(n, q, "See the pinned message.", ()) for n, q in enumerate(questions, 1)]
    ranking = FaqIndex.build(docs).rank("how do i submit my project for a peer review", limit=10)
    assert ranking.best is not None
    assert ranking.best.doc_id == 1
    assert 0 < len(ranking.related) <= MAX_RELATED
    related_ids = [m.doc_id for m in ranking.related]
    assert ranking.best.doc_id not in related_ids
    assert len(set(related_ids)) == len(related_ids)
    assert set(related_ids) <= {2, 3, 4, 5}
    assert all(m.score <= ranking.best.score for m in ranking.related)


def test_candidates_are_sorted_and_limited(index: FaqIndex) -> None:
    ranking = index.rank("how many months does it take", limit=2)
    assert len(ranking.candidates) <= 2
    scores = [m.score for m in ranking.candidates]
    assert scores == sorted(scores, reverse=True)
    assert index.rank("how many months", limit=0) == Ranking(None)


def test_confidence_is_lower_when_two_entries_tie() -> None:
    one = FaqIndex.build([FaqDoc(1, "How do I export my data?", "Use /me data.", ())])
    two = FaqIndex.build(
        [
            FaqDoc(1, "How do I export my data?", "Use /me data.", ()),
            FaqDoc(2, "How do I export my data as CSV?", "Use /group export.", ()),
        ]
    )
    alone = one.rank("export my data").candidates[0]
    contested = two.rank("export my data").candidates[0]
    assert contested.confidence < alone.confidence


def test_ranking_is_deterministic() -> None:
    forward = FaqIndex.build(DOCS)
    backward = FaqIndex.build(reversed(DOCS))
    for query in ["how much", "how do i", "git", "time", "months to finish the program"]:
        first = forward.rank(query, limit=6)
        assert first == forward.rank(query, limit=6)
        assert first == backward.rank(query, limit=6)


def test_ties_are_broken_by_id() -> None:
    docs = [FaqDoc(n, "Where is the syllabus?", "On the course page.", ()) for n in (9, 3, 5)]
    ranking = FaqIndex.build(docs).rank("where is the syllabus", limit=3)
    assert [m.doc_id for m in ranking.candidates] == [3, 5, 9]


# --- index updates -------------------------------------------------------------------------


def test_upsert_adds_an_entry(index: FaqIndex) -> None:
    assert best_id(index, "is there a discord study group") is None
    index.upsert(FaqDoc(7, "Is there a Discord study group?", "You are in it.", ()))
    assert len(index) == 7
    assert 7 in index
    assert best_id(index, "is there a discord study group") == 7


def test_upsert_replaces_an_entry(index: FaqIndex) -> None:
    index.upsert(FaqDoc(4, "How do I set my timezone?", "Use /me timezone.", ("wrong day shown",)))
    assert best_id(index, "wrong day shown") == 4
    edited = FaqDoc(4, "Where do I pick my region?", "Use /me timezone.", ())
    index.upsert(edited)
    assert len(index) == len(DOCS)
    assert index.get(4) == edited
    assert best_id(index, "wrong day shown") is None
    assert best_id(index, "where do i pick my region") == 4
    assert best_id(index, "how do i change my time zone") != 4


def test_an_answered_queue_question_becomes_an_alias(index: FaqIndex) -> None:
    asked = "do i need a credit card to begin"
    assert best_id(index, asked) is None
    doc = index.get(1)
    assert doc is not None
    index.upsert(FaqDoc(doc.id, doc.question, doc.answer, (*doc.aliases, asked)))
    assert best_id(index, asked) == 1


def test_remove_forgets_an_entry(index: FaqIndex) -> None:
    index.remove(6)
    index.remove(6)  # removing twice is harmless
    index.remove(99)
    assert 6 not in index
    assert len(index) == len(DOCS) - 1
    ranking = index.rank("will i learn git and github", limit=10)
    assert all(m.doc_id != 6 for m in ranking.candidates)


def test_updates_match_a_fresh_build(index: FaqIndex) -> None:
    index.remove(2)
    index.upsert(FaqDoc(8, "Can I get a refund?", "Check the platform's policy.", ()))
    index.upsert(FaqDoc(3, "How long is the program?", "About eight months.", ()))
    fresh = FaqIndex.build(
        [d for d in DOCS if d.id not in (2, 3)]
        + [
            FaqDoc(3, "How long is the program?", "About eight months.", ()),
            FaqDoc(8, "Can I get a refund?", "Check the platform's policy.", ()),
        ]
    )
    for query in ["refund", "how long is the program", "scholarship", "timezone", "git"]:
        assert index.rank(query, limit=8) == fresh.rank(query, limit=8)


def test_removing_everything_leaves_an_empty_index(index: FaqIndex) -> None:
    for doc in DOCS:
        index.remove(doc.id)
    assert len(index) == 0
    assert index.rank("how much does it cost") == Ranking(None)


def test_ranking_on_an_empty_index() -> None:
    ranking = FaqIndex.build([]).rank("how much does it cost")
    assert ranking == Ranking(None, (), ())


# --- hostile input -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "%",
        "_",
        "%%__%%",
        "100% free_for_all?",
        "'; DROP TABLE faq_entries; --",
        '" OR 1=1 --',
        "%' OR '1'='1",
        "{question} {0} %s %(name)s",
        "\x00\x01\x02",
        "@everyone <@123456789> <#42>",
    ],
)
def test_sql_and_format_fragments_are_just_text(index: FaqIndex, query: str) -> None:
    ranking = index.rank(query)
    assert isinstance(ranking, Ranking)
    assert len(ranking.related) <= MAX_RELATED


def test_sql_fragments_inside_a_real_question_still_match(index: FaqIndex) -> None:
    assert best_id(index, "how much does the certificate cost'; DROP TABLE faq; --") == 1


def test_very_long_input_is_handled(index: FaqIndex) -> None:
    long_query = ("how much does the certificate cost " * 400)[:10_000]
    assert len(long_query) == 10_000
    assert best_id(index, long_query) == 1
    noise = "x" * 10_000
    assert index.rank(noise).best is None
    words = " ".join(f"w{n}" for n in range(2_000))
    assert index.rank(words).best is None
    padded = "how do i set my timezone " + "x" * 10_000
    assert best_id(index, padded) == 4  # the cut keeps the start
    assert len(padded) > MAX_QUERY_CHARS


def test_long_answers_are_indexed_in_full() -> None:
    filler = "word " * 790
    with_term = FaqDoc(1, "Where is the office?", filler + "zanzibar", ())
    without = FaqDoc(2, "Where is the office?", filler + "nowhere", ())
    assert len(with_term.answer) <= 4000
    ranking = FaqIndex.build([without, with_term]).rank("office in zanzibar")
    assert [m.doc_id for m in ranking.candidates] == [1, 2]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_any_text_gives_a_well_formed_ranking(query: str) -> None:
    ranking = FaqIndex.build(DOCS).rank(query)
    assert len(ranking.related) <= MAX_RELATED
    assert len(ranking.candidates) <= 4
    for match in ranking.candidates:
        assert 0.0 <= match.confidence <= 1.0
        assert 0.0 <= match.score <= 1.0
    if ranking.best is not None:
        assert ranking.best == ranking.candidates[0]
        assert ranking.best not in ranking.related


# --- semantic path (with a fake embedder; the real model is tested in test_faq_eval) -------


class HashingEmbedder:
    """Deterministic stand-in: a normalised bag of hashed words, plus a shared synonym."""

    def __init__(self) -> None:
        self.calls = 0
        self.synonyms = {"wallet": "cost", "dough": "cost", "cash": "cost"}

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        self.calls += 1
        out = np.zeros((len(texts), 64), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in terms(text):
                word = self.synonyms.get(word, word)
                bucket = int(hashlib.sha256(word.encode()).hexdigest(), 16) % 64
                out[row, bucket] += 1.0
            norm = np.linalg.norm(out[row])
            if norm:
                out[row] /= norm
        return out


def test_semantic_scores_blend_with_lexical() -> None:
    embedder = HashingEmbedder()
    index = FaqIndex.build(DOCS, embedder)
    assert index.semantic
    ranking = index.rank("will it empty my wallet", limit=6)
    assert ranking.candidates
    assert ranking.candidates[0].doc_id == 1
    lexical = FaqIndex.build(DOCS)
    assert not lexical.semantic
    assert all(m.doc_id != 1 for m in lexical.rank("will it empty my wallet").candidates)


def test_semantic_index_updates_embed_only_the_changed_entry() -> None:
    embedder = HashingEmbedder()
    chat_vectors(embedder)  # once per embedder, whatever the FAQ
    index = FaqIndex.build([*DOCS, DOCS[0]], embedder)
    assert embedder.calls == 2  # one batch for the whole build
    calls = embedder.calls
    index.upsert(FaqDoc(9, "Is there a Discord study group?", "You are in it.", ()))
    assert embedder.calls == calls + 1
    assert best_id(index, "is there a discord study group") == 9
    index.remove(9)
    assert all(m.doc_id != 9 for m in index.rank("discord study group", limit=10).candidates)


def test_semantic_path_abstains_on_empty_input() -> None:
    index = FaqIndex.build(DOCS, HashingEmbedder())
    assert index.rank("").best is None
    assert index.rank("🍕").best is None
    assert FaqIndex.build([], HashingEmbedder()).rank("cost") == Ranking(None)


def test_match_is_frozen() -> None:
    match = Match(1, 0.5, 0.5)
    with pytest.raises(AttributeError):
        match.score = 1.0  # type: ignore[misc]
