"""Vendor the request-body schemas of the routes the emulator serves from Discord's OpenAPI spec.

Regenerate (from the repository root) after updating the spec or `discord_emulator/routes.py`:

    .venv/bin/python -m discord_emulator.discord_openapi.extract /path/to/discord-api-spec

`/path/to/discord-api-spec` holds `openapi.json`, `LICENSE` and `SOURCE` (the upstream commit).
The output keeps only what validation needs: for each served route with a request body, its
schema per content type, plus the transitive closure of `#/components/schemas/*` it references.
Schemas are copied verbatim; spec quirks are handled at load time in `discord_emulator/schema.py`.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
from pathlib import Path
from typing import Any

from discord_emulator.discord_openapi import HERE, SCHEMAS_FILE
from discord_emulator.routes import SERVED_ROUTES

log = logging.getLogger(__name__)

_REF_PREFIX = "#/components/schemas/"


def _refs(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(_REF_PREFIX):
            found.add(ref[len(_REF_PREFIX) :])
        for value in node.values():
            found |= _refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= _refs(value)
    return found


def extract(spec: dict[str, Any], source: str) -> dict[str, Any]:
    all_schemas: dict[str, Any] = spec["components"]["schemas"]
    routes: dict[str, dict[str, Any]] = {}
    for method, path in SERVED_ROUTES:
        operation = spec["paths"].get(path, {}).get(method.lower())
        if operation is None:
            raise SystemExit(f"{method} {path} is not in the OpenAPI description")
        body = operation.get("requestBody")
        if not body:
            continue
        routes[f"{method} {path}"] = {
            "required": bool(body.get("required")),
            "content": {ctype: media["schema"] for ctype, media in body["content"].items()},
        }
    wanted: dict[str, Any] = {}
    pending = _refs(routes)
    while pending:
        name = pending.pop()
        if name in wanted:
            continue
        wanted[name] = all_schemas[name]
        pending |= _refs(wanted[name]) - wanted.keys()
    return {
        "source": source,
        "openapi": spec["openapi"],
        "routes": dict(sorted(routes.items())),
        "components": {"schemas": dict(sorted(wanted.items()))},
    }


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("spec_dir", type=Path, help="directory with openapi.json, LICENSE, SOURCE")
    args = parser.parse_args(argv)
    spec = json.loads((args.spec_dir / "openapi.json").read_text(encoding="utf-8"))
    source = (args.spec_dir / "SOURCE").read_text(encoding="utf-8").strip()
    data = extract(spec, source)
    SCHEMAS_FILE.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    shutil.copyfile(args.spec_dir / "LICENSE", HERE / "LICENSE")
    (HERE / "SOURCE").write_text(
        "https://github.com/discord/discord-api-spec (specs/openapi.json)\n" + source + "\n",
        encoding="utf-8",
    )
    log.info(
        "wrote %s: %d routes, %d component schemas",
        SCHEMAS_FILE,
        len(data["routes"]),
        len(data["components"]["schemas"]),
    )


if __name__ == "__main__":
    main()
