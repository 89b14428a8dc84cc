"""The course exchange format of `/plan import` and `/plan export` (README.md, Commands).
Pure.

``{"version": 1, "course": {"key": str, "title": str, "source": str, "modules": [{"title": str,
"hours": number, "url": str}]}}`` with ``source`` and ``url`` optional. Reading is all or
nothing: every problem found is listed, and nothing is imported while there is one.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from bot.errors import InvalidInput
from bot.formatting import one_line, plural

FORMAT_VERSION = 1
IMPORT_MAX_BYTES = 1024 * 1024
MODULES_MAX = 200
TITLE_MAX = 100
KEY_MAX = 40
SOURCE_MAX = 500
URL_MAX = 500
HOURS_MIN = 0.5
HOURS_MAX = 500.0
PROBLEMS_SHOWN = 8
KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")


@dataclass(frozen=True)
class ModuleSpec:
    title: str
    hours: float
    url: str | None = None


@dataclass(frozen=True)
class CourseSpec:
    key: str
    title: str
    source: str | None
    modules: tuple[ModuleSpec, ...]

    @property
    def total_hours(self) -> float:
        return sum(m.hours for m in self.modules)


class ImportProblems(InvalidInput):
    """The document has problems; ``problems`` lists each (the message shows the first few)."""

    def __init__(self, problems: list[str]) -> None:
        shown = "; ".join(problems[:PROBLEMS_SHOWN])
        more = (
            f"; and {len(problems) - PROBLEMS_SHOWN} more" if len(problems) > PROBLEMS_SHOWN else ""
        )
        count = plural(len(problems), "problem")
        super().__init__(f"Nothing imported, {count}: {shown}{more}.")
        self.problems = problems


def _text(value: object, where: str, limit: int, problems: list[str], *, required: bool) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{where} must be a non-empty text")
        return ""
    text = one_line(value)
    if len(text) > limit:
        problems.append(f"{where} is longer than {limit} characters")
    return text


def _hours(value: object, where: str, problems: list[str]) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        problems.append(f"{where} must be a number of hours")
        return 0.0
    if not HOURS_MIN <= value <= HOURS_MAX:
        problems.append(f"{where} must be between {HOURS_MIN:g} and {HOURS_MAX:g}")
    return float(value)


def _url(value: object, where: str, problems: list[str]) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > URL_MAX:
        problems.append(f"{where} must be an http(s) link of at most {URL_MAX} characters")
        return None
    parts = urlsplit(value.strip())
    if (
        parts.scheme not in ("http", "https")
        or not parts.netloc
        or any(c.isspace() for c in value.strip())
    ):
        problems.append(f"{where} must be an http(s) link")
        return None
    return value.strip()


def read_course(data: bytes) -> CourseSpec:
    """A course from an import file, or ``ImportProblems`` naming everything wrong with it."""
    if len(data) > IMPORT_MAX_BYTES:
        raise InvalidInput(
            f"A course file is at most {IMPORT_MAX_BYTES:,} bytes; this one has {len(data):,}."
        )
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as error:
        raise InvalidInput(f"That file is not valid JSON ({error}).") from None
    return parse_course(document)


def parse_course(document: Any) -> CourseSpec:
    problems: list[str] = []
    if not isinstance(document, dict):
        raise ImportProblems(['the file must be an object like {"version": 1, "course": {…}}'])
    if document.get("version") != FORMAT_VERSION:
        problems.append(f'"version" must be {FORMAT_VERSION}')
    course = document.get("course")
    if not isinstance(course, dict):
        raise ImportProblems([*problems, '"course" must be an object'])
    key = _text(course.get("key"), "course.key", KEY_MAX, problems, required=True).lower()
    if key and not KEY_PATTERN.match(key):
        problems.append("course.key may hold only letters, digits and dashes")
    title = _text(course.get("title"), "course.title", TITLE_MAX, problems, required=True)
    source = _text(course.get("source"), "course.source", SOURCE_MAX, problems, required=False)
    raw_modules = course.get("modules")
    modules: list[ModuleSpec] = []
    if not isinstance(raw_modules, list) or not raw_modules:
        problems.append("course.modules must be a non-empty list")
        raw_modules = []
    elif len(raw_modules) > MODULES_MAX:
        problems.append(f"a course has at most {MODULES_MAX} modules, this one {len(raw_modules)}")
        raw_modules = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_modules, start=1):
        where = f"module {index}"
        if not isinstance(raw, dict):
            problems.append(f"{where} must be an object with a title and hours")
            continue
        module_title = _text(raw.get("title"), f"{where} title", TITLE_MAX, problems, required=True)
        if module_title and module_title.casefold() in seen:
            problems.append(f"{where} title {module_title!r} appears twice")
        seen.add(module_title.casefold())
        hours = _hours(raw.get("hours"), f"{where} hours", problems)
        modules.append(
            ModuleSpec(module_title, hours, _url(raw.get("url"), f"{where} url", problems))
        )
    if problems:
        raise ImportProblems(problems)
    return CourseSpec(key, title, source or None, tuple(modules))


def write_course(course: CourseSpec) -> bytes:
    """The exchange format, read back by ``read_course``."""
    body: dict[str, Any] = {"key": course.key, "title": course.title}
    if course.source:
        body["source"] = course.source
    body["modules"] = [
        {"title": m.title, "hours": m.hours, **({"url": m.url} if m.url else {})}
        for m in course.modules
    ]
    document = {"version": FORMAT_VERSION, "course": body}
    return json.dumps(document, ensure_ascii=False, indent=2).encode()
