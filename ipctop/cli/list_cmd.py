"""`ipctop list`: the snapshot once, as aligned tables or as JSON, then exit."""

from __future__ import annotations

import argparse
import os
import shutil
import sys

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
    parser.add_argument("-w", "--wide", action="store_true",
                        help="print every column in full, also on a terminal (piped output always is)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ipctop.query import filter_snapshot, parse_types
    from ipctop.snapshot import take_snapshot

    try:
        types = parse_types(args.type)
    except ValueError as error:
        raise UsageError(f"--type: {error}") from None
    pids = pid_list(args.list_pid or args.pid)
    uid = user_id(args.list_user or args.user)
    snapshot = filter_snapshot(take_snapshot(), types, pids, uid)
    if args.json:
        from ipctop.render.jsonout import snapshot_to_json

        print(snapshot_to_json(snapshot))
        return 0
    from ipctop.render.formatting import uninspected_sentence
    from ipctop.render.tables import SECTIONS, process_table

    # On a terminal the tables fit its width; piped (or --wide) every column is whole, for scripts.
    width = None if args.wide or not sys.stdout.isatty() else shutil.get_terminal_size().columns
    blocks = []
    for type_name, (title, render, field) in SECTIONS.items():
        if type_name in types:
            count = len(getattr(snapshot, field))
            blocks.append(f"{title} ({count})\n{render(snapshot, width)}")
    if pids is not None:
        blocks.append(f"Processes ({len(snapshot.processes)})\n{process_table(snapshot, width)}")
    if snapshot.uninspectable:
        blocks.append(uninspected_sentence(snapshot.uninspectable, os.geteuid() == 0))
    uninspected = set(snapshot.uninspectable_pids)
    unread = [pid for pid in snapshot.unread_waits if pid not in uninspected]  # not said just above
    if unread:
        import textwrap

        count = len(unread)
        which = ", ".join(map(str, unread[:5])) + (", …" if count > 5 else "")
        many = count != 1
        whose = "their" if many else "its"
        sentence = (f"what {count} process{'es wait' if many else ' waits'} on is unknown: {whose} system calls "
                    f"could not be read (pid {which})")
        blocks.append(textwrap.fill(sentence, width) if width else sentence)
    print("\n\n".join(blocks))
    return 0
