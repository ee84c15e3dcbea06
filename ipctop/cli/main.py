"""Entry point: parse the command line and hand over to a subcommand or the TUI.

Subcommand modules are imported to register their parsers, so they must stay
light at import time (no textual): `ipctop list --json` has to start fast.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import gc
import importlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from ipctop.cli.common import CliError, HelpFormatter, UsageError, positive_float, print_error

# Each module has `register(subparsers, common)`; its parsers set `func`.  The commands each one
# registers (tests/foundation/test_cli_commands.py checks them): a command line that names one is
# parsed with that module's parsers alone (importing and building all of them costs `ipctop list`
# ~14 ms of its ~70); `ipctop --help`, the monitor and unknown commands get all of them.
COMMANDS = {
    "ipctop.cli.list_cmd": ("list",),
    "ipctop.cli.clean_cmd": ("clean", "restore"),
    "ipctop.cli.shm_cmd": ("shm",),
    "ipctop.cli.msg_cmd": ("msg",),
    "ipctop.cli.sem_cmd": ("sem",),
    "ipctop.cli.posix_cmd": ("pshm", "psem", "pmsg"),
    "ipctop.cli.kill_cmd": ("kill",),
    "ipctop.cli.demo_cmd": ("demo",),
    "ipctop.cli.exporter_cmd": ("exporter",),
}
COMMAND_MODULES = list(COMMANDS)
_MODULE_OF = {command: module for module, commands in COMMANDS.items() for command in commands}
_TAKES_VALUE = frozenset({"-d", "--delay", "-p", "--pid", "-u", "--user", "--ns"})  # the main parser's


class _Parser(argparse.ArgumentParser):
    """argparse's own errors as one line, as every other error is (`ipctop msg send: the following
    arguments are required: ID, TEXT; see ipctop msg send --help`), escaped (an argument may hold a
    newline); its help laid out without importing shutil (`HelpFormatter`)."""

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str):  # type: ignore[no-untyped-def]
        from ipctop.render.escape import printable

        self.exit(2, f"{self.prog}: {printable(message)}; see {self.prog} --help\n")


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The command line's parser: with `argv` that names a command, that command's module's parsers only."""
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
    named = _command_module(argv) if argv is not None else None
    for name in [named] if named is not None else COMMAND_MODULES:
        importlib.import_module(name).register(subparsers, common)
    return parser


def _parser_of(parser: argparse.ArgumentParser, argv: Sequence[str]) -> argparse.ArgumentParser:
    """The parser of the (sub)command `argv` names: `ipctop msg send`'s for `msg send 1 a b`."""
    for token in argv:
        commands = next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
        if commands is None:
            break
        if token in commands.choices:
            parser = commands.choices[token]
    return parser


def _command_module(argv: Sequence[str]) -> str | None:
    """The module of the command `argv` names, where the main parser's options before it are plain;
    None (every module) for help, for an unknown or abbreviated option, or without a command."""
    index = 0
    while index < len(argv):
        token = argv[index]
        if token in ("-h", "--help") or token.startswith("--") and token.split("=")[0] not in _KNOWN_LONG:
            return None  # the main help lists every command; an abbreviation may take a value
        if token in _TAKES_VALUE:
            index += 2
        elif token.startswith("-"):
            index += 1
        else:
            return _MODULE_OF.get(token)
    return None


_KNOWN_LONG = frozenset({"--delay", "--pid", "--user", "--ns", "--readonly", "--no-config", "--lecture"})

# The main parser's options that are the monitor's, each with the commands that take it given before their
# name as their own (`ipctop -u alice clean`).  Any other command refuses it rather than ignore it:
# `ipctop -p 812 clean --yes` would remove what every process left, not what pid 812 did.
_MONITOR_OPTIONS = {
    "-d": ("-d/--delay", ()), "--delay": ("-d/--delay", ()),
    "-p": ("-p/--pid", ("list",)), "--pid": ("-p/--pid", ("list",)),
    "-u": ("-u/--user", ("list", "clean")), "--user": ("-u/--user", ("list", "clean")),
    "--no-config": ("--no-config", ()), "--lecture": ("--lecture", ()),
}


def _before_command(argv: Sequence[str]) -> list[str]:
    """The main parser's options in `argv` (parsed without error), up to the command's name; their values left out."""
    options = []
    index = 0
    while index < len(argv) and argv[index].startswith("-"):
        options.append(argv[index])
        index += 2 if argv[index] in _TAKES_VALUE else 1
    return options


def _misplaced_option(options: Sequence[str], command: str) -> str | None:
    """The sentence refusing a monitor's option given before `command` that the command does not take."""
    for token in options:
        option = token.split("=")[0] if token.startswith("--") else token[:2]
        if option in _MONITOR_OPTIONS:
            name, takers = _MONITOR_OPTIONS[option]
            if command not in takers:
                also = "".join(f" and `ipctop {taker}`" for taker in takers)
                return f"{name} is for the monitor{also}; `ipctop {command}` does not take it, so nothing was done."
    return None


def main(argv: Sequence[str] | None = None) -> int:
    given = sys.argv[1:] if argv is None else argv
    parser = build_parser(given)
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        # argparse would name the main parser, though these are left over from the command's (`ipctop list --foo`)
        _parser_of(parser, given).error(f"unrecognized arguments: {' '.join(unknown)}")
    if not hasattr(args, "readonly"):
        args.readonly = False
    if not hasattr(args, "ns"):
        args.ns = None
    misplaced = _misplaced_option(_before_command(given), args.command) if args.command is not None else None
    if misplaced is not None:
        print_error(misplaced)
        return 2
    one_off = argv is None and args.command == "list"
    if one_off:
        # a one-off look builds one large tree of immutable records and ends: the cyclic collector
        # would walk it again and again (4 ms on a busy machine) and never find garbage
        gc.disable()
    code = _run(args)
    if one_off:
        _end_now(code)
    return code


def _run(args: argparse.Namespace) -> int:
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


def _end_now(code: int) -> NoReturn:
    """End a one-off look from the command line without the interpreter's teardown.

    Tearing down collects and frees the whole heap of a look (on a busy machine some
    100,000 records and their caches) and every module: 5-10 ms of `ipctop list --json`'s
    170, which scripts and cron jobs pay at every call and which nothing needs.  What
    the teardown does that matters is done here: the atexit handlers run and the
    standard streams are flushed (a reader that went away is no error, as in `_run`).
    Only for the console script: a caller of `main(argv)` gets its code back."""
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        # BrokenPipeError: the reader went away; ValueError: the stream was closed
        with contextlib.suppress(BrokenPipeError, ValueError):
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
