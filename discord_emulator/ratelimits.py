"""Discord-style rate limits and injectable faults.

Every REST response carries Discord's bucket headers (X-RateLimit-Limit, -Remaining, -Reset,
-Reset-After, -Bucket). Buckets are per route and major parameter (channel, guild, webhook), as
on Discord. A generous default keeps tests fast; `limit()` opts a route into a real limit and
`enable_global()` into the global one, and both then answer 429 exactly like Discord:

    429 {"message": "You are being rate limited.", "retry_after": 0.5, "global": false}
    Retry-After: 1   X-RateLimit-Scope: user|global   (X-RateLimit-Global: true when global)

Faults (`Faults.fail`) make the next N matching requests fail with a 5xx or a 429, either before
the request takes effect or after (`after_processing=True`: the write happened but the response
was lost, which is what nonces are for).
"""

from __future__ import annotations

import fnmatch
import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

RATE_LIMITED_MESSAGE = "You are being rate limited."

# Interaction callbacks are exempt from the global limit on Discord.
_GLOBAL_EXEMPT_PREFIXES = ("/interactions/",)


@dataclass
class _Window:
    limit: int
    per: float
    count: int = 0
    reset_at: float = 0.0


@dataclass
class Decision:
    """What the rate limiter says about one request."""

    headers: dict[str, str]
    limited: bool = False
    retry_after: float = 0.0
    is_global: bool = False

    def body(self) -> dict[str, object]:
        return {
            "message": RATE_LIMITED_MESSAGE,
            "retry_after": round(self.retry_after, 3),
            "global": self.is_global,
        }


def bucket_hash(route: str) -> str:
    return hashlib.sha1(route.encode()).hexdigest()[:32]


class RateLimits:
    """Per-route buckets plus an optional global limit; 429s are recorded in `hits`."""

    def __init__(
        self,
        *,
        default_limit: int = 50,
        default_per: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._default = (default_limit, default_per)
        self._route_limits: dict[str, tuple[int, float]] = {}
        self._windows: dict[tuple[str, str], _Window] = {}
        self._global: _Window | None = None
        #: Every 429 this limiter answered: (route key, major parameter, global?).
        self.hits: list[tuple[str, str, bool]] = []

    def limit(self, route: str, count: int, per: float) -> None:
        """Enforce `count` requests per `per` seconds for a route, per major parameter.

        `route` is "METHOD /template", e.g. "POST /channels/{channel_id}/messages".
        """
        self._route_limits[route] = (count, per)
        self._windows = {k: w for k, w in self._windows.items() if k[0] != route}

    def enable_global(self, count: int = 50, per: float = 1.0) -> None:
        """Discord's global limit (50 requests per second per bot by default)."""
        self._global = _Window(count, per)

    def disable_global(self) -> None:
        self._global = None

    def reset(self) -> None:
        self._route_limits.clear()
        self._windows.clear()
        self._global = None
        self.hits.clear()

    def check(self, route: str, major: str) -> Decision:
        now = self._clock()
        limit, per = self._route_limits.get(route, self._default)
        key = (route, major)
        window = self._windows.get(key)
        if window is None or now >= window.reset_at or window.limit != limit:
            window = self._windows[key] = _Window(limit, per, 0, now + per)
        reset_after = max(window.reset_at - now, 0.0)
        g = self._global
        if g is not None and not route.split(" ", 1)[-1].startswith(_GLOBAL_EXEMPT_PREFIXES):
            if now >= g.reset_at:
                g.count, g.reset_at = 0, now + g.per
            if g.count >= g.limit:
                retry = max(g.reset_at - now, 0.001)
                self.hits.append((route, major, True))
                headers = self._headers(route, window, reset_after)
                headers.update(
                    {
                        "Retry-After": str(math.ceil(retry)),
                        "X-RateLimit-Global": "true",
                        "X-RateLimit-Scope": "global",
                    }
                )
                return Decision(headers, limited=True, retry_after=retry, is_global=True)
        if window.count >= window.limit:
            self.hits.append((route, major, False))
            headers = self._headers(route, window, reset_after)
            headers.update(
                {"Retry-After": str(math.ceil(reset_after)), "X-RateLimit-Scope": "user"}
            )
            return Decision(headers, limited=True, retry_after=max(reset_after, 0.001))
        window.count += 1
        if g is not None:
            g.count += 1
        return Decision(self._headers(route, window, reset_after))

    def peek(self, route: str, major: str = "") -> dict[str, str]:
        """Bucket headers for a response that does not count (errors before routing)."""
        now = self._clock()
        limit, per = self._route_limits.get(route, self._default)
        window = self._windows.get((route, major))
        if window is None or now >= window.reset_at:
            window = _Window(limit, per, 0, now + per)
        return self._headers(route, window, max(window.reset_at - now, 0.0))

    def _headers(self, route: str, window: _Window, reset_after: float) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(window.limit),
            "X-RateLimit-Remaining": str(max(window.limit - window.count, 0)),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": bucket_hash(route),
        }


@dataclass
class Fault:
    """One injected failure rule; `remaining` counts down as it fires."""

    pattern: str
    status: int
    remaining: int
    retry_after: float = 0.25
    is_global: bool = False
    after_processing: bool = False
    #: Discord's JSON error code and message for the body (default: the HTTP status's).
    code: int = 0
    message: str | None = None
    fired: list[str] = field(default_factory=list)

    def matches(self, method: str, route: str, path: str) -> bool:
        pattern = self.pattern
        method_part, _, rest = pattern.partition(" ")
        if not rest:
            method_part, rest = "*", pattern
        if method_part not in ("*", method):
            return False
        return rest == route or fnmatch.fnmatchcase(path, rest) or fnmatch.fnmatchcase(route, rest)


class Faults:
    """Failures on purpose: `emu.faults.fail("POST /channels/*/messages", 502, times=2)`."""

    def __init__(self) -> None:
        self.rules: list[Fault] = []

    def fail(
        self,
        route: str,
        status: int = 502,
        *,
        times: int = 1,
        retry_after: float = 0.25,
        is_global: bool = False,
        after_processing: bool = False,
        code: int = 0,
        message: str | None = None,
    ) -> Fault:
        """The next `times` requests matching `route` answer `status`.

        `route` is "METHOD /template" (e.g. "POST /channels/{channel_id}/messages") or a glob
        over the concrete path ("POST /channels/123/*"); the method may be left out or be "*".
        For 429, `retry_after`/`is_global` shape the answer. `after_processing=True` applies the
        request first and only then fails the response. `code`/`message` give the error body
        Discord would send (``{"message": ..., "code": ...}``).
        """
        fault = Fault(route, status, times, retry_after, is_global, after_processing, code, message)
        self.rules.append(fault)
        return fault

    def automod(self, route: str, *, times: int = 1, title: bool = False) -> Fault:
        """AutoMod blocks the next `times` matching requests: 400 with Discord's body, code
        200000 (200001 when `title`: what was blocked is an embed's title or a thread name)."""
        if title:
            return self.fail(
                route, 400, times=times, code=200001,
                message="Title was blocked by automatic moderation",
            )  # fmt: skip
        return self.fail(
            route, 400, times=times, code=200000,
            message="Message was blocked by automatic moderation",
        )  # fmt: skip

    def clear(self) -> None:
        self.rules.clear()

    def take(self, method: str, route: str, path: str) -> Fault | None:
        for fault in self.rules:
            if fault.remaining > 0 and fault.matches(method, route, path):
                fault.remaining -= 1
                fault.fired.append(f"{method} {path}")
                return fault
        return None
