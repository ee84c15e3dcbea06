"""`ipctop list`: the snapshot once, as aligned tables or as JSON, then exit."""

from __future__ import annotations

import argparse

from ipctop.cli.common import UsageError, pid_list, user_id


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "list", parents=[common], help="print every IPC object once and exit",
        description="Print the IPC objects of this machine once, like lsipc, with who holds each.",
    )
    parser.add_argument("--json", action="store_true", help="print the snapshot as JSON with typed values")
    parser.add_argument("--type", default=None, metavar="TYPES", help="comma-separated: shm,msg,sem,pipe,fifo")
    parser.add_argument("--pid", dest="list_pid", default=None, metavar="PID,...",
                        help="only objects these processes hold or last used")
    parser.add_argument("--user", dest="list_user", default=None, metavar="USER",
                        help="only objects USER owns or holds")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ipctop.query import filter_snapshot, parse_types
    from ipctop.snapshot import take_snapshot

    try:
        types = parse_types(args.type)
    except ValueError as error:
        raise UsageError(f"--type: {error}") from None
    pids = pid_list(args.list_pid if args.list_pid is not None else args.pid)
    uid = user_id(args.list_user if args.list_user is not None else args.user)
    snapshot = filter_snapshot(take_snapshot(), types, pids, uid)
    if args.json:
        from ipctop.render.jsonout import snapshot_to_json

        print(snapshot_to_json(snapshot))
        return 0
    from ipctop.render.tables import SECTIONS, process_table

    blocks = []
    for type_name, (title, render, field) in SECTIONS.items():
        if type_name in types:
            count = len(getattr(snapshot, field))
            blocks.append(f"{title} ({count})\n{render(snapshot)}")
    if pids is not None:
        blocks.append(f"Processes ({len(snapshot.processes)})\n{process_table(snapshot)}")
    if snapshot.uninspectable:
        count = len(snapshot.uninspectable)
        blocks.append(f"{count} processes could not be inspected (permission denied; run as root to see them)")
    print("\n\n".join(blocks))
    return 0
