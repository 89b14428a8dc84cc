"""SHARD_COUNT and SHARD_IDS: parsed, validated in one line, and what a process then owns."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, Settings
from bot.domain.shards import Shards, format_ids, shard_of
from bot.shards import ShardError, StartLimit
from tests.conftest import TOKEN

PG = "postgresql://u:p@127.0.0.1:5432/db"


def settings(database_url: str = PG, **env: str) -> Settings:
    return Settings.from_env({"DISCORD_TOKEN": TOKEN, "DATABASE_URL": database_url, **env})


def test_by_default_one_process_runs_discords_recommendation_of_shards() -> None:
    shards = settings("sqlite:///x.sqlite3").shards
    assert shards == Shards(None, None) and shards.everything and shards.holds_shard_zero


@pytest.mark.parametrize(
    ("value", "ids"),
    [
        ("0-3", (0, 1, 2, 3)),
        ("4,5,6,7", (4, 5, 6, 7)),
        (" 6 , 0-1 ", (0, 1, 6)),
        ("2,2,1-2", (1, 2)),
    ],
)
def test_shard_ids_are_ranges_or_lists(value: str, ids: tuple[int, ...]) -> None:
    shards = settings(SHARD_COUNT="8", SHARD_IDS=value).shards
    assert shards == Shards(8, ids)
    assert shards.holds_shard_zero is (0 in ids)


def test_all_shards_named_is_every_shard_even_on_sqlite() -> None:
    shards = settings("sqlite:///x.sqlite3", SHARD_COUNT="4", SHARD_IDS="0-3").shards
    assert shards == Shards(4, None)


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"SHARD_COUNT": "two"}, "SHARD_COUNT must be auto or a whole number"),
        ({"SHARD_COUNT": "0"}, "SHARD_COUNT must be auto or a whole number"),
        ({"SHARD_COUNT": "-1"}, "SHARD_COUNT must be auto or a whole number"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "0-"}, "SHARD_IDS must be shard numbers or ranges"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "a,b"}, "SHARD_IDS must be shard numbers or ranges"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "0;1"}, "SHARD_IDS must be shard numbers or ranges"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "3-1"}, "backwards range"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "2-4"}, "names shard 4, but SHARD_COUNT=4 has"),
        ({"SHARD_IDS": "0-1"}, "SHARD_IDS needs SHARD_COUNT set to a number"),
        ({"SHARD_COUNT": "auto", "SHARD_IDS": "0"}, "SHARD_IDS needs SHARD_COUNT"),
    ],
)
def test_bad_shard_settings_get_one_line(env: dict[str, str], words: str) -> None:
    with pytest.raises(ConfigError) as info:
        settings(**env)
    assert words in str(info.value) and "\n" not in str(info.value)


def test_some_shards_on_sqlite_say_postgresql_is_needed() -> None:
    with pytest.raises(ConfigError) as info:
        settings("sqlite:///x.sqlite3", SHARD_COUNT="4", SHARD_IDS="0-1")
    message = str(info.value)
    assert "PostgreSQL" in message and "SHARD_IDS=0-1" in message and "\n" not in message


def test_a_process_owns_the_guilds_of_its_shards_only() -> None:
    shards = Shards(4, (1, 3))
    guilds = [n << 22 for n in range(8)]
    assert [shard_of(g, 4) for g in guilds] == [0, 1, 2, 3, 0, 1, 2, 3]
    assert [shards.owns(g) for g in guilds] == [False, True, False, True] * 2
    assert all(Shards(4, None).owns(g) for g in guilds)
    assert not shards.holds_shard_zero


def test_shard_lists_are_written_back_as_ranges() -> None:
    assert format_ids((0, 1, 2, 5, 7, 8)) == "0-2,5,7-8"
    assert Shards(8, (4, 5, 6, 7)).describe() == "4-7 of 8"


def test_a_used_up_start_limit_is_one_line_saying_when_it_resets() -> None:
    limit = StartLimit.from_json(
        {
            "shards": 2,
            "session_start_limit": {
                "total": 1000,
                "remaining": 1,
                "reset_after": 7_200_000,
                "max_concurrency": 1,
            },
        }
    )
    limit.check(1)
    with pytest.raises(ShardError) as info:
        limit.check(2)
    message = str(info.value)
    assert "session start limit is used up" in message and "2.0 h" in message
    assert "\n" not in message
