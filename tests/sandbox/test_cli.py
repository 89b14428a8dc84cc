"""`python -m bot sandbox` on the command line: starts, stops cleanly, refuses bad arguments."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.__main__ import main as cli
from bot.sandbox.bot_process import SandboxClock, local_url
from bot.sandbox.bot_process import main as bot_process_main
from bot.sandbox.launch import PASSED_ON, build_demo
from tests.sandbox.process import ROOT, sandbox_process


@pytest.mark.slow
def test_the_sandbox_starts_and_stops_cleanly_within_20_seconds() -> None:
    deadline = time.monotonic() + 20
    with sandbox_process("--members", "2", timeout=20) as sandbox:
        assert sandbox.state()["guild"]["name"] == "Study Group (sandbox)"
        code = sandbox.stop(timeout=max(deadline - time.monotonic(), 0.1))
    assert code == 0
    assert sandbox.output[-1].strip() == "stopped cleanly"


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--members", "51"], "--members must be between 0 and 50"),
        (["--members", "-1"], "--members must be between 0 and 50"),
        (["--port", "70000"], "--port must be between 0 and 65535"),
        (["--database", "ftp://example/db"], "--database must look like sqlite:///"),
    ],
)
def test_bad_arguments_get_one_line(
    args: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["sandbox", *args]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"cohort sandbox: {said}") and err.count("\n") == 1


def test_a_busy_port_is_refused_clearly() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "bot", "sandbox", "--port", str(port)],
            cwd=ROOT, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_bot_process_refuses_anything_but_this_machine(
    capsys: pytest.CaptureFixture[str],
) -> None:
    env = {
        "DISCORD_TOKEN": "x" * 30,
        "COHORT_SANDBOX_API_BASE": "https://discord.com/api/v10",
        "COHORT_SANDBOX_GATEWAY": "ws://127.0.0.1:1/",
        "COHORT_SANDBOX_CONTROL": "ws://127.0.0.1:1/control",
    }
    assert bot_process_main(env) == 1
    assert "COHORT_SANDBOX_API_BASE must point at this machine" in capsys.readouterr().err
    assert bot_process_main({}) == 1
    assert "only `python -m bot sandbox` starts this process" in capsys.readouterr().err
    assert local_url({"X": "ws://localhost:5/"}, "X") == "ws://localhost:5/"


def test_the_sandbox_clock_jumps_ahead_and_never_back() -> None:
    clock = SandboxClock()
    start = clock.now()
    ahead = start + timedelta(days=3)
    clock.jump_to(ahead)
    assert clock.now() >= ahead
    clock.jump_to(start - timedelta(days=1))
    assert clock.now() >= ahead
    assert clock.now().tzinfo is UTC and clock.now() < ahead + timedelta(minutes=5)
    assert datetime.now(UTC) < ahead


def test_the_demo_server_and_the_bot_environment() -> None:
    demo = build_demo(15)
    names = [m.name for m in demo.guild.members.values()]
    assert len(names) == len(set(names)) == 15 + 3  # plus the moderator, the owner, the bot
    assert set(demo.channels) == {"general", "announcements", "check-ins", "reviews", "faq"}
    assert "DISCORD_TOKEN" not in PASSED_ON and "DATABASE_URL" not in PASSED_ON


def children_of(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc (Linux)")
def test_the_bot_stops_when_the_sandbox_is_killed() -> None:
    with sandbox_process("--members", "1", timeout=60) as sandbox:
        (bot_pid,) = children_of(sandbox.process.pid)
        assert alive(bot_pid)
        sandbox.process.kill()  # no chance to clean up: the bot notices the socket closing
        sandbox.process.wait()
        for _ in range(300):
            if not alive(bot_pid):
                break
            time.sleep(0.1)
        assert not alive(bot_pid)
