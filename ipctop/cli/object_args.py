"""What the shm, msg, sem and kill commands share: the command with its ACTION
subcommands, `create` with its key options and `rm` with its ids, the guard that
turns every expected failure into one line and an exit code, and the output of
`create`.

Every value is validated (ipctop.actions.validators) before the first call to
the kernel; ValidationError becomes a usage error (exit 2), a refusal by the
kernel (IpcError) or by a holding (HoldingError) becomes exit 1.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable

from ipctop.cli.common import CliError, UsageError, print_error, refuse_if_readonly

RunFunction = Callable[[argparse.Namespace], int | None]
DEFAULT_MODE = "600"


def guarded(what: str, *, mutating: bool, namespaced: bool = True, whole: bool = True
            ) -> Callable[[RunFunction], RunFunction]:
    """Wrap a command's run function: refuse under --readonly, run it inside the IPC namespace
    `--ns` names (`whole`; else the run function enters it itself, with `args.namespace_choice`),
    map errors to exit codes (naming that namespace).  `namespaced=False`: --ns does not apply."""

    def decorate(run: RunFunction) -> RunFunction:
        @functools.wraps(run)
        def wrapper(args: argparse.Namespace) -> int | None:
            from ipctop.actions.holdings import HoldingError
            from ipctop.actions.in_namespace import choose_namespace, inside
            from ipctop.actions.validators import ValidationError
            from ipctop.kernel.errors import IpcError
            from ipctop.kernel.ipcns import Unenterable

            if mutating:
                refuse_if_readonly(args, what)
            choice = None
            where = ""
            try:
                if getattr(args, "ns", None) is not None:
                    if not namespaced:
                        raise UsageError(f"--ns does not apply to {what}: process ids are the host's")
                    choice = choose_namespace(args.ns)
                    where = f" (in {choice.label})" if choice.target is not None else ""
                args.namespace_choice = choice
                return inside(choice, run, args) if whole else run(args)
            except ValidationError as error:
                raise UsageError(f"{error}{where}") from None
            except (IpcError, HoldingError) as error:
                raise CliError(f"{error}{where}") from None
            except Unenterable as error:
                raise CliError(str(error)) from None

        return wrapper

    return decorate


def add_object_command(
    subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser, kind: str, help: str, description: str
) -> argparse._SubParsersAction:
    """`ipctop KIND ACTION ...` for one kind of object (shm, msg, sem); returns its ACTION subparsers."""
    command = subparsers.add_parser(kind, parents=[common], help=help, description=description)
    return command.add_subparsers(dest=f"{kind}_action", metavar="ACTION", required=True)


def add_create_action(
    actions: argparse._SubParsersAction, common: argparse.ArgumentParser, help: str, run: RunFunction
) -> argparse.ArgumentParser:
    """`create` with the key options; returns its parser for the options of that kind."""
    create = actions.add_parser("create", parents=[common], help=help)
    add_key_arguments(create)
    create.set_defaults(func=run)
    return create


def add_rm_action(
    actions: argparse._SubParsersAction,
    common: argparse.ArgumentParser,
    kind: str,
    help: str,
    run: RunFunction | None = None,
    description: str | None = None,
) -> None:
    """`rm ID... | --key KEY`; by default each is removed (IPC_RMID), a refusal reported and the rest still removed."""
    rm = actions.add_parser("rm", parents=[common], help=help, description=description)
    add_rm_arguments(rm)
    remove_all = guarded(f"{kind} rm", mutating=True)(lambda args: remove_each(kind, ids_or_key(args, kind)))
    rm.set_defaults(func=run or remove_all)


def add_key_arguments(parser: argparse.ArgumentParser) -> None:
    """(--key KEY | --ftok PATH PROJ_ID | --private) [--mode OCTAL] [--excl] [--json]."""
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--key", metavar="KEY", help="the key, hex (0x1234) or decimal")
    which.add_argument("--ftok", nargs=2, metavar=("PATH", "PROJ_ID"),
                       help="the key ftok(3) makes from an existing file and a project id (1..255)")
    which.add_argument("--private", action="store_true", help="a new private object (IPC_PRIVATE)")
    parser.add_argument("--mode", default=DEFAULT_MODE, metavar="OCTAL",
                        help=f"permission bits in octal (default {DEFAULT_MODE})")
    parser.add_argument("--excl", action="store_true",
                        help="fail (EEXIST) if an object with the key exists, instead of using it")
    parser.add_argument("--json", action="store_true", help="print the id and key as JSON")


def key_from_args(args: argparse.Namespace) -> int:
    """The key asked for; 0 (IPC_PRIVATE) for --private."""
    from ipctop.actions import validators

    if args.private:
        return 0
    if args.ftok is not None:
        return validators.parse_ftok(args.ftok[0], args.ftok[1], field="--ftok")
    return validators.parse_key(args.key, field="--key")


def print_created(created, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Print the new id (or JSON); say on stderr when an existing object was returned."""
    import json

    from ipctop.actions.validators import OBJECT_NAMES

    if not created.created:
        print_error(
            f"{OBJECT_NAMES[created.kind]} {created.ident} with key {created.key:#010x} already existed "
            "and is left as it was (use --excl to refuse it)"
        )
    if as_json:
        print(json.dumps({"kind": created.kind, "id": created.ident, "key": created.key, "created": created.created}))
    else:
        print(created.ident)


def ids_or_key(args: argparse.Namespace, kind: str) -> list[int]:
    """`rm ID...` or `rm --key KEY`: every id checked to exist before anything is removed."""
    from ipctop.actions import validators
    from ipctop.kernel import sysv

    if bool(args.ids) == (args.key is not None):
        raise UsageError("give one or more ids, or --key KEY")
    if args.key is not None:
        key = validators.parse_key(args.key, field="--key")
        get = {"shm": lambda: sysv.shmget(key, 0, 0), "msg": lambda: sysv.msgget(key, 0),
               "sem": lambda: sysv.semget(key, 0, 0)}[kind]
        return [get()]
    return list(dict.fromkeys(validators.parse_id(text, kind, field="ID") for text in args.ids))


def remove_each(kind: str, ids: list[int], after_each: Callable[[int], None] | None = None) -> int:
    """IPC_RMID on each id; a refusal is reported and the others are still removed."""
    from ipctop.actions import operations
    from ipctop.kernel.errors import IpcError

    failed = 0
    for ident in ids:
        try:
            operations.remove(kind, ident)
        except IpcError as error:
            print_error(str(error))
            failed += 1
            continue
        if after_each:
            after_each(ident)
    return 1 if failed else 0


def add_rm_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ids", nargs="*", metavar="ID", help="ids to remove")
    parser.add_argument("--key", metavar="KEY", help="remove the object with this key instead")


def write_bytes(data: bytes) -> None:
    """Bytes to stdout as they are (a message or a segment is not always text)."""
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        sys.stdout.write(data.decode("utf-8", "replace"))
        return
    buffer.write(data)
    buffer.flush()
