"""What every subcommand shares: argument types that validate, and how errors are shown.

A usage error exits 2, a refusal by the kernel exits 1; either is one line on
stderr that names the problem, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys

from ipctop.kernel.errors import IpcError


class CliError(Exception):
    """An error to show as one line on stderr with an exit code."""

    exit_code = 1


class UsageError(CliError):
    exit_code = 2


def terminal_columns() -> int:
    """The terminal's width as `shutil.get_terminal_size` gives it ($COLUMNS first), without importing
    shutil: with its compression modules it costs every command 2.5 ms of start-up."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns > 0:
        return columns
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80
    except (AttributeError, ValueError, OSError):
        return 80


class HelpFormatter(argparse.HelpFormatter):
    """argparse's own, told the terminal's width: left to find it, it imports shutil, and every
    `add_argument` makes one of these."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position,
                         terminal_columns() - 2 if width is None else width)


def print_error(message: str) -> None:
    """One line on stderr: a path or name in the message cannot break it or act on the terminal."""
    from ipctop.render.escape import printable

    print(f"ipctop: {printable(message)}", file=sys.stderr)


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0.1 <= value <= 3600:
        raise argparse.ArgumentTypeError(f"{text!r} is outside 0.1..3600 seconds")
    return value


def _ascii_digits(text: str) -> bool:
    """Digits 0-9 only: str.isdigit() also takes '²' and '٣', which int() then refuses."""
    return text.isascii() and text.isdigit()


def pid_list(text: str | None) -> frozenset[int] | None:
    """Parse `PID,PID,...`; None (the option not given) means no filter, an empty text is an error."""
    if text is None:
        return None
    pids = set()
    for part in text.split(","):
        part = part.strip()
        if not _ascii_digits(part) or int(part) <= 0 or int(part) > 4194304:
            raise UsageError(f"--pid: {part!r} is not a process id" if part else
                             "--pid: an empty value is not a process id (leave --pid out for every process)")
        pids.add(int(part))
    return frozenset(pids)


def user_id(text: str | None) -> int | None:
    """A user name or numeric uid; None (the option not given) means no filter, an empty text is an error."""
    if text is None:
        return None
    import pwd

    if not text.strip():
        raise UsageError("--user: an empty value is not a user (leave --user out for every user)")
    if _ascii_digits(text):
        return int(text)
    try:
        return pwd.getpwnam(text).pw_uid
    except (KeyError, ValueError):  # ValueError: a NUL in the name
        raise UsageError(f"--user: no user is named {text!r}") from None


def refuse_if_readonly(args: argparse.Namespace, what: str) -> None:
    if getattr(args, "readonly", False):
        raise UsageError(f"{what} changes the system and --readonly is set")


def kernel_refusal(error: IpcError) -> CliError:
    return CliError(str(error))
