"""deploy/: the systemd unit and the container recipe run `python -m bot`, restart it, and keep
data/ on a volume. No container runtime runs here, so the recipe is checked by what it copies:
those files alone must make a working bot."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TOKEN

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"


def unit_settings() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in (DEPLOY / "cohort.service").read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            found.setdefault(key, []).append(value)
    return found


def test_the_systemd_unit_runs_the_bot_and_restarts_it() -> None:
    unit = unit_settings()
    assert unit["ExecStart"] == ["/opt/cohort/.venv/bin/python -m bot"]
    assert unit["WorkingDirectory"] == ["/opt/cohort"]  # where .env is read
    assert unit["Restart"] == ["always"] and unit["StartLimitIntervalSec"] == ["0"]
    assert unit["ReadWritePaths"] == ["/opt/cohort/data"] and unit["User"] == ["cohort"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    text = (DEPLOY / "cohort.service").read_text()
    text = text.replace("/opt/cohort/.venv/bin/python", sys.executable)
    (tmp_path / "cohort.service").write_text(text.replace("/opt/cohort", str(tmp_path)))
    result = subprocess.run(
        ["systemd-analyze", "verify", str(tmp_path / "cohort.service")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0 and result.stderr == "", result.stderr


def dockerfile() -> str:
    return (DEPLOY / "Dockerfile").read_text()


def test_the_image_runs_the_bot_with_data_on_a_volume() -> None:
    text = dockerfile()
    assert re.search(r"^FROM python:3\.1[1-9]", text, re.M)
    assert 'CMD ["python", "-m", "bot"]' in text
    assert 'VOLUME ["/app/data"]' in text and "WORKDIR /app" in text
    assert "USER cohort" in text
    assert re.search(r"pip install \.\s", text)  # runtime dependencies, no [dev]


def test_what_the_image_copies_is_a_working_bot(tmp_path: Path) -> None:
    """Only the files the Dockerfile copies, run from their folder as the image would."""
    app = tmp_path / "app"
    app.mkdir()
    for sources, _target in re.findall(r"^COPY (.+) (\S+)$", dockerfile(), re.M):
        for name in sources.split():
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, app / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy(source, app / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "DATABASE_"))}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "check"],
        cwd=app, env={**env, "DISCORD_TOKEN": TOKEN, "PYTHONPATH": str(app)},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout and (app / "data" / "cohort.sqlite3").exists()


def test_the_build_context_leaves_out_secrets_and_data() -> None:
    ignored = (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
    assert ignored[ignored.index("*") + 1 :]  # everything out, then the few files let in
    assert not any(line.lstrip("!").startswith((".env", "data", ".venv")) for line in ignored)


def compose() -> str:
    return (DEPLOY / "compose.yaml").read_text()


def service(name: str) -> str:
    """The text of one service in compose.yaml (up to the next top-level or service key)."""
    found = re.search(rf"^  {name}:\n((?:    .*\n|\n)+)", compose(), re.M)
    assert found, name
    return found[1]


def test_compose_runs_the_bot_with_postgresql_a_restart_policy_and_a_data_volume() -> None:
    bot, db = service("bot"), service("db")
    assert "dockerfile: deploy/Dockerfile" in bot and "context: .." in bot
    assert "restart: unless-stopped" in bot and "restart: unless-stopped" in db
    assert "- cohort-data:/app/data" in bot
    assert re.search(
        r"DATABASE_URL: postgresql://cohort:\$\{POSTGRES_PASSWORD:\?[^}]+\}@db:5432/", bot
    )
    assert "condition: service_healthy" in bot
    assert "image: postgres:" in db and "- postgres-data:/var/lib/postgresql/data" in db
    assert "pg_isready" in db
