"""Text normalisation for matching free text typed by people (pure, no I/O).

``normalize`` folds case, accents (Unicode NFKD, combining marks dropped), compatibility forms
(full-width letters, ligatures), apostrophes and zero-width characters, and turns every other
non-alphanumeric character (punctuation, emoji, symbols, SQL/LIKE metacharacters) into a space.
``terms`` turns text into index terms: tokens minus stop words, chat abbreviations expanded,
stemmed with the Snowball English stemmer.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer

__all__ = ["STOP_WORDS", "expand", "normalize", "stem", "terms", "tokens"]

# Removed without leaving a space, so "can't" -> "cant" and "che\u200bck" -> "check".
_APOSTROPHES = frozenset("'\u2019\u2018\u02bc\u0060\u00b4")

# Function words and chat filler that carry no topic. Kept small on purpose: words such as
# "free", "long", "help" or "not" in a FAQ question are topical and stay.
_STOP_WORDS_TEXT = """
    a about above after again all also am an and any anybody anyone anything are as at
    be because been before being below between both but by can cant could couldnt
    did didnt do does doesnt doing dont down during each either else ever every few for from
    further get gets getting got had hadnt has hasnt have havent having he her here hers
    herself him himself his how however i id if ill im in into is isnt it its itself ive
    just let lets like me might more most must my myself no nor not now of off on once
    only or other our ours ourselves out over own per please pls plz really same shall she
    should shouldnt so some something such than thanks thank thats thx the their theirs them
    themselves then there theres these they theyre thing things this those through to too
    u under until up ur us very want wanna was wasnt way we were werent what whats when where
    which while who whom whose why will with wont would wouldnt ya yes yet you youre your
    yours yourself yourselves hi hey hello guys anyone ok okay lol pls r ty tho gonna gotta
"""
STOP_WORDS: frozenset[str] = frozenset(_STOP_WORDS_TEXT.split())

#: Chat abbreviations and glued compounds, expanded before stemming. General English / tech chat
#: usage, not tuned to any particular question.
_EXPANSIONS: dict[str, tuple[str, ...]] = {
    "backend": ("back", "end"),
    "frontend": ("front", "end"),
    "fullstack": ("full", "stack"),
    "cert": ("certificate",),
    "certs": ("certificate",),
    "js": ("javascript",),
    "db": ("database",),
    "dbs": ("database",),
    "repo": ("repository",),
    "repos": ("repository",),
    "info": ("information",),
    "uni": ("university",),
    "hr": ("hour",),
    "hrs": ("hour",),
    "wk": ("week",),
    "wks": ("week",),
    "mins": ("minute",),
    "tz": ("timezone",),
    "dev": ("developer",),
    "devs": ("developer",),
    "prog": ("programming",),
    "dm": ("direct", "message"),
    "dms": ("direct", "message"),
}

_STEMMER = snowballstemmer.stemmer("english")
_ASCII_DROP = {ord(c): None for c in _APOSTROPHES if c.isascii()}
_ASCII_SEPARATORS = re.compile(r"[^a-z0-9]+")


def _char_class(ch: str) -> str:
    """'a' keep (letter/digit), 'x' drop silently, ' ' separator."""
    if ch.isalnum():
        return "a"
    if ch in _APOSTROPHES:
        return "x"
    category = unicodedata.category(ch)
    if category in ("Mn", "Me", "Cf"):  # combining marks, zero-width / format characters
        return "x"
    return " "


def normalize(text: str) -> str:
    """Case-, accent- and punctuation-folded text: lowercase words separated by single spaces.

    >>> normalize("  Ça  COÛTE combien?! 💸 ")
    'ca coute combien'
    """
    if text.isascii():  # fast path: no accents, emoji or zero-width characters to fold
        return " ".join(_ASCII_SEPARATORS.sub(" ", text.lower().translate(_ASCII_DROP)).split())
    text = unicodedata.normalize("NFKD", text).casefold()
    out: list[str] = []
    for ch in text:
        kind = _char_class(ch)
        if kind == "a":
            out.append(ch)
        elif kind == " ":
            out.append(" ")
    return " ".join("".join(out).split())


def tokens(text: str) -> list[str]:
    """Normalised words of ``text``, stop words included."""
    return normalize(text).split()


@lru_cache(maxsize=65_536)
def stem(word: str) -> str:
    """The Snowball (Porter 2) English stem of a normalised word: "costs", "costing" -> "cost"."""
    result: str = _STEMMER.stemWord(word)
    return result


def expand(token: str) -> tuple[str, ...]:
    """The words a chat abbreviation or glued compound stands for (itself otherwise)."""
    return _EXPANSIONS.get(token, (token,))


def terms(text: str) -> list[str]:
    """Index terms of ``text``: normalised, stop words removed, abbreviations expanded, stemmed."""
    out: list[str] = []
    for token in tokens(text):
        if token in STOP_WORDS:
            continue
        for word in expand(token):
            if word not in STOP_WORDS:
                out.append(stem(word))
    return out
