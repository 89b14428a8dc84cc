"""The command line, run as a user would run it (a real process)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine

from db.engine import alembic_config, head_revision
from tests.conftest import TOKEN
from tests.launcher import unused_port

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = ("DISCORD_TOKEN", "DATABASE_URL", "DEV_GUILD_ID", "LOG_LEVEL", "LOG_FORMAT")


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single line a failure ends in (no traceback, nothing else), and a non-zero exit."""
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("cohort: ")
    return lines[0]


def run_bot(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    clean["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_without_a_token_it_prints_one_hint_line(tmp_path: Path) -> None:
    result = run_bot(cwd=tmp_path)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "copy .env.example to .env" in lines[0] and "DISCORD_TOKEN" in lines[0]


def test_help_documents_the_commands(tmp_path: Path) -> None:
    result = run_bot("--help", cwd=tmp_path)
    assert result.returncode == 0
    for word in ("check", "run", "DISCORD_TOKEN", "DATABASE_URL"):
        assert word in result.stdout


def test_bad_setting_exits_with_one_line_naming_it(tmp_path: Path) -> None:
    result = run_bot("check", cwd=tmp_path, DISCORD_TOKEN=TOKEN, LOG_LEVEL="LOUD")
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0 and "LOG_LEVEL" in result.stderr


def test_env_file_in_the_current_folder_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"DISCORD_TOKEN={TOKEN}\n")
    result = run_bot("check", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "cohort.sqlite3").exists()


def test_check_reports_the_schema_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/db/cohort.sqlite3"
    result = run_bot("check", cwd=tmp_path, DISCORD_TOKEN=TOKEN, DATABASE_URL=url)
    assert result.returncode == 0, result.stderr
    assert "database: sqlite" in result.stdout
    assert "up to date" in result.stdout and "schema version: " in result.stdout
    assert TOKEN not in result.stdout + result.stderr


@pytest.mark.postgres
def test_check_reports_the_schema_on_postgres(tmp_path: Path, clean_postgres_url: str) -> None:
    result = run_bot("check", cwd=tmp_path, DISCORD_TOKEN=TOKEN, DATABASE_URL=clean_postgres_url)
    assert result.returncode == 0, result.stderr
    assert "database: postgresql" in result.stdout and "up to date" in result.stdout


def test_corrupt_database_exits_with_one_line_naming_the_setting(tmp_path: Path) -> None:
    (tmp_path / "bad.sqlite3").write_bytes(b"garbage" * 1000)
    url = f"sqlite:///{tmp_path}/bad.sqlite3"
    line = one_line(run_bot("check", cwd=tmp_path, DISCORD_TOKEN=TOKEN, DATABASE_URL=url))
    assert "not a database" in line and "DATABASE_URL" in line and "bad.sqlite3" in line
    assert "restore a backup" in line and "point DATABASE_URL at another file" in line


def test_an_empty_token_in_a_copied_env_file_says_to_fill_it_in(tmp_path: Path) -> None:
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    line = one_line(run_bot(cwd=tmp_path))
    assert "DISCORD_TOKEN is empty in .env" in line and "Reset Token" in line
    assert ".env.example" not in line


@pytest.mark.parametrize(
    ("token", "words"),
    [
        (f"Bot {TOKEN}", ("starts with 'Bot '", "without 'Bot '")),
        (f"bot {TOKEN}", ("starts with 'Bot '",)),
        ("paste-your-bot-token-here-0123456789", ("does not look like a bot token",)),
        ("your.token.here", ("does not look like a bot token",)),
        ("0123456789abcdefghijklmnopqrstuv", ("not the client secret",)),
        ("123456789012345678", ("is a number",)),
        ("MTIzNDU2Nzg5MDEy.Gabcde.abcdefghijklmnopqrstuvwxyz012345", ("does not look like",)),
    ],
)
def test_a_token_of_the_wrong_shape_is_named_with_its_fix(
    tmp_path: Path, token: str, words: tuple[str, ...]
) -> None:
    line = one_line(run_bot("check", cwd=tmp_path, DISCORD_TOKEN=token))
    assert "DISCORD_TOKEN" in line and all(word in line for word in words), line
    assert token not in line


def test_check_says_only_the_token_shape_was_checked(tmp_path: Path) -> None:
    result = run_bot("check", cwd=tmp_path, DISCORD_TOKEN=TOKEN)
    assert result.returncode == 0, result.stderr
    (said,) = [line for line in result.stdout.splitlines() if line.startswith("configuration:")]
    assert "shape" in said and "only Discord" in said


@pytest.mark.parametrize(
    ("url", "secret", "words"),
    [
        ("postgresql://cohort:p@ss@127.0.0.1:5432/cohort", "p@ss", ("more than one '@'",)),
        ("postgresql://cohort:s3cr/et@127.0.0.1:5432/cohort", "s3cr", ("no valid port",)),
        ("postgresql://cohort:se#cret@127.0.0.1:5432/cohort", "se#cret", ("no valid port",)),
        ("postgresql://cohort:secret@127.0.0.1:five/cohort", "secret", ("no valid port",)),
        ("postgresql://cohort:secret@127.0.0.1:99999/cohort", "secret", ("no valid port",)),
    ],
)
def test_a_database_url_that_would_be_misread_is_named_without_the_password(
    tmp_path: Path, url: str, secret: str, words: tuple[str, ...]
) -> None:
    line = one_line(run_bot("check", cwd=tmp_path, DISCORD_TOKEN=TOKEN, DATABASE_URL=url))
    assert "DATABASE_URL" in line and "percent-encode" in line and "%40" in line
    assert all(word in line for word in words), line
    assert secret not in line


def test_an_unreachable_postgres_is_named_as_database_url_without_the_password(
    tmp_path: Path,
) -> None:
    url = f"postgresql://cohort:hunter2%40x@127.0.0.1:{unused_port()}/cohort"
    line = one_line(run_bot("check", cwd=tmp_path, DISCORD_TOKEN=TOKEN, DATABASE_URL=url))
    assert "DATABASE_URL" in line and "PostgreSQL is running" in line
    assert "hunter2" not in line


def test_log_format_json_writes_one_object_a_line(tmp_path: Path) -> None:
    result = run_bot(
        "check", cwd=tmp_path, DISCORD_TOKEN=TOKEN, LOG_FORMAT="json", LOG_LEVEL="DEBUG"
    )
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stderr.splitlines()]
    assert records and all({"time", "level", "logger", "message"} <= set(r) for r in records)
    bad = one_line(run_bot("check", cwd=tmp_path, DISCORD_TOKEN=TOKEN, LOG_FORMAT="xml"))
    assert "LOG_FORMAT" in bad


def test_check_upgrades_an_older_database_and_keeps_its_data(tmp_path: Path) -> None:
    """Upgrading is: pull, `python -m bot check` (applies the new migrations), restart."""
    database = tmp_path / "cohort.sqlite3"
    engine = create_engine(f"sqlite:///{database}")
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0003")
        conn.exec_driver_sql(
            "INSERT INTO guild_settings (guild_id, timezone, updated_at) "
            "VALUES (42, 'Europe/Paris', '2026-11-18 12:00:00')"
        )
    engine.dispose()
    result = run_bot(
        "check", cwd=tmp_path, DISCORD_TOKEN=TOKEN, DATABASE_URL=f"sqlite:///{database}"
    )
    assert result.returncode == 0, result.stderr
    assert f"schema version: {head_revision()} (up to date)" in result.stdout
    with contextlib.closing(sqlite3.connect(database)) as conn:
        rows = conn.execute("SELECT guild_id, timezone FROM guild_settings").fetchall()
    assert rows == [(42, "Europe/Paris")]
