"""Every parser of user input, fuzzed: anything typed either parses into something valid or
is refused with a short, friendly `UserError` — never another exception.

Parsers: `when` (schedules), timezones, durations and numbers typed into forms, review links
and the FAQ import file. Text strategies mix in what people and attackers paste: mentions,
markdown, control and zero-width characters, SQL and format strings.
"""

from __future__ import annotations

import json
import math
import string
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, available_timezones

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.domain.recurrence import from_canonical, parse_when
from bot.domain.weeks import parse_timezone, timezone_choices
from bot.errors import UserError
from bot.services.checkins import parse_hours, parse_mood
from bot.services.faq import parse_exchange
from bot.services.goals import parse_number, valid_goal_text
from bot.services.reviews import valid_link

NOW = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
ZONES = [ZoneInfo(z) for z in ("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata")]
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

NASTY = [
    "@everyone",
    "@here",
    "<@123456789012345678>",
    "<@&123456789012345678>",
    "```",
    "**",
    "||",
    "\u200b",
    "\u202e",
    "\ufeff",
    "\x00",
    "\n",
    "'); DROP TABLE goals; --",
    "%",
    "_",
    "{0}",
    "%s",
    "🎯",
    "٣",
    "Ⅻ",
    "１２",
    "⁹",
    "\u0660",
]
words = st.sampled_from(
    [
        "mon",
        "tue",
        "daily",
        "weekdays",
        "weekends",
        "09:00",
        "18:30",
        "*",
        "*/15",
        "1-5",
        "2026-12-01",
        "24:00",
        "0",
        "60",
        ",",
        "-",
        "every",
        "at",
        "jan",
        "sun",
        "7",
    ]
)
hostile_text = st.one_of(
    st.text(max_size=200),
    st.lists(st.one_of(words, st.sampled_from(NASTY), st.text(max_size=5)), max_size=8).map(
        " ".join
    ),
)


def refused_politely(parse: Callable[[], Any]) -> Any:
    """The parser's result, or None when it refused with a message fit for a reply."""
    try:
        return parse()
    except UserError as error:
        assert error.message.strip() and len(error.message) <= 1900, error.message
        return None


@FUZZ
@given(text=hostile_text, zone=st.sampled_from(ZONES))
@example(text="*/1 * * * *", zone=ZONES[0])
@example(text="mon " + "0" * 5000, zone=ZONES[0])
@example(text="9999-12-31 23:59", zone=ZONES[0])
def test_when_parses_or_refuses(text: str, zone: ZoneInfo) -> None:
    recurrence = refused_politely(lambda: parse_when(text, NOW, zone))
    if recurrence is None:
        return
    # What is stored reads back as the same schedule, and it fires in the future (or never).
    again = from_canonical(recurrence.canonical())
    assert again.canonical() == recurrence.canonical()
    fire = recurrence.next_fire(NOW, zone)
    assert fire is None or (fire.tzinfo is not None and fire > NOW)


@FUZZ
@given(text=st.one_of(hostile_text, st.sampled_from(sorted(available_timezones()))))
@example(text="america/new york")
@example(text="../../etc/passwd")
@example(text="Europe/Berlin\x00")
def test_timezones_parse_or_refuse(text: str) -> None:
    zone = refused_politely(lambda: parse_timezone(text))
    if zone is not None:
        assert zone.key in available_timezones() | {"UTC"}
    choices = timezone_choices(text)
    assert len(choices) <= 25
    assert all(c in available_timezones() | {"UTC"} and len(c) <= 100 for c in choices)


number_like = st.one_of(
    hostile_text,
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.integers(-(10**30), 10**30).map(str),
    st.from_regex(r"\s*[+-]?[0-9]{0,4}([.,][0-9]{0,3})?\s*(h|hours|H)?\s*", fullmatch=True),
)


@FUZZ
@given(text=number_like)
@example(text="1e309")
@example(text="nan")
@example(text="-0")
@example(text="２")
def test_durations_and_numbers_in_forms_parse_or_refuse(text: str) -> None:
    number = parse_number(text)
    assert number is None or isinstance(number, float)
    hours = refused_politely(lambda: parse_hours(text))
    if hours is not None:
        assert math.isfinite(hours) and 0 <= hours <= 100
    mood = refused_politely(lambda: parse_mood(text))
    assert mood is None or mood in range(1, 6)


@FUZZ
@given(text=hostile_text)
def test_goal_text_is_one_clean_line_or_refused(text: str) -> None:
    cleaned = refused_politely(lambda: valid_goal_text(text))
    if cleaned is not None:
        assert 1 <= len(cleaned) <= 200 and cleaned == cleaned.strip()
        assert "\n" not in cleaned


url_like = st.one_of(
    hostile_text,
    st.builds(
        lambda scheme, host, rest: f"{scheme}://{host}{rest}",
        st.sampled_from(["http", "https", "HTTPS", "javascript", "ftp", "file", ""]),
        st.text(alphabet=string.ascii_letters + string.digits + ".-_@:[]", max_size=30),
        st.text(max_size=40),
    ),
)


@FUZZ
@given(text=url_like)
@example(text="https://user:pw@example.com/")
@example(text="https://example.com:99999/")
@example(text="https://exa mple.com/")
@example(text="https://example.com/>@everyone")
@example(text="javascript:alert(1)//https://example.com")
def test_review_links_are_safe_http_addresses_or_refused(text: str) -> None:
    link = refused_politely(lambda: valid_link(text))
    if link is None:
        return
    parts = urlsplit(link)
    assert parts.scheme.lower() in ("http", "https") and parts.hostname
    # Shown as <link> in messages: nothing can end the link early or hide in it.
    assert not any(ch.isspace() or ch in '<>`"' for ch in link)
    assert parts.username is None and parts.password is None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | hostile_text,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
entry = st.fixed_dictionaries(
    {"question": hostile_text, "answer": hostile_text},
    optional={
        "aliases": st.lists(hostile_text, max_size=3),
        "tags": st.lists(hostile_text, max_size=3),
    },
)
documents = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {"version": st.sampled_from([1, 1, 2, "1", True]), "entries": st.lists(entry, max_size=5)}
    ),
)


@FUZZ
@given(raw=st.one_of(st.binary(max_size=300), documents.map(lambda d: json.dumps(d).encode())))
@example(raw=b"\xef\xbb\xbf" + b'{"version": 1, "entries": []}')
@example(raw=b"[" * 100_000)
@example(raw=b'{"version": 1, "entries": [{"question": "' + b"q" * 400 + b'", "answer": "a"}]}')
def test_faq_import_files_parse_or_refuse(raw: bytes) -> None:
    entries = refused_politely(lambda: parse_exchange(raw))
    if entries is None:
        return
    assert len(entries) >= 1
    keys = [e.question_key for e in entries]
    assert len(keys) == len(set(keys))  # one entry per question
    for item in entries:
        assert 3 <= len(item.question) <= 300 and 1 <= len(item.answer) <= 4000
