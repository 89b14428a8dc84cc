"""`python -m bot sandbox` as a subprocess, for the tests of its server and its page."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 90.0


@dataclass
class Sandbox:
    process: subprocess.Popen[str]
    url: str
    output: list[str] = field(default_factory=list)

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.url.rstrip("/") + path, timeout=30) as response:
            return json.load(response)

    def post(self, path: str, body: Any, *, expect: int = 200) -> Any:
        request = urllib.request.Request(
            self.url.rstrip("/") + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, answer = response.status, json.load(response)
        except urllib.error.HTTPError as error:
            status, answer = error.code, json.load(error)
        assert status == expect, (status, answer)
        return answer

    def state(self, member: str | None = None) -> Any:
        return self.get(f"/api/state?as={member}" if member else "/api/state")

    def stop(self, timeout: float = 20.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout)


def _reader(stream: Any, lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


@contextmanager
def sandbox_process(*args: str, timeout: float = START_TIMEOUT) -> Iterator[Sandbox]:
    """Start the sandbox on a free port; yield once it printed its URL; stop it on exit."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISCORD_TOKEN", "DATABASE_URL")}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "sandbox", "--port", "0", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()
    assert process.stdout is not None
    threading.Thread(target=_reader, args=(process.stdout, lines), daemon=True).start()
    output: list[str] = []
    url = None
    try:
        while url is None:
            line = lines.get(timeout=timeout)
            if line is None:
                raise AssertionError(f"the sandbox exited before serving: {output}")
            output.append(line)
            if "Cohort sandbox: http://" in line:
                url = line.split("Cohort sandbox: ", 1)[1].split()[0]
        sandbox = Sandbox(process, url, output)
        yield sandbox
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        with contextlib.suppress(queue.Empty):
            while (line := lines.get(timeout=5)) is not None:
                output.append(line)


def by_name(state: Any, name: str) -> str:
    """The id of the member or channel called `name`."""
    for item in state["members"] + state["channels"]:
        if item["name"] == name:
            return str(item["id"])
    raise LookupError(name)
