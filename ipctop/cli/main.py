"""Entry point: parse the command line and hand over to a subcommand or the TUI.

Subcommand modules are imported to register their parsers, so they must stay
light at import time (no textual): `ipctop list --json` has to start fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from ipctop.cli.common import CliError, UsageError, positive_float, print_error

# Each module has `register(subparsers, common)`; its parsers set `func`.
COMMAND_MODULES = [
    "ipctop.cli.list_cmd",
    "ipctop.cli.clean_cmd",
    "ipctop.cli.shm_cmd",
    "ipctop.cli.msg_cmd",
    "ipctop.cli.sem_cmd",
    "ipctop.cli.posix_cmd",
    "ipctop.cli.kill_cmd",
    "ipctop.cli.demo_cmd",
    "ipctop.cli.exporter_cmd",
]


class _Parser(argparse.ArgumentParser):
    """argparse's own errors, escaped like every other error line (an argument may hold a newline)."""

    def error(self, message: str):  # type: ignore[no-untyped-def]
        from ipctop.render.escape import printable

        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {printable(message)}\n")


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument(
        "--readonly",
        action="store_true",
        default=argparse.SUPPRESS,
        help="refuse every action that changes anything",
    )
    common.add_argument(
        "--ns",
        default=argparse.SUPPRESS,
        metavar="NAME|INODE|PID",
        help="only this IPC namespace (host, a container such as docker:3f2a1b4c5d6e, an inode, or a pid in it; "
        "comma-separated for several); actions act inside it",
    )
    parser = _Parser(
        prog="ipctop",
        description="A top-like monitor and inspector for Linux IPC: shared memory, message queues, "
        "semaphores (System V and POSIX), memfds, pipes and FIFOs. With no command, opens the live monitor.",
        parents=[common],
    )
    parser.add_argument("-d", "--delay", type=positive_float, default=None, metavar="SECONDS",
                        help="refresh interval of the monitor (default: as saved in the settings, else 2)")
    parser.add_argument("-p", "--pid", default=None, metavar="PID,...",
                        help="show only what these processes hold or last used")
    parser.add_argument("-u", "--user", default=None, metavar="USER", help="show only what USER owns or holds")
    parser.add_argument("--no-config", action="store_true",
                        help="start the monitor with the default settings, not those saved with its settings "
                             "screen (F2) in $XDG_CONFIG_HOME/ipctop/config.toml")
    parser.add_argument("--lecture", action="store_true",
                        help="lecture mode: a demo's narration taller and its rows first in every pane (L toggles)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "readonly"):
        args.readonly = False
    if not hasattr(args, "ns"):
        args.ns = None
    try:
        if args.command is None:
            from ipctop.cli.monitor import run_monitor

            return run_monitor(args)
        return int(args.func(args) or 0)
    except UsageError as error:
        print_error(str(error))
        return 2
    except CliError as error:
        print_error(str(error))
        return error.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
