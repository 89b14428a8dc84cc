"""One logging setup for the whole process."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class RedactSecrets(logging.Filter):
    """Replaces secrets (the bot token) wherever they would appear in a log line."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(s in message for s in self._secrets):
            for secret in self._secrets:
                message = message.replace(secret, "[redacted]")
            record.msg, record.args = message, None
        return True


class OneLineReconnects(logging.Filter):
    """discord.py logs each gateway reconnect with a full traceback; over months of network
    hiccups that buries everything else. Keep the cause, in one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if (
            record.name.startswith("discord.")
            and record.exc_info
            and record.exc_info[1] is not None
            and str(record.msg).startswith("Attempting a reconnect")
        ):
            exc = record.exc_info[1]
            cause = (str(exc).strip().splitlines() or [""])[0]
            record.msg = f"{record.getMessage()} after {type(exc).__name__}: {cause}".rstrip(": ")
            record.args = None
            record.exc_info = record.exc_text = None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line, for log collectors (LOG_FORMAT=json)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(level: str, secrets: Iterable[str] = (), log_format: str = "text") -> None:
    """Log to stderr at `level`; discord.py's own loggers stay at WARNING unless DEBUG."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(FORMAT))
    handler.addFilter(OneLineReconnects())
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    library_level = logging.DEBUG if level == "DEBUG" else logging.WARNING
    for name in ("discord", "apscheduler", "alembic", "sqlalchemy", "aiosqlite", "asyncio"):
        logging.getLogger(name).setLevel(max(library_level, logging.getLevelName(level)))
