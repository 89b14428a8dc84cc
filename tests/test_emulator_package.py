"""`discord_emulator` is a package of its own: it imports nothing of Cohort."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import discord_emulator

PACKAGE = Path(discord_emulator.__file__).parent
COHORT = {"bot", "cogs", "db", "tests", "benchmarks"}


def imported_roots(source: str) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_no_module_of_the_emulator_imports_cohort() -> None:
    modules = sorted(PACKAGE.rglob("*.py"))
    assert len(modules) > 10
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(imported_roots(path.read_text()) & COHORT)
        for path in modules
    }
    assert {path: roots for path, roots in offenders.items() if roots} == {}


def test_the_import_check_sees_every_form_of_import() -> None:
    source = (
        "import bot.app\nfrom db import schema\nfrom tests.e2e import conftest\nfrom . import x\n"
    )
    assert imported_roots(source) == {"bot", "db", "tests"}


def test_importing_the_emulator_loads_nothing_of_cohort() -> None:
    code = (
        "import sys, discord_emulator, discord_emulator.discord_openapi.extract\n"
        f"print(sorted(set({sorted(COHORT)!r}) & {{m.split('.')[0] for m in sys.modules}}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_the_vendored_openapi_description_ships_with_the_package() -> None:
    vendored = PACKAGE / "discord_openapi"
    for name in ("request_schemas.json", "LICENSE", "SOURCE"):
        assert (vendored / name).is_file(), name
