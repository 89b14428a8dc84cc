"""One place where tests wait for state to change.

Emulator changes wake waiters at once; conditions on the bot's own state (its cache, its
attributes) cannot notify us, so waiters also re-check every `POLL` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

POLL = 0.02


class Notifier:
    """Wakes every waiter whenever something changed; waiters re-check their own condition."""

    def __init__(self) -> None:
        self._waiters: list[asyncio.Future[None]] = []

    def notify(self) -> None:
        waiters, self._waiters = self._waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

    async def wait_for(self, predicate: Callable[[], bool], timeout: float, what: str) -> None:
        """Return once `predicate()` is true; AssertionError naming `what` after `timeout` s."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
            fut = loop.create_future()
            self._waiters.append(fut)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(fut, min(remaining, POLL))
