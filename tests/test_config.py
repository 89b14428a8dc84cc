from __future__ import annotations

import pytest

from bot.config import DEFAULT_DATABASE_URL, ConfigError, Settings

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.Gabcde.abcdefghijklmnopqrstuvwxyz012345"


def test_defaults_apply_when_only_the_token_is_set() -> None:
    settings = Settings.from_env({"DISCORD_TOKEN": TOKEN})
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.dev_guild_id is None
    assert settings.log_level == "INFO"


def test_all_values_are_read() -> None:
    settings = Settings.from_env(
        {
            "DISCORD_TOKEN": TOKEN,
            "DATABASE_URL": "postgresql://u:p@127.0.0.1:5432/db",
            "DEV_GUILD_ID": "123456789012345678",
            "LOG_LEVEL": "debug",
        }
    )
    assert settings.database_url == "postgresql://u:p@127.0.0.1:5432/db"
    assert settings.dev_guild_id == 123456789012345678
    assert settings.log_level == "DEBUG"


def test_missing_token_names_the_env_file() -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env({})
    message = str(info.value)
    assert "DISCORD_TOKEN" in message and ".env.example" in message and "\n" not in message


@pytest.mark.parametrize("token", ["   ", "short", "has space in the middle of it ok"])
def test_bad_tokens_are_rejected(token: str) -> None:
    with pytest.raises(ConfigError, match="DISCORD_TOKEN"):
        Settings.from_env({"DISCORD_TOKEN": token})


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", "mysql://localhost/db"),
        ("DATABASE_URL", "sqlite:///"),
        ("DATABASE_URL", "data.sqlite3"),
        ("DEV_GUILD_ID", "abc"),
        ("DEV_GUILD_ID", "123"),
        ("DEV_GUILD_ID", "-123456789012345678"),
        ("LOG_LEVEL", "LOUD"),
    ],
)
def test_bad_values_name_their_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env({"DISCORD_TOKEN": TOKEN, variable: value})
    assert variable in str(info.value)
    assert "\n" not in str(info.value)


def test_token_is_hidden_from_repr() -> None:
    settings = Settings.from_env({"DISCORD_TOKEN": TOKEN})
    assert TOKEN not in repr(settings)
    assert TOKEN not in str(settings)


def test_settings_are_frozen() -> None:
    settings = Settings.from_env({"DISCORD_TOKEN": TOKEN})
    with pytest.raises(AttributeError):
        settings.log_level = "DEBUG"  # type: ignore[misc]
