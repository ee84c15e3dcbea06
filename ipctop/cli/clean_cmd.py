"""`ipctop clean` (find leaked System V objects; remove them with --yes) and `ipctop restore`.

Dry run by default: the table of candidates and the reason for each.  With
--yes every removal, skip and failure is printed, one line each, so a cron job
leaves a record; --json prints the same as a list.  Exit 1 when a removal or a
backup failed, 2 for bad input.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from ipctop.cli.common import CliError, UsageError, print_error, refuse_if_readonly, user_id


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    clean = subparsers.add_parser(
        "clean", parents=[common], help="find leaked shm/msg/sem and POSIX objects; remove them with --yes",
        description="Find System V objects that were leaked (their creator and last users are gone) and POSIX "
        "objects nobody holds whose owner has no process left from when they were made, and say why for each. "
        "Nothing is removed without --yes; just before each removal the object is checked again.",
    )
    clean.add_argument("--yes", action="store_true", help="remove the candidates (default: dry run)")
    clean.add_argument("--type", default=None, metavar="TYPES", help="comma-separated: shm,msg,sem,pshm,psem,pmsg")
    clean.add_argument("--user", dest="clean_user", default=None, metavar="USER",
                       help="only objects USER owns or created")
    clean.add_argument("--key", action="append", default=None, metavar="KEY[,KEY...]",
                       help="only objects with these keys (hex 0x... or decimal); may be repeated")
    clean.add_argument("--name", action="append", default=None, metavar="NAME[,NAME...]",
                       help="only POSIX objects with these names (/name); may be repeated")
    clean.add_argument("--older-than", default=None, metavar="DURATION",
                       help="only objects untouched for longer than DURATION (90s, 10m, 2h, 3d); also lets "
                       "queues and semaphore sets that were never used be removed")
    clean.add_argument("--backup", default=None, metavar="DIR",
                       help="before removing an object, write its metadata and contents to a file in DIR "
                       "(an object whose backup fails is kept)")
    clean.add_argument("--json", action="store_true", help="print the candidates (or the removals) as JSON")
    clean.set_defaults(func=run_clean)

    restore = subparsers.add_parser(
        "restore", parents=[common], help="recreate objects from `clean --backup` files",
        description="Recreate each object from its backup file with the same key, mode and contents, and print "
        "its new id. Refuses when an object with that key exists; --key restores one file under another key.",
    )
    restore.add_argument("files", nargs="+", metavar="FILE", help="a backup file written by clean --backup")
    restore.add_argument("--key", dest="restore_key", default=None, metavar="KEY",
                         help="restore under this key (hex 0x... or decimal) instead of the saved one, "
                         "when that one is taken now; one FILE only")
    restore.add_argument("--name", dest="restore_name", default=None, metavar="NAME",
                         help="restore a POSIX object under this name instead of the saved one; one FILE only")
    restore.set_defaults(func=run_restore)


def _filters(args: argparse.Namespace, namespaces: frozenset[int] | None = None):  # type: ignore[no-untyped-def]
    from ipctop.cleanup.filters import LeakFilters, parse_duration, parse_keys, parse_types

    try:
        types = parse_types(args.type)
    except ValueError as error:
        raise UsageError(f"--type: {error}") from None
    try:
        keys = parse_keys(args.key) if args.key is not None else None
    except ValueError as error:
        raise UsageError(f"--key: {error}") from None
    try:
        older_than = parse_duration(args.older_than) if args.older_than is not None else None
    except ValueError as error:
        raise UsageError(f"--older-than: {error}") from None
    names = None
    if args.name is not None:
        from ipctop.actions.posix_values import parse_name
        from ipctop.actions.validators import ValidationError

        try:
            names = frozenset(parse_name(part, "pshm", field="--name") for text in args.name
                              for part in text.split(",") if part.strip())
        except ValidationError as error:
            raise UsageError(str(error)) from None
        if not names:
            raise UsageError("--name: no name given")
    return LeakFilters(types=types, uid=user_id(_user(args)), keys=keys, older_than=older_than,
                       namespaces=namespaces, names=names)


def _user(args: argparse.Namespace) -> str | None:
    """clean's --user, or ipctop's own -u before the command; None when neither is given."""
    return args.clean_user if args.clean_user is not None else args.user


def _check_backup_dir(directory: str) -> None:
    import os

    from ipctop.cleanup.backup import BackupError, check_directory

    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
    except OSError as error:
        raise CliError(f"--backup: cannot use {directory!r} for backups: {error.strerror or error}") from None
    try:
        check_directory(directory)
    except BackupError as error:
        raise CliError(f"--backup: {error}") from None
    if not os.access(directory, os.W_OK | os.X_OK):
        raise CliError(f"--backup: cannot write in {directory!r}")


def run_clean(args: argparse.Namespace) -> int:
    import time

    from ipctop.cleanup import find_leaks, gather, remove_candidates
    from ipctop.cli.list_cmd import namespaces_asked
    from ipctop.render.escape import printable
    from ipctop.snapshot import take_snapshot

    _filters(args)  # bad options are told before anything is read
    if args.yes:
        refuse_if_readonly(args, "clean --yes")
        if args.backup is not None:
            _check_backup_dir(args.backup)
    snapshot = take_snapshot()
    filters = _filters(args, namespaces_asked(snapshot, args.ns))
    evidence = gather(snapshot)
    candidates = find_leaks(snapshot, filters, time.time(), evidence=evidence)
    uninspected = evidence.waiters.uninspected if evidence.waiters else ()
    if uninspected and any(c.kind in ("msg", "sem") and c.removable for c in candidates):
        shown = ", ".join(map(str, uninspected[:5])) + (", ..." if len(uninspected) > 5 else "")
        print_error(f"note: {len(uninspected)} processes could not be inspected (pid {shown}), so ipctop "
                    "cannot tell whether one of them is blocked on a queue or set listed here")
    if not args.yes:
        demo_files = _demo_files(args)
        if args.json:
            print(json.dumps([_candidate_json(c) for c in candidates], indent=2))
        else:
            print(_dry_run_text(candidates, args.backup, filters))
            if demo_files:
                print(_demo_files_text(demo_files))
        return 0
    results = remove_candidates(candidates, args.backup)
    swept = _sweep_demo_records(files=_unfiltered(args))
    if args.json:
        print(json.dumps([_result_json(r) for r in results], indent=2))
    else:
        for result in results:
            print(printable(result.message))
        for path in swept:
            print(printable(f"removed {path}: left by an ipctop demo whose processes have all exited"))
        print(_summary(results))
    return 1 if any(r.outcome == "failed" for r in results) else 0


def _unfiltered(args: argparse.Namespace) -> bool:
    """No --key, --type or --user: files, which have no key, type or owner to match, are looked at too."""
    return args.key is None and args.type is None and _user(args) is None


def _demo_files(args: argparse.Namespace) -> tuple[str, ...]:
    """Files and directories that dead ipctop demos left in /tmp."""
    if not _unfiltered(args):
        return ()
    from ipctop.demos.registry import read_claims

    return read_claims().dead_paths


def _demo_files_text(paths: tuple[str, ...]) -> str:
    from ipctop.render.escape import printable

    listed = "\n".join(f"  {printable(path)}" for path in paths)
    return (f"\nLeft by ipctop demos whose processes have all exited (`ipctop clean --yes` or the next demo "
            f"removes them):\n{listed}")


def _sweep_demo_records(files: bool) -> list[str]:
    """The files dead demos left (if `files`), and their records once nothing they list is left."""
    from ipctop.demos.registry import sweep

    return sweep(objects=False, paths=files)


def _candidate_json(candidate: Any) -> dict[str, Any]:
    from dataclasses import asdict

    from ipctop.render.formatting import hex_key

    doc = asdict(candidate)
    doc["key_hex"] = hex_key(candidate.key)
    doc["action"] = "remove" if candidate.removable else "report"
    return doc


def _result_json(result: Any) -> dict[str, Any]:
    return {**_candidate_json(result.candidate), "outcome": result.outcome, "message": result.message,
            "backup_path": result.backup_path}


def _grace_note(filters) -> str:  # type: ignore[no-untyped-def]
    from ipctop.cleanup.leaks import grace_seconds
    from ipctop.render.formatting import age

    grace = age(1, 1 + grace_seconds(filters)) if grace_seconds(filters) else "0s"
    return (f"Objects used in the last {grace} are not proposed (the grace period; --older-than sets it, "
            "--older-than 0s for none).")


def _dry_run_text(candidates: list, backup: str | None, filters=None) -> str:  # type: ignore[no-untyped-def]
    from ipctop.render.formatting import hex_key, rwx
    from ipctop.render.tables import table

    if not candidates:
        return f"No leaked objects found. {_grace_note(filters)}"
    rows = [[c.kind, c.name or c.id, "-" if c.name else hex_key(c.key), c.owner, rwx(c.perms), c.detail,
             "remove" if c.removable else "report", c.reason] for c in candidates]
    headers = ["TYPE", "ID/NAME", "KEY", "OWNER", "PERMS", "SIZE", "ACTION", "REASON"]
    if any(c.container for c in candidates):  # an id is unique only in its IPC namespace
        rows = [[*row[:2], c.container or "host", *row[2:]] for c, row in zip(candidates, rows, strict=True)]
        headers[2:2] = ["NAMESPACE"]
    text = table(headers, rows, numeric={1})
    removable = sum(c.removable for c in candidates)
    reported = len(candidates) - removable
    then = f", backing each up in {backup} first" if backup else ""
    tail = f"Dry run: nothing was removed. {removable} to remove, {reported} reported only"
    tail += f"; `ipctop clean --yes` with the same options removes the {removable}{then}." if removable else "."
    return f"{text}\n\n{tail}\n{_grace_note(filters)}"


def _summary(results: list) -> str:
    counts = {outcome: sum(r.outcome == outcome for r in results)
              for outcome in ("removed", "skipped", "failed", "reported")}
    if not results:
        return "No leaked objects found."
    return (f"{counts['removed']} removed, {counts['skipped']} skipped (changed or in use since the scan), "
            f"{counts['failed']} failed, {counts['reported']} reported only.")


def run_restore(args: argparse.Namespace) -> int:
    from ipctop.actions.in_namespace import inside
    from ipctop.cleanup.backup import BackupError, read_backup
    from ipctop.cleanup.restore import RestoreError, restore
    from ipctop.kernel.ipcns import Unenterable
    from ipctop.render.escape import printable
    from ipctop.render.formatting import hex_key

    refuse_if_readonly(args, "restore")
    key = _restore_key(args)
    name = _restore_name(args)
    choice = _restore_namespace(args)
    worst = 0
    for path in args.files:
        try:
            backup = read_backup(path)
        except BackupError as error:
            print_error(str(error))
            worst = 2
            continue
        try:
            if backup.name and choice is not None and choice.target is not None:
                raise RestoreError("a POSIX object is restored in ipctop's own /dev/shm or mqueue filesystem: "
                                   "leave --ns out")
            restored = inside(choice, restore, backup, key, name)
        except (RestoreError, Unenterable) as error:
            print_error(f"{path}: {error}")
            worst = max(worst, 1)
            continue
        if restored.name:
            instead = f" (saved as {backup.name})" if restored.name != backup.name else ""
            print(f"restored {backup.kind} {restored.name}{instead} from {printable(path)}")
        else:
            instead = f" (saved with key {hex_key(backup.key)})" if restored.key != backup.key else ""
            into = f" in {choice.label}" if choice is not None and choice.target is not None else ""
            print(f"restored {backup.kind} key {hex_key(restored.key)}{instead} from {printable(path)} as id "
                  f"{restored.id}{into}")
        for note in restored.notes:
            print(f"  note: {note}")
        if backup.namespace and (choice is None or choice.target is None):
            print(f"  note: it was in IPC namespace {backup.namespace}; it is now in ipctop's own "
                  "(--ns restores into another)")
    return worst


def _restore_namespace(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """The namespace `restore --ns` names (None: ipctop's own)."""
    from ipctop.actions.in_namespace import choose_namespace
    from ipctop.actions.validators import ValidationError

    if args.ns is None:
        return None
    try:
        return choose_namespace(args.ns)
    except ValidationError as error:
        raise UsageError(str(error)) from None


def _restore_key(args: argparse.Namespace) -> int | None:
    """The key of `restore --key`, checked before any file is read; None: each object's saved key."""
    from ipctop.actions.validators import ValidationError, parse_key

    if args.restore_key is None:
        return None
    if len(args.files) > 1:
        raise UsageError("--key: one key cannot serve several objects; restore one FILE with --key at a time")
    try:
        return parse_key(args.restore_key, field="--key")
    except ValidationError as error:
        raise UsageError(str(error)) from None


def _restore_name(args: argparse.Namespace) -> str | None:
    """The name of `restore --name`, checked before any file is read; None: each object's saved name."""
    from ipctop.actions.posix_values import parse_name
    from ipctop.actions.validators import ValidationError

    if args.restore_name is None:
        return None
    if len(args.files) > 1:
        raise UsageError("--name: one name cannot serve several objects; restore one FILE with --name at a time")
    try:
        return parse_name(args.restore_name, "pshm", field="--name")
    except ValidationError as error:
        raise UsageError(str(error)) from None
