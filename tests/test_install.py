"""What a fresh clone gets: `make run` installs the runtime only and refuses an old Python in
one line; `make test` adds the dev tools; the licence is stated once and shipped."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# jsonschema is not one: the emulator, which `python -m bot sandbox` runs, validates with it.
DEV_TOOLS = ("pytest", "pytest-asyncio", "hypothesis", "ruff", "mypy")

needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """The files the Makefile reads, in a folder without a .venv."""
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def make(clone: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=clone, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def fake_python(path: Path, version: str) -> Path:
    """An interpreter that says it is `version` and fails anything else (as an old Python
    fails `import venv, ensurepip` checks of 3.11)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'#!/bin/sh\n[ "$1" = "-V" ] && echo "Python {version}" && exit 0\nexit 1\n')
    path.chmod(0o755)
    return path


def requirement_names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\s<>=!~\[;]", r, maxsplit=1)[0].lower() for r in requirements}


def test_runtime_dependencies_hold_no_dev_tool() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = requirement_names(project["dependencies"])
    dev = requirement_names(project["optional-dependencies"]["dev"])
    assert not runtime & set(DEV_TOOLS)
    assert set(DEV_TOOLS) <= dev


@needs_make
def test_make_run_installs_the_runtime_only_and_make_test_the_dev_tools(clone: Path) -> None:
    run = make(clone, "-n", "run", f"PYTHON={sys.executable}")
    assert run.returncode == 0, run.stderr
    installs = [line for line in run.stdout.splitlines() if "pip install" in line]
    assert f"{sys.executable} -m venv .venv" in run.stdout
    assert installs[-1].endswith("pip install --quiet -e .")
    assert "[dev]" not in run.stdout and ".installed-dev" not in run.stdout
    test = make(clone, "-n", "test", f"PYTHON={sys.executable}")
    assert "pip install --quiet -e '.[dev]'" in test.stdout


@needs_make
def test_an_old_python_is_refused_in_one_line_before_any_venv(clone: Path) -> None:
    old = fake_python(clone / "bin" / "python3.10", "3.10.13")
    result = make(clone, "run", f"PYTHON={old}")
    assert result.returncode != 0
    (line,) = result.stderr.strip().splitlines()
    assert "Python 3.11 or newer" in line and "Python 3.10.13" in line
    assert "make run PYTHON=python3.11" in line
    assert not (clone / ".venv").exists()
    missing = make(clone, "run", "PYTHON=no-such-python3")
    assert "no-such-python3 is not found" in missing.stderr


@needs_make
def test_a_venv_of_an_old_python_is_made_again(clone: Path) -> None:
    """As after a first try with Python 3.10 stopped half-way."""
    fake_python(clone / ".venv" / "bin" / "python", "3.10.13")
    result = make(clone, "-n", "run", f"PYTHON={sys.executable}")
    assert result.returncode == 0, result.stderr
    assert f"rm -rf .venv && {sys.executable} -m venv .venv" in result.stdout


@needs_make
def test_a_good_venv_is_kept(clone: Path) -> None:
    venv = clone / ".venv" / "bin"
    venv.mkdir(parents=True)
    (venv / "python").symlink_to(sys.executable)
    result = make(clone, "-n", "run", "PYTHON=no-such-python3")  # not needed: .venv is fine
    assert result.returncode == 0, result.stderr
    assert "-m venv" not in result.stdout and "pip install --quiet -e ." in result.stdout


def test_the_licence_is_stated_as_spdx_and_shipped() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["license"] == "MIT"
    assert pyproject["project"]["license-files"] == ["LICENSE"]
    setuptools = [r for r in pyproject["build-system"]["requires"] if r.startswith("setuptools")]
    assert setuptools == ["setuptools>=77"]  # the first to read the SPDX string
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License") and "the Cohort contributors" in text
