"""`python -m bot sandbox`: the real bot against a local Discord, with a web page to use it.

The command line lives here; `launch` (imported only when the sandbox runs) does the work, so
`python -m bot` does not load the emulator.
"""

from __future__ import annotations

import argparse

DEFAULT_PORT = 8765
DEFAULT_MEMBERS = 4


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="the page's port on 127.0.0.1 (0: any)"
    )
    parser.add_argument(
        "--members", type=int, default=DEFAULT_MEMBERS, help="members besides the moderator"
    )
    parser.add_argument(
        "--database",
        metavar="URL",
        help="a database URL to keep the bot's data in (default: a throwaway SQLite file)",
    )


def main(args: argparse.Namespace) -> int:
    from bot.sandbox import launch

    return launch.main(args)
