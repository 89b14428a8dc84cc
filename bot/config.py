"""Settings: read once from the environment, validated, frozen."""

from __future__ import annotations

import base64
import binascii
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bot.domain.shards import Shards
from bot.shards import ShardError, shards_from_env

DEFAULT_DATABASE_URL = "sqlite:///data/cohort.sqlite3"
_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
LOG_FORMATS = ("text", "json")
TOKEN_HELP = "developer portal → your application → Bot → Reset Token"
PERCENT_ENCODING = (
    "percent-encode @ : / # ? % in the user name and password (@ is %40, : is %3A, / is %2F, "
    "# is %23)"
)
# base64(bot user id) . base64(timestamp) . HMAC: the shape every bot token has.
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{20,}")


class ConfigError(Exception):
    """A missing or bad setting; the message names the variable in one line."""


@dataclass(frozen=True)
class Settings:
    token: str = field(repr=False)
    database_url: str = DEFAULT_DATABASE_URL
    dev_guild_id: int | None = None
    log_level: str = "INFO"
    log_format: str = "text"
    shards: Shards = field(default_factory=Shards)

    @property
    def log_level_number(self) -> int:
        return logging.getLevelNamesMapping()[self.log_level]

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, env_file_found: bool = False) -> Settings:
        """`env_file_found`: a .env was read, so a missing token is missing from that file."""
        token = parse_token(env.get("DISCORD_TOKEN", ""), env_file_found=env_file_found)
        database_url = database_url_from_env(env)
        try:
            shards = shards_from_env(env, database_url=database_url)
        except ShardError as exc:
            raise ConfigError(str(exc)) from None
        return cls(
            token=token,
            database_url=database_url,
            shards=shards,
            dev_guild_id=parse_guild_id(env.get("DEV_GUILD_ID", "").strip()),
            log_level=parse_log_level(env.get("LOG_LEVEL", "").strip()),
            log_format=parse_log_format(env.get("LOG_FORMAT", "").strip()),
        )


def database_url_from_env(env: Mapping[str, str]) -> str:
    return parse_database_url(env.get("DATABASE_URL", "").strip())


def parse_token(value: str, *, env_file_found: bool = False) -> str:
    """Only the token's shape can be checked here; Discord says at log-in whether it is valid."""
    token = value.strip()
    if not token:
        if env_file_found:
            raise ConfigError(
                f"DISCORD_TOKEN is empty in .env: put your bot's token after DISCORD_TOKEN= "
                f"({TOKEN_HELP})."
            )
        raise ConfigError(
            "DISCORD_TOKEN is not set: copy .env.example to .env and set DISCORD_TOKEN "
            "to your bot's token."
        )
    if token.lower().startswith("bot "):
        raise ConfigError(
            "DISCORD_TOKEN starts with 'Bot ': put only the token itself in .env, without 'Bot '."
        )
    if token.isdecimal():
        raise ConfigError(
            "DISCORD_TOKEN is a number (an application or server id?): use the bot's token "
            f"({TOKEN_HELP})."
        )
    if not _TOKEN_SHAPE.fullmatch(token) or not _names_a_user(token):
        raise ConfigError(
            "DISCORD_TOKEN does not look like a bot token (three parts separated by dots; "
            f"not the client secret): copy it again ({TOKEN_HELP})."
        )
    return token


def _names_a_user(token: str) -> bool:
    """The first part of a bot token is the bot's user id in base64."""
    head = token.split(".", 1)[0]
    try:
        decoded = base64.urlsafe_b64decode(head + "=" * (-len(head) % 4))
    except (binascii.Error, ValueError):
        return False
    return decoded.isdigit() and 15 <= len(decoded) <= 20


def parse_database_url(value: str) -> str:
    if not value:
        return DEFAULT_DATABASE_URL
    if value.startswith("sqlite:///") and len(value) > len("sqlite:///"):
        return value
    if value.startswith(("postgresql://", "postgres://")):
        check_server_url(value)
        return value
    raise ConfigError(
        "DATABASE_URL must look like sqlite:///path/to/file.sqlite3 or "
        "postgresql://user:pass@host:port/db"
    )


def check_server_url(value: str) -> None:
    """Reject what would be misread later (and shown with part of the password in the error).
    The messages never repeat the URL."""
    netloc = urlsplit(value).netloc
    if netloc.count("@") > 1:
        raise ConfigError(
            f"DATABASE_URL has more than one '@' (one in the password?): {PERCENT_ENCODING}."
        )
    try:
        urlsplit(value).port  # noqa: B018 (parsing it is the check)
    except ValueError:
        raise ConfigError(
            "DATABASE_URL has no valid port (a number up to 65535, as in host:5432); if the "
            f"password holds special characters, {PERCENT_ENCODING}."
        ) from None
    if not urlsplit(value).hostname:
        raise ConfigError(
            "DATABASE_URL names no host: write postgresql://user:pass@host:port/db, "
            f"and {PERCENT_ENCODING}."
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


def parse_log_format(value: str) -> str:
    if not value:
        return "text"
    chosen = value.lower()
    if chosen not in LOG_FORMATS:
        raise ConfigError("LOG_FORMAT must be text (the default) or json (one object a line).")
    return chosen
