"""Validate every JSON body the bot sends against Discord's OpenAPI description.

The vendored schemas (discord_openapi/request_schemas.json) are OpenAPI 3.1, i.e. JSON Schema
2020-12, and are used as they are with two deliberate, documented adjustments:

* `SnowflakeType` is `{"type": "string", "pattern": "^(0|[1-9][0-9]*)$"}` in the spec, but
  Discord's API accepts snowflakes as JSON integers too, and discord.py sends integers in several
  places (allowed_mentions.users, attachment ids, message_reference.message_id). We accept a
  non-negative integer below 2**64 *or* the spec's string; anything else still fails.
* `format` is asserted (the spec relies on it): `date-time` (RFC 3339 with offset), `uri`
  (needs a scheme; `attachment://name` is how Discord references uploads), `int32`/`int64`
  ranges and `double` finiteness. Unknown formats (`snowflake`, `nonce`) are annotations only.

`anyOf` unions marked `x-discord-union: oneOf` stay `anyOf`: their branches overlap (e.g. a
follow-up body matches both webhook request shapes) and Discord accepts any matching branch.
"""

from __future__ import annotations

import copy
import json
import math
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from .discord_openapi import SCHEMAS_FILE

_BASE_URI = "urn:discord-openapi:requests"

_SNOWFLAKE = {
    "anyOf": [
        {"type": "string", "pattern": "^(0|[1-9][0-9]*)$", "maxLength": 20},
        {"type": "integer", "minimum": 0, "maximum": 2**64 - 1},
    ],
}


@dataclass(frozen=True)
class SchemaViolation:
    """A request body Discord's description rejects (or a Discord rule the body breaks)."""

    method: str
    route: str
    path: str
    message: str
    location: str
    body_excerpt: str
    #: The location as path parts (for Discord's nested `errors` object) and a Discord-ish code.
    parts: tuple[Any, ...] = field(default=(), compare=False)
    code: str = "SCHEMA_VIOLATION"

    def __str__(self) -> str:
        where = f" at {self.location}" if self.location else ""
        return f"{self.method} {self.path} ({self.route}){where}: {self.message}"


def _format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())

    @checker.checks("date-time", raises=ValueError)
    def _date_time(value: object) -> bool:
        if not isinstance(value, str):
            return True
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed.tzinfo is not None and "T" in value.upper()

    @checker.checks("uri", raises=ValueError)
    def _uri(value: object) -> bool:
        if not isinstance(value, str):
            return True
        parts = urlsplit(value)
        return bool(parts.scheme) and (bool(parts.netloc) or parts.scheme == "attachment")

    @checker.checks("int32")
    def _int32(value: object) -> bool:
        return not isinstance(value, int) or -(2**31) <= value < 2**31

    @checker.checks("int64")
    def _int64(value: object) -> bool:
        return not isinstance(value, int) or -(2**63) <= value < 2**63

    @checker.checks("double")
    def _double(value: object) -> bool:
        return not isinstance(value, float) or math.isfinite(value)

    return checker


_CODES = {
    "maxLength": "BASE_TYPE_MAX_LENGTH",
    "minLength": "BASE_TYPE_MIN_LENGTH",
    "maxItems": "BASE_TYPE_MAX_LENGTH",
    "minItems": "BASE_TYPE_MIN_LENGTH",
    "required": "BASE_TYPE_REQUIRED",
    "enum": "BASE_TYPE_CHOICES",
    "const": "BASE_TYPE_CHOICES",
    "minimum": "NUMBER_TYPE_MIN",
    "maximum": "NUMBER_TYPE_MAX",
    "type": "BASE_TYPE_BAD_TYPE",
    "format": "BASE_TYPE_BAD_FORMAT",
    "pattern": "BASE_TYPE_BAD_FORMAT",
}


def _short(message: str, limit: int = 300) -> str:
    return (
        message if len(message) <= limit else message[: limit // 2] + " … " + message[-limit // 2 :]
    )


def _location(error: ValidationError) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)


def _discriminated(error: ValidationError) -> ValidationError:
    """For unions, explain the branch the body was meant for (the one whose `type` fits)."""
    while error.validator in ("anyOf", "oneOf") and error.context:
        branches: dict[int, list[ValidationError]] = {}
        for sub in error.context:
            branches.setdefault(int(sub.relative_schema_path[0]), []).append(sub)
        n_branches = len(error.validator_value)
        # A branch with no errors at all means the union matched (only happens for oneOf).
        fitting = [
            errs
            for errs in branches.values()
            if not any(
                e.validator in ("const", "enum", "type")
                and (not e.relative_path or list(e.relative_path) == ["type"])
                for e in errs
            )
        ]
        if len(branches) < n_branches or len(fitting) != 1:
            break
        error = best_match(fitting[0])
    return error


class RequestValidator:
    """Validates bodies per (method, route template) with the vendored Discord schemas."""

    def __init__(self, document: dict[str, Any] | None = None) -> None:
        doc = copy.deepcopy(document if document is not None else _load_document())
        doc["components"]["schemas"]["SnowflakeType"] = _SNOWFLAKE
        self.source: str = doc.get("source", "")
        self._routes: dict[str, Any] = doc["routes"]
        resource = Resource.from_contents(doc, default_specification=DRAFT202012)
        self._registry: Registry[Any] = Registry().with_resource(_BASE_URI, resource)
        self._checker = _format_checker()
        self._validators: dict[tuple[str, str], Draft202012Validator] = {}
        # Bots send the same bodies again and again (every test syncs the same command tree);
        # validating a command tree costs ~0.1 s, so remember verdicts per exact body.
        self._verdicts: OrderedDict[tuple[str, str, str], list[SchemaViolation]] = OrderedDict()

    def has_schema(self, method: str, route: str) -> bool:
        return f"{method} {route}" in self._routes

    def content_types(self, method: str, route: str) -> list[str]:
        return list(self._routes.get(f"{method} {route}", {}).get("content", {}))

    def _validator(self, key: str, content_type: str) -> Draft202012Validator:
        cache_key = (key, content_type)
        if cache_key not in self._validators:
            pointer = "/".join(
                p.replace("~", "~0").replace("/", "~1")
                for p in ("routes", key, "content", content_type)
            )
            self._validators[cache_key] = Draft202012Validator(
                {"$ref": f"{_BASE_URI}#/{pointer}"},
                registry=self._registry,
                format_checker=self._checker,
            )
        return self._validators[cache_key]

    def validate(
        self,
        method: str,
        route: str,
        path: str,
        body: Any,
        *,
        content_type: str = "application/json",
    ) -> list[SchemaViolation]:
        """Violations of the JSON body (for multipart, validate `payload_json` as JSON)."""
        key = f"{method} {route}"
        entry = self._routes.get(key)
        if entry is None:
            return []
        if content_type not in entry["content"]:
            content_type = "application/json"
        canonical = json.dumps(body, sort_keys=True, default=str)
        memo_key = (key, content_type, canonical)
        if memo_key in self._verdicts:
            self._verdicts.move_to_end(memo_key)
            return [replace(v, path=path) for v in self._verdicts[memo_key]]
        excerpt = json.dumps(body, default=str)[:300]
        out = []
        for error in self._validator(key, content_type).iter_errors(body):
            explained = _discriminated(error)
            out.append(
                SchemaViolation(
                    method,
                    route,
                    path,
                    _short(explained.message),
                    _location(explained),
                    excerpt,
                    parts=tuple(explained.absolute_path),
                    code=_CODES.get(str(explained.validator), "SCHEMA_VIOLATION"),
                )
            )
        self._verdicts[memo_key] = out
        if len(self._verdicts) > 2048:
            self._verdicts.popitem(last=False)
        return list(out)


@cache
def _load_document() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SCHEMAS_FILE.read_text(encoding="utf-8"))
    return data


@cache
def default_validator() -> RequestValidator:
    """Building validators is slow-ish; every emulator in a test session shares this one."""
    return RequestValidator()
