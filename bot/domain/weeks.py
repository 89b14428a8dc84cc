"""Study weeks, local days, streaks and timezone names (pure, no I/O).

A guild has an IANA timezone (default UTC) and a week start (0 = Monday … 6 = Sunday, default
Monday); its study week runs from week-start 00:00 local time to the next one. Everything is stored
in UTC, so this module turns instants into local weeks and days and back:

- A week's UTC bounds are the first instants of two local dates seven days apart, so a week that
  contains a DST change lasts 167 or 169 hours. When local midnight does not exist (zones that
  change clocks at 00:00, or Samoa skipping 30 Dec 2011) a day starts at the first instant that
  belongs to it.
- ``StudyWeek.key`` is the local start date: goals and check-ins are filed under it.
- A member's own timezone, when set, decides their check-in day (``member_local_day``).
- Timezone names typed by people are matched case-insensitively against the IANA names the system
  knows; nothing typed ever reaches the file system (``ZoneInfo`` only sees names from that list).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from bot.errors import InvalidInput
from bot.formatting import MONTHS

__all__ = [
    "COMMON_TIMEZONES",
    "DEFAULT_WEEK_START",
    "MAX_CHOICES",
    "MAX_TIMEZONE_LENGTH",
    "UTC_ZONE",
    "WEEKDAY_NAMES",
    "StudyWeek",
    "day_start_utc",
    "member_local_day",
    "parse_timezone",
    "parse_weekday",
    "streak",
    "timezone_choices",
    "wall_time_to_utc",
    "week_containing",
    "week_of",
    "weekday_name",
]

#: Monday, as in ``date.weekday()``.
DEFAULT_WEEK_START = 0
UTC_ZONE = ZoneInfo("UTC")
#: Python's weekday order (0 = Monday).
WEEKDAY_NAMES: tuple[str, ...] = (
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
)
#: The longest IANA name is 32 characters ("America/Argentina/ComodRivadavia").
MAX_TIMEZONE_LENGTH = 64
#: Discord shows at most 25 autocomplete choices.
MAX_CHOICES = 25

_WEEK = timedelta(days=7)


# --------------------------------------------------------------------------------------------
# Weekdays
# --------------------------------------------------------------------------------------------


def _weekday_words() -> dict[str, int]:
    words = {"tues": 1, "weds": 2, "thur": 3, "thurs": 3}
    for index, name in enumerate(WEEKDAY_NAMES):
        low = name.lower()
        words |= {low: index, low[:3]: index, low + "s": index}  # monday, mon, mondays
    return words


_WEEKDAY_WORDS = _weekday_words()


def parse_weekday(text: str) -> int:
    """Weekday index (0 = Monday) from a name such as ``mon``, ``Monday`` or ``mondays``."""
    index = _WEEKDAY_WORDS.get(text.strip().lower()) if text.isascii() else None
    if index is None:
        raise InvalidInput("Use a day name such as Monday or mon.")
    return index


def weekday_name(index: int) -> str:
    """``0`` → ``"Monday"`` … ``6`` → ``"Sunday"``."""
    _check_week_start(index)
    return WEEKDAY_NAMES[index]


def _check_week_start(week_start: int) -> None:
    if not 0 <= week_start <= 6:
        raise ValueError(f"week_start must be 0 (Monday) to 6 (Sunday), not {week_start!r}")


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime")


# --------------------------------------------------------------------------------------------
# Days and weeks
# --------------------------------------------------------------------------------------------


def wall_time_to_utc(local: datetime) -> datetime:
    """The instant (UTC) at which the wall time ``local`` (aware, in its zone) happens.

    An ambiguous time (fall-back) counts from its first occurrence, whatever ``local.fold`` says;
    a time inside a spring-forward gap happens at the end of the gap, the first instant whose wall
    time is later.
    """
    tz = local.tzinfo
    if tz is None:
        raise ValueError("wall_time_to_utc needs an aware datetime")
    local = local.replace(fold=0)
    utc = local.astimezone(UTC)
    if utc.astimezone(tz) == local:  # same tzinfo: compares wall times
        return utc
    # In a gap: fold=1 maps with the offset after the change (an instant before it), fold=0 with
    # the offset before it (an instant after it). Search between them for the change, to the
    # second.
    lo = int(local.replace(fold=1).astimezone(UTC).timestamp())
    hi = int(utc.timestamp())
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, UTC).astimezone(tz) >= local:
            hi = mid
        else:
            lo = mid
    return datetime.fromtimestamp(hi, UTC)


@lru_cache(maxsize=4096)
def day_start_utc(day: date, tz: tzinfo) -> datetime:
    """The first instant (UTC) of local date ``day`` in ``tz``.

    Usually local midnight; an ambiguous midnight counts from its first occurrence, and a midnight
    inside a DST gap starts the day at the end of the gap.
    """
    return wall_time_to_utc(datetime.combine(day, time.min, tzinfo=tz))


@dataclass(frozen=True)
class StudyWeek:
    """One study week of a guild: seven local dates from ``start_date``.

    ``start_utc`` is included and ``end_utc`` excluded; both are derived from ``start_date`` and
    ``tz``. The week start day is ``start_date.weekday()``.
    """

    start_date: date
    tz: tzinfo
    start_utc: datetime = field(init=False, compare=False)
    end_utc: datetime = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "start_utc", day_start_utc(self.start_date, self.tz))
        object.__setattr__(self, "end_utc", day_start_utc(self.start_date + _WEEK, self.tz))

    @property
    def key(self) -> date:
        """What goals and check-ins of this week are stored under: the local start date."""
        return self.start_date

    @property
    def week_start(self) -> int:
        return self.start_date.weekday()

    @property
    def end_date(self) -> date:
        """The last local date of the week (inclusive)."""
        return self.start_date + timedelta(days=6)

    @property
    def duration(self) -> timedelta:
        """Usually 7 days; 167 or 169 hours when the week contains a DST change."""
        return self.end_utc - self.start_utc

    def days(self) -> tuple[date, ...]:
        return tuple(self.start_date + timedelta(days=i) for i in range(7))

    def contains(self, moment_utc: datetime) -> bool:
        _require_aware(moment_utc, "moment_utc")
        return self.start_utc <= moment_utc < self.end_utc

    def label(self, *, with_year: bool = False) -> str:
        """``"Week of 3 Mar"``, or ``"Week of 3 Mar 2026"`` with the year."""
        d = self.start_date
        text = f"Week of {d.day} {MONTHS[d.month - 1]}"
        return f"{text} {d.year}" if with_year else text

    def next(self) -> StudyWeek:
        return StudyWeek(self.start_date + _WEEK, self.tz)

    def previous(self) -> StudyWeek:
        return StudyWeek(self.start_date - _WEEK, self.tz)


def _week_start_date(day: date, week_start: int) -> date:
    return day - timedelta(days=(day.weekday() - week_start) % 7)


def week_of(start_date: date, tz: tzinfo, week_start: int = DEFAULT_WEEK_START) -> StudyWeek:
    """The study week containing local date ``start_date`` (normally the week's first day)."""
    _check_week_start(week_start)
    return StudyWeek(_week_start_date(start_date, week_start), tz)


def week_containing(
    moment_utc: datetime, tz: tzinfo, week_start: int = DEFAULT_WEEK_START
) -> StudyWeek:
    """The study week that contains the instant ``moment_utc``, in the guild's ``tz``."""
    _require_aware(moment_utc, "moment_utc")
    week = week_of(moment_utc.astimezone(tz).date(), tz, week_start)
    # Should a fall-back cross midnight, the local date would read the previous day again after
    # the new week began; the week's UTC bounds decide, so weeks never overlap.
    return week.next() if moment_utc >= week.end_utc else week


def member_local_day(moment_utc: datetime, member_tz: tzinfo | None, guild_tz: tzinfo) -> date:
    """The member's calendar day at ``moment_utc``: their own timezone, else the guild's."""
    _require_aware(moment_utc, "moment_utc")
    return moment_utc.astimezone(member_tz if member_tz is not None else guild_tz).date()


def streak(
    check_in_week_keys: Iterable[date], current_week: StudyWeek, away: Iterable[date] = ()
) -> int:
    """Consecutive study weeks with at least one check-in, ending this week or last week.

    A week without a check-in yet does not break the streak until it is over, so an empty current
    week counts from last week. Weeks the member was away (``away``, week keys) without a
    check-in neither count nor break it. Keys may be any local date inside a week (duplicates are
    fine); they are mapped to the current week start, so a change of week start keeps old
    check-ins counting.
    """
    week_start = current_week.week_start
    weeks = {_week_start_date(key, week_start) for key in check_in_week_keys}
    skipped = {_week_start_date(key, week_start) for key in away} - weeks
    cursor = current_week.key
    if cursor not in weeks:
        cursor -= _WEEK
    count = 0
    while cursor in weeks or cursor in skipped:
        count += cursor in weeks
        cursor -= _WEEK
    return count


# --------------------------------------------------------------------------------------------
# Timezone names
# --------------------------------------------------------------------------------------------

# Names the system lists that are not real places or are machine-specific.
_EXCLUDED_ZONES = frozenset({"Factory", "localtime", "posixrules"})
# Old aliases kept by tzdata for compatibility: still accepted, ranked after canonical names.
_LEGACY_AREAS = frozenset({"etc", "us", "canada", "brazil", "chile", "mexico", "systemv"})

#: What an empty autocomplete shows: common zones across the world, west to east.
COMMON_TIMEZONES: tuple[str, ...] = (
    "UTC",
    "America/Los_Angeles",
    "America/Denver",
    "America/Chicago",
    "America/Mexico_City",
    "America/New_York",
    "America/Toronto",
    "America/Bogota",
    "America/Sao_Paulo",
    "America/Argentina/Buenos_Aires",
    "Europe/London",
    "Europe/Lisbon",
    "Africa/Lagos",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Madrid",
    "Europe/Warsaw",
    "Africa/Cairo",
    "Africa/Johannesburg",
    "Europe/Istanbul",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
)

_NAME_CHARS = re.compile(r"[A-Za-z0-9/_+\-]+")


@dataclass(frozen=True)
class _Zone:
    name: str
    lower: str
    words: tuple[str, ...]  # lower-case path segments and the words inside them
    legacy: bool


def _load_zones() -> tuple[_Zone, ...]:
    zones = []
    for name in sorted(available_timezones()):
        if name in _EXCLUDED_ZONES or name.startswith(("posix/", "right/")):
            continue
        lower = name.lower()
        segments = lower.split("/")
        words = tuple(dict.fromkeys([*segments, *re.split(r"[/_\-]", lower)]))
        legacy = (len(segments) == 1 and name != "UTC") or segments[0] in _LEGACY_AREAS
        zones.append(_Zone(name, lower, words, legacy))
    return tuple(zones)


_ZONES = _load_zones()
_BY_LOWER = {zone.lower: zone.name for zone in _ZONES}
_COMMON = tuple(name for name in COMMON_TIMEZONES if name.lower() in _BY_LOWER)


def _normalise_zone_text(text: str) -> str:
    return "_".join(text.strip().lower().split())  # "new york" → "new_york"


def parse_timezone(name: str) -> ZoneInfo:
    """The ``ZoneInfo`` for an IANA name typed by a person, matched case-insensitively.

    Raises ``InvalidInput`` (with suggestions when some names are close) for anything else.
    """
    if not name or not name.strip():
        raise InvalidInput("Give a timezone name such as Europe/Berlin or America/New_York.")
    if len(name) > MAX_TIMEZONE_LENGTH:
        raise InvalidInput(
            f"A timezone name is at most {MAX_TIMEZONE_LENGTH} characters, "
            "for example Europe/Berlin."
        )
    text = _normalise_zone_text(name)
    canonical = _BY_LOWER.get(text) if _NAME_CHARS.fullmatch(text) else None
    if canonical is None:
        suggestions = timezone_choices(text, 3) if text.isascii() else []
        hint = f" Did you mean {' or '.join(suggestions)}?" if suggestions else ""
        raise InvalidInput(
            f"That is not a timezone I know.{hint} Use an IANA name such as Europe/Berlin or "
            "America/New_York; start typing to see suggestions."
        )
    return ZoneInfo(canonical)


def timezone_choices(typed: str, limit: int = MAX_CHOICES) -> list[str]:
    """IANA names for autocomplete, best first, at most ``min(limit, 25)``.

    Order: exact name, name prefix, prefix of a part of the name (``berl`` → Europe/Berlin,
    ``york`` → America/New_York), then substring; canonical names before old aliases, then
    alphabetical. Nothing typed gives a list of common zones.
    """
    limit = min(limit, MAX_CHOICES)
    if limit <= 0:
        return []
    return list(_ranked_choices(_normalise_zone_text(typed[: MAX_TIMEZONE_LENGTH + 1]))[:limit])


@lru_cache(maxsize=2048)
def _ranked_choices(text: str) -> tuple[str, ...]:
    if not text:
        return _COMMON
    if len(text) > MAX_TIMEZONE_LENGTH:
        return ()
    ranked: list[tuple[int, bool, str]] = []
    for zone in _ZONES:
        if text not in zone.lower:  # every tier below is a substring match
            continue
        if zone.lower == text:
            tier = 0
        elif zone.lower.startswith(text):
            tier = 1
        elif any(word.startswith(text) for word in zone.words):
            tier = 2
        else:
            tier = 3
        ranked.append((tier, zone.legacy, zone.name))
    ranked.sort()
    return tuple(name for _, _, name in ranked[:MAX_CHOICES])
