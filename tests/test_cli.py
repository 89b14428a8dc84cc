"""The command line, run as a user would run it (a real process)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TOKEN

ROOT = Path(__file__).resolve().parents[1]


def run_bot(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("DISCORD_TOKEN", "DATABASE_URL")}
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


def test_corrupt_database_exits_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "bad.sqlite3").write_bytes(b"garbage" * 1000)
    url = f"sqlite:///{tmp_path}/bad.sqlite3"
    result = run_bot("check", cwd=tmp_path, DISCORD_TOKEN=TOKEN, DATABASE_URL=url)
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1 and "not a database" in result.stderr
