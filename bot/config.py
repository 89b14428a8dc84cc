"""Settings: read once from the environment, validated, frozen."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_DATABASE_URL = "sqlite:///data/cohort.sqlite3"
_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")


class ConfigError(Exception):
    """A missing or bad setting; the message names the variable in one line."""


@dataclass(frozen=True)
class Settings:
    token: str = field(repr=False)
    database_url: str = DEFAULT_DATABASE_URL
    dev_guild_id: int | None = None
    log_level: str = "INFO"

    @property
    def log_level_number(self) -> int:
        return logging.getLevelNamesMapping()[self.log_level]

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        token = env.get("DISCORD_TOKEN", "").strip()
        if not token:
            raise ConfigError(
                "DISCORD_TOKEN is not set: copy .env.example to .env and set DISCORD_TOKEN "
                "to your bot's token."
            )
        if any(c.isspace() for c in token) or len(token) < 20:
            raise ConfigError("DISCORD_TOKEN does not look like a bot token (check .env).")
        return cls(
            token=token,
            database_url=parse_database_url(env.get("DATABASE_URL", "").strip()),
            dev_guild_id=parse_guild_id(env.get("DEV_GUILD_ID", "").strip()),
            log_level=parse_log_level(env.get("LOG_LEVEL", "").strip()),
        )


def parse_database_url(value: str) -> str:
    if not value:
        return DEFAULT_DATABASE_URL
    for scheme in ("sqlite:///", "postgresql://", "postgres://"):
        if value.startswith(scheme) and len(value) > len(scheme):
            return value
    raise ConfigError(
        "DATABASE_URL must look like sqlite:///path/to/file.sqlite3 or "
        "postgresql://user:pass@host:port/db"
    )


def parse_guild_id(value: str) -> int | None:
    if not value:
        return None
    if not value.isdecimal() or not 17 <= len(value) <= 20:
        raise ConfigError("DEV_GUILD_ID must be a Discord server id (17–20 digits) or empty.")
    return int(value)


def parse_log_level(value: str) -> str:
    if not value:
        return "INFO"
    level = value.upper()
    if level not in _LEVELS:
        raise ConfigError(f"LOG_LEVEL must be one of {', '.join(_LEVELS)}.")
    return level
