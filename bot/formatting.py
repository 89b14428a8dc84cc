"""Words and marks shared by everything that writes text for people: counts, dates, Discord
timestamps and message links, user text made harmless. Discord-free (services and domain use
it too) and English whatever the process locale.

Discord's own escapes (discord.utils.escape_markdown and escape_mentions) are reproduced here
with the same patterns, so text escaped in a service reads exactly as text escaped in a cog.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def plural(count: int, word: str) -> str:
    """'1 goal', '2 goals'."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def day_month(day: date) -> str:
    """'16 Nov'."""
    return f"{day.day} {MONTHS[day.month - 1]}"


def day_text(day: date) -> str:
    """'Wed 18 Nov'."""
    return f"{WEEKDAYS[day.weekday()]} {day_month(day)}"


def week_text(week_start: date) -> str:
    """'week of 16 Nov' (after 'the', or capitalised at the start of a line)."""
    return f"week of {day_month(week_start)}"


def hours_text(hours: float) -> str:
    """'1.5 h', '0.25 h' (up to two decimals, as members type them)."""
    return f"{hours:g} h" if hours == round(hours, 2) else f"{hours:.2f} h"


def rounded_hours_text(hours: float) -> str:
    """'4.3 h', '6 h': hours the bot worked out (a pace, a plan's share), to one decimal."""
    return f"{hours:.1f}".removesuffix(".0") + " h"


def weeks_text(weeks: float) -> str:
    """'0.7 weeks', '1 week', '2 weeks' (the size only, to one decimal)."""
    shown = f"{abs(weeks):.1f}".removesuffix(".0")
    return f"{shown} week{'' if shown == '1' else 's'}"


def runs(values: Sequence[int]) -> list[tuple[int, int]]:
    """Ascending whole numbers as runs of consecutive ones, each (first, last):
    1, 2, 3, 7 → (1, 3), (7, 7)."""
    out: list[tuple[int, int]] = []
    for value in values:
        if out and value == out[-1][1] + 1:
            out[-1] = (out[-1][0], value)
        else:
            out.append((value, value))
    return out


def timestamp(moment: datetime, style: str = "F") -> str:
    """A Discord timestamp each reader sees in their own timezone. Styles: F (default) the full
    date and time, R relative ('in 3 days'), D the date."""
    return f"<t:{int(moment.timestamp())}:{style}>"


def message_link(guild_id: int, channel_id: int, message_id: int) -> str:
    """A link that opens a message in Discord."""
    return f"https://discord.com/channels/{guild_id}/{channel_id}/{message_id}"


def one_line(text: str) -> str:
    """Surrounding space removed, inner runs of whitespace (newlines too) made one space."""
    return " ".join(text.split())


def cut(text: str, limit: int) -> str:
    """`text` in at most `limit` characters: a longer one is cut and ends in '…'."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# discord.utils' patterns: links are left whole, other markdown gets a backslash.
_URL = r"(?P<url><[^: >]+:\/[^ >]+>|(?:https?|steam):\/\/[^\s<]+[^<.,:;\"\'\]\s])"
_MARKDOWN = r"(?P<markdown>[_\\~|\*`]|^>(?:>>)?\s|\[.+\]\(.+\)|^#{1,3}|^\s*-)"
_ESCAPE = re.compile(f"(?:{_URL}|{_MARKDOWN})", re.MULTILINE)
_MENTION = re.compile(r"@(everyone|here|[!&]?[0-9]{17,20})")

# Stricter, for member text in peer-review posts: every character that could start markdown,
# a link or a mention (<@…>) is escaped, and @everyone/@here in any case.
_INERT_MARKS = re.compile(r"([\\*_~`|>#\-\[\]()<])")
_MASS_MENTION = re.compile(r"@(everyone|here)", re.IGNORECASE)


def escape_markdown(text: str) -> str:
    """Markdown shown literally (as discord.utils.escape_markdown)."""
    return _ESCAPE.sub(lambda m: m.group("url") or "\\" + m.group("markdown"), text)


def safe(text: str) -> str:
    """User text made inert: markdown shown literally, mentions unable to render or ping."""
    return _MENTION.sub("@\u200b\\1", escape_markdown(text))


def inert(text: str) -> str:
    """Member text made safe to post among mentions of others (peer review): every markdown
    mark and '<' escaped, so no link or mention of the member's own can render."""
    return _MASS_MENTION.sub("@\u200b\\1", _INERT_MARKS.sub(r"\\\1", text))
