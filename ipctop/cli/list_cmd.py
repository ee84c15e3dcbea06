"""`ipctop list`: the snapshot once, as aligned tables or as JSON, then exit."""

from __future__ import annotations

import argparse
import os
import sys

from ipctop.cli.common import UsageError, pid_list, terminal_columns, user_id


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "list", parents=[common], help="print every IPC object once and exit",
        description="Print the IPC objects of this machine once, like lsipc, with who holds each.",
    )
    parser.add_argument("--json", action="store_true", help="print the snapshot as JSON with typed values")
    parser.add_argument("--type", default=None, metavar="TYPES",
                        help="comma-separated: shm,msg,sem,pipe,fifo (System V, pipes) and pshm,psem,pmsg,memfd "
                        "(POSIX shared memory, named semaphores, message queues, memory without a name)")
    # -p and -u as the monitor has them (`ipctop -p PID`), and as ps and htop spell them
    parser.add_argument("-p", "--pid", dest="list_pid", default=None, metavar="PID,...",
                        help="only objects these processes hold or last used")
    parser.add_argument("-u", "--user", dest="list_user", default=None, metavar="USER",
                        help="only objects USER owns or holds")
    parser.add_argument("--mount-mqueue", action="store_true",
                        help="if /dev/mqueue is not mounted, mount it first (mount -t mqueue none /dev/mqueue), "
                        "so that POSIX queues nobody holds open are listed too")
    parser.add_argument("--queue-files", action="store_true",
                        help="read each POSIX queue's file for its bytes (QSIZE) and the process registered with "
                        "mq_notify; the kernel sets the queue's atime and ctime when its file is read")
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
    pids = pid_list(args.list_pid if args.list_pid is not None else args.pid)
    uid = user_id(args.list_user if args.list_user is not None else args.user)
    if args.mount_mqueue:
        mount_mqueue_if_needed(args)
    snapshot = take_snapshot(kinds=types, read_queue_files=args.queue_files)
    chosen = namespaces_asked(snapshot, args.ns)
    snapshot = filter_snapshot(snapshot, types, pids, uid, chosen)
    if args.json:
        from ipctop.render.jsonout import snapshot_to_json

        print(snapshot_to_json(snapshot))
        return 0
    import textwrap  # here: the tables alone need it, `list --json` starts without it

    from ipctop.kinds import KINDS
    from ipctop.kinds.table import kind_table
    from ipctop.render.formatting import uninspected_sentence
    from ipctop.render.tables import SECTIONS, has_other_namespaces, namespace_table, process_table

    # On a terminal the tables fit its width; piped (or --wide) every column is whole, for scripts.
    width = None if args.wide or not sys.stdout.isatty() else terminal_columns()

    def prose(text: str) -> str:  # a sentence: wrapped to the terminal's width, whole when piped
        return textwrap.fill(text, width, break_on_hyphens=False) if width else text

    blocks = []
    every = {"shm": snapshot.all_shm, "msg": snapshot.all_msg, "sem": snapshot.all_sem}
    for type_name, (title, render, field) in SECTIONS.items():
        if type_name in types:
            count = len(every[field]()) if field in every else len(getattr(snapshot, field))
            blocks.append(f"{title} ({count})\n{render(snapshot, width)}")
    for kind in KINDS:
        if kind.name in types:
            blocks.append(f"{kind.title} ({len(kind.objects(snapshot))})\n{kind_table(kind, snapshot, width)}")
    if any(kind.name in types for kind in KINDS):
        blocks += [prose(f"note: {note}") for note in snapshot.posix_notes]
    if pids is not None:
        blocks.append(f"Processes ({len(snapshot.processes)})\n{process_table(snapshot, width)}")
    if has_other_namespaces(snapshot):
        blocks.append(f"IPC namespaces ({len(snapshot.namespaces)})\n{namespace_table(snapshot, width)}")
    if snapshot.uninspectable:
        sentence = uninspected_sentence(snapshot.uninspectable, os.geteuid() == 0)
        blocks.append(prose(sentence))
    if snapshot.hidden_note:
        blocks.append(prose(snapshot.hidden_note))
    if snapshot.namespace_note:
        blocks.append(prose(snapshot.namespace_note))
    uninspected = set(snapshot.uninspectable_pids)
    unread = [pid for pid in snapshot.unread_waits if pid not in uninspected]  # not said just above
    if unread:
        count = len(unread)
        which = ", ".join(map(str, unread[:5])) + (", …" if count > 5 else "")
        many = count != 1
        whose = "their" if many else "its"
        sentence = (f"what {count} process{'es wait' if many else ' waits'} on is unknown: {whose} system calls "
                    f"could not be read (pid {which})")
        blocks.append(prose(sentence))
    print("\n\n".join(blocks))
    return 0


def mount_mqueue_if_needed(args: argparse.Namespace) -> None:
    """--mount-mqueue: mount the mqueue filesystem on /dev/mqueue unless one is mounted; say what was done."""
    from ipctop.cli.common import CliError, print_error, refuse_if_readonly
    from ipctop.collectors.posix import find_places, mount_mqueue
    from ipctop.collectors.procfs import ProcFS

    if find_places(ProcFS()).mqueue_point is not None:
        return
    refuse_if_readonly(args, "--mount-mqueue")
    try:
        print_error(mount_mqueue())
    except OSError as error:
        raise CliError(f"--mount-mqueue: cannot mount the mqueue filesystem on /dev/mqueue: "
                       f"{error.strerror or error}") from None


def namespaces_asked(snapshot, text: str | None) -> frozenset[int] | None:  # type: ignore[no-untyped-def]
    """The inodes `--ns TEXT` names in `snapshot` (None: every namespace); a usage error names the problem."""
    from ipctop.query import select_namespaces

    if text is None:
        return None
    try:
        return select_namespaces(snapshot, text)
    except ValueError as error:
        raise UsageError(f"--ns: {error}") from None
