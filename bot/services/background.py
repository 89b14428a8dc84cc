"""Work that runs beside the gateway (the scheduler, the daily purge) and the little it needs
from the bot: to wait for the connection and to know which guilds the bot is in.

Discord-free on purpose, so workers never import the bot (nor the bot them, through Services).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class Guild(Protocol):
    @property
    def id(self) -> int: ...


class Runtime(Protocol):
    """What a background worker may ask of the running bot (CohortBot satisfies it)."""

    async def wait_until_ready(self) -> None: ...

    @property
    def guilds(self) -> Sequence[Guild]: ...


class Background(Protocol):
    """Started once the bot is set up (without a runtime: work at once, as tests do), stopped
    at close."""

    async def start(self, runtime: Runtime | None = None) -> None: ...

    async def stop(self) -> None: ...
