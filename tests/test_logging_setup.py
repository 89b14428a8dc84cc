from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import aiohttp
import pytest

from bot.logging_setup import setup_logging

SECRET = "MTIzNDU2Nzg5MDEyMzQ1Njc4.Gabcde.abcdefghijklmnopqrstuvwxyz012345"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def reconnect_after(exc: BaseException) -> None:
    """What discord.py's Client.connect logs when the gateway drops."""
    try:
        raise exc
    except type(exc):
        logging.getLogger("discord.client").exception("Attempting a reconnect in %.2fs", 4.5)


def test_gateway_reconnects_are_one_line_with_their_cause(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    setup_logging("INFO")
    reconnect_after(aiohttp.ClientConnectionError("Cannot connect to host gateway.discord.gg:443"))
    reconnect_after(TimeoutError())
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2 and "Traceback" not in "".join(lines)
    assert lines[0].endswith(
        "Attempting a reconnect in 4.50s after ClientConnectionError: "
        "Cannot connect to host gateway.discord.gg:443"
    )
    assert lines[1].endswith("Attempting a reconnect in 4.50s after TimeoutError")


def test_other_exceptions_keep_their_traceback(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    setup_logging("INFO")
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("bot").exception("unexpected")
    assert "Traceback" in capsys.readouterr().err


def test_json_lines_carry_the_fields_and_hide_the_token(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    setup_logging("INFO", secrets=[SECRET], log_format="json")
    logging.getLogger("bot").info("token %s in a message — ünïcode", SECRET)
    try:
        raise RuntimeError("failed")
    except RuntimeError:
        logging.getLogger("bot.tree").exception("incident %s", "abc123")
    first, second = (json.loads(line) for line in capsys.readouterr().err.splitlines())
    assert first["message"] == "token [redacted] in a message — ünïcode"
    assert (first["level"], first["logger"]) == ("INFO", "bot")
    assert first["time"].endswith("+00:00")
    assert second["message"] == "incident abc123" and "RuntimeError: failed" in second["exception"]
