"""`ipctop pshm`, `ipctop psem`, `ipctop pmsg`: act on POSIX shared memory, named semaphores and queues.

In the manner of util-linux's `ipcmk -m/-s/-q` and `ipcrm -x/-y/-z`, by name.
Every value is validated before the first call; one line on bad input (exit 2)
or on a refusal by the kernel (exit 1), nothing half-done.
"""

from __future__ import annotations

import argparse

from ipctop.cli.common import UsageError, print_error
from ipctop.cli.object_args import DEFAULT_MODE, add_object_command, guarded, write_bytes

READ_CHUNK = 64 * 1024


def _name(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", help="the object's name, such as /jobs")


def _create(actions: argparse._SubParsersAction, common: argparse.ArgumentParser, help: str,
            run) -> argparse.ArgumentParser:  # type: ignore[no-untyped-def]
    create = actions.add_parser("create", parents=[common], help=help)
    _name(create)
    create.add_argument("--mode", default=DEFAULT_MODE, metavar="OCTAL",
                        help=f"permission bits in octal, given exactly (default {DEFAULT_MODE})")
    create.add_argument("--excl", action="store_true",
                        help="fail (EEXIST) if it exists, instead of leaving it as it is")
    create.add_argument("--json", action="store_true", help="print the name and whether it was made as JSON")
    create.set_defaults(func=run)
    return create


def _rm(actions: argparse._SubParsersAction, common: argparse.ArgumentParser, kind: str, help: str,
        description: str) -> None:
    rm = actions.add_parser("rm", parents=[common], help=help, description=description)
    rm.add_argument("names", nargs="+", metavar="NAME", help="names to unlink")
    rm.set_defaults(func=guarded(f"{kind} rm", mutating=True)(lambda args: _unlink_each(kind, args.names)))


def _owner_actions(actions: argparse._SubParsersAction, common: argparse.ArgumentParser, kind: str,
                   noun: str) -> None:
    chmod = actions.add_parser("chmod", parents=[common], help=f"change a {noun}'s mode")
    _name(chmod)
    chmod.add_argument("mode", metavar="MODE", help="octal, such as 600 or 0640")
    chmod.set_defaults(func=guarded(f"{kind} chmod", mutating=True)(lambda args: _chmod(kind, args)))
    chown = actions.add_parser("chown", parents=[common], help=f"change a {noun}'s owner")
    _name(chown)
    chown.add_argument("owner", metavar="USER[:GROUP]", help="names or numbers; :GROUP changes the group only")
    chown.set_defaults(func=guarded(f"{kind} chown", mutating=True)(lambda args: _chown(kind, args)))


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    # --- pshm
    actions = add_object_command(subparsers, common, "pshm", help="act on POSIX shared memory (/dev/shm)",
                                 description="Create, unlink, read, write and change POSIX shared memory objects.")
    create = _create(actions, common, "create an object (shm_open, ftruncate)", run_pshm_create)
    create.add_argument("--size", required=True, metavar="BYTES", help="size in bytes (or 64K, 1M)")
    _rm(actions, common, "pshm", "unlink objects (shm_unlink)",
        "Unlink objects. One that a process still holds or maps goes away when the last of them lets go.")
    read = actions.add_parser(
        "read", parents=[common], help="print an object's contents as a hex dump",
        description="Print the contents like xxd, without changing anything: the file is read with O_NOATIME "
        "(as its owner or root), or through a process that maps it.")
    _name(read)
    read.add_argument("--offset", default="0", metavar="N", help="first byte to read (default 0)")
    read.add_argument("--length", default=None, metavar="N", help="how many bytes (default: to the end)")
    read.add_argument("--raw", action="store_true", help="write the bytes as they are instead of a hex dump")
    read.set_defaults(func=run_pshm_read)
    write = actions.add_parser("write", parents=[common], help="write text or a file's bytes into an object")
    _name(write)
    write.add_argument("text", nargs="?", default=None, metavar="TEXT", help="the text to write (UTF-8)")
    write.add_argument("--offset", default="0", metavar="N", help="where to write (default 0)")
    write.add_argument("--file", default=None, metavar="PATH", help="write this file's bytes instead of TEXT")
    write.set_defaults(func=run_pshm_write)
    _owner_actions(actions, common, "pshm", "shared memory object")

    # --- psem
    actions = add_object_command(subparsers, common, "psem", help="act on POSIX named semaphores",
                                 description="Create, unlink, post, wait on and set POSIX named semaphores.")
    create = _create(actions, common, "create a semaphore (sem_open)", run_psem_create)
    create.add_argument("--value", default="0", metavar="N", help="its initial value (default 0)")
    _rm(actions, common, "psem", "unlink semaphores (sem_unlink)",
        "Unlink semaphores. Processes that have one open keep using it; it goes when the last closes it.")
    post = actions.add_parser("post", parents=[common], help="add 1 (sem_post), waking a waiter")
    _name(post)
    post.add_argument("--count", default="1", metavar="N", help="post N times (default 1)")
    post.set_defaults(func=run_psem_post)
    wait = actions.add_parser("wait", parents=[common], help="take 1 (sem_wait), waiting while it is 0")
    _name(wait)
    wait.add_argument("--nowait", action="store_true", help="fail with EAGAIN instead of waiting (sem_trywait)")
    wait.add_argument("--timeout", default=None, metavar="SECONDS", help="give up after this long (exit 1)")
    wait.set_defaults(func=run_psem_wait)
    set_ = actions.add_parser(
        "set", parents=[common], help="bring its value to VALUE by posts or waits",
        description="There is no sem_setvalue: the value is raised by sem_post (which wakes waiters) or lowered "
        "by sem_trywait (which never blocks), at most 100000 of them.")
    _name(set_)
    set_.add_argument("value", metavar="VALUE")
    set_.set_defaults(func=run_psem_set)
    _owner_actions(actions, common, "psem", "semaphore")

    # --- pmsg
    actions = add_object_command(subparsers, common, "pmsg", help="act on POSIX message queues",
                                 description="Create, unlink, send to and receive from POSIX message queues.")
    create = _create(actions, common, "create a queue (mq_open)", run_pmsg_create)
    create.add_argument("--max-messages", default=None, metavar="N",
                        help="how many messages it holds (default fs/mqueue/msg_default)")
    create.add_argument("--message-size", default=None, metavar="BYTES",
                        help="the largest message (default fs/mqueue/msgsize_default)")
    _rm(actions, common, "pmsg", "unlink queues (mq_unlink)",
        "Unlink queues. Processes that have one open keep using it; it goes, with its messages, when the last "
        "closes it.")
    send = actions.add_parser("send", parents=[common], help="send a message (mq_send)")
    _name(send)
    send.add_argument("text", metavar="TEXT", help="the message (UTF-8), at most the queue's message size")
    send.add_argument("--priority", default="0", metavar="N", help="0..32767, higher first (default 0)")
    send.add_argument("--nowait", action="store_true", help="fail with EAGAIN instead of waiting when full")
    send.set_defaults(func=run_pmsg_send)
    recv = actions.add_parser("recv", parents=[common],
                              help="receive the oldest message of the highest priority (mq_receive)")
    _name(recv)
    recv.add_argument("--nowait", action="store_true", help="fail with EAGAIN instead of waiting when empty")
    recv.add_argument("--timeout", default=None, metavar="SECONDS", help="give up after this long (exit 1)")
    recv.add_argument("--json", action="store_true", help="print the priority and text as JSON")
    recv.set_defaults(func=run_pmsg_recv)
    _owner_actions(actions, common, "pmsg", "queue")


def _unlink_each(kind: str, texts: list[str]) -> int:
    """Each name checked first; then unlinked one by one, a refusal reported and the others still unlinked."""
    from ipctop.actions import posix_values
    from ipctop.actions.posix import unlink
    from ipctop.kernel.errors import IpcError

    if kind == "pmsg":
        names = [posix_values.existing_queue(text) for text in texts]
    else:
        names = [posix_values.existing_name(text, kind) for text in texts]
    failed = 0
    for name in dict.fromkeys(names):
        try:
            unlink(kind, name)
        except IpcError as error:
            print_error(str(error))
            failed += 1
    return 1 if failed else 0


def _existing(kind: str, text: str) -> str:
    from ipctop.actions import posix_values

    return posix_values.existing_queue(text) if kind == "pmsg" else posix_values.existing_name(text, kind)


def _chmod(kind: str, args: argparse.Namespace) -> int:
    from ipctop.actions import validators
    from ipctop.actions.posix import set_owner

    name = _existing(kind, args.name)
    set_owner(kind, name, mode=validators.parse_mode(args.mode, field="MODE"))
    return 0


def _chown(kind: str, args: argparse.Namespace) -> int:
    from ipctop.actions import validators
    from ipctop.actions.posix import set_owner

    name = _existing(kind, args.name)
    owner = validators.parse_owner(args.owner, field="USER[:GROUP]")
    set_owner(kind, name, uid=-1 if owner.uid is None else owner.uid, gid=-1 if owner.gid is None else owner.gid)
    return 0


def _print_created(created, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    import json

    if not created.created:
        print_error(f"{created.name} already existed and is left as it was (use --excl to refuse it)")
    if as_json:
        print(json.dumps({"kind": created.kind, "name": created.name, "created": created.created}))
    else:
        print(created.name)


@guarded("pshm create", mutating=True)
def run_pshm_create(args: argparse.Namespace) -> int:
    from ipctop.actions import posix_values, validators
    from ipctop.actions.posix import create_pshm

    name = posix_values.parse_name(args.name, "pshm")
    size = posix_values.parse_shm_size(args.size)
    mode = validators.parse_mode(args.mode, field="--mode")
    _print_created(create_pshm(name, size, mode, args.excl), args.json)
    return 0


@guarded("pshm read", mutating=False)
def run_pshm_read(args: argparse.Namespace) -> int:
    from ipctop.actions import posix_values, validators
    from ipctop.actions.hexdump import hexdump_lines
    from ipctop.actions.posix import read_pshm

    name = posix_values.existing_name(args.name, "pshm")
    size = posix_values.shm_size(name)
    if size == 0:
        print_error(f"{name} is empty (size 0)")
        return 0
    offset = validators.parse_offset(args.offset, size, field="--offset")
    length = size - offset
    if args.length is not None:
        length = validators.parse_length(args.length, size - offset, field="--length")
    for start in range(offset, offset + length, READ_CHUNK):
        chunk = read_pshm(name, start, min(READ_CHUNK, offset + length - start))
        if args.raw:
            write_bytes(chunk)
        else:
            print("\n".join(hexdump_lines(chunk, start)))
    return 0


@guarded("pshm write", mutating=True)
def run_pshm_write(args: argparse.Namespace) -> int:
    from ipctop.actions import posix_values, validators
    from ipctop.actions.posix import write_pshm
    from ipctop.cli.shm_cmd import _read_file

    if (args.text is None) == (args.file is None):
        raise UsageError("give either TEXT or --file PATH")
    name = posix_values.existing_name(args.name, "pshm")
    size = posix_values.shm_size(name)
    if size == 0:
        raise validators.ValidationError("NAME", f"{name} has size 0: there is nowhere to write")
    offset = validators.parse_offset(args.offset, size, field="--offset")
    if args.file is not None:
        data = _read_file(args.file, size - offset)
    else:
        data = validators.encode_text(args.text, field="TEXT")
        validators.check_fits(offset, len(data), size, field="TEXT")
    write_pshm(name, offset, data)
    return 0


@guarded("psem create", mutating=True)
def run_psem_create(args: argparse.Namespace) -> int:
    from ipctop.actions import posix_values, validators
    from ipctop.actions.posix import create_psem

    name = posix_values.parse_name(args.name, "psem")
    value = posix_values.parse_posix_sem_value(args.value, field="--value")
    mode = validators.parse_mode(args.mode, field="--mode")
    _print_created(create_psem(name, value, mode, args.excl), args.json)
    return 0


@guarded("psem post", mutating=True)
def run_psem_post(args: argparse.Namespace) -> int:
    from ipctop.actions import posix_values
    from ipctop.actions.posix import post_psem

    name = posix_values.existing_name(args.name, "psem")
    count = posix_values.parse_count(args.count)
    print(post_psem(name, count))
    return 0


@guarded("psem wait", mutating=True)
def run_psem_wait(args: argparse.Namespace) -> int:
    from ipctop.actions import posix_values
    from ipctop.actions.posix import wait_psem

    name = posix_values.existing_name(args.name, "psem")
    timeout = posix_values.parse_timeout(args.timeout)
    if not wait_psem(name, nowait=args.nowait, timeout=timeout):
        print_error(f"semaphore {name} stayed at 0 for {timeout:g} s: nothing was taken")
        return 1
    return 0


@guarded("psem set", mutating=True)
def run_psem_set(args: argparse.Namespace) -> int:
    from ipctop.actions import posix_values
    from ipctop.actions.posix import set_psem

    name = posix_values.existing_name(args.name, "psem")
    value = posix_values.parse_posix_sem_value(args.value, field="VALUE")
    before, after = set_psem(name, value, posix_values.SET_STEPS_MAX)
    if after != value:
        print_error(f"semaphore {name} went from {before} to {after}, not {value}: other processes took from it "
                    "meanwhile")
        return 1
    return 0


@guarded("pmsg create", mutating=True)
def run_pmsg_create(args: argparse.Namespace) -> int:
    from ipctop.actions import posix_values, validators
    from ipctop.actions.posix import create_pmsg

    name = posix_values.parse_name(args.name, "pmsg")
    mode = validators.parse_mode(args.mode, field="--mode")
    max_messages = posix_values.parse_max_messages(args.max_messages) if args.max_messages is not None else None
    message_size = posix_values.parse_message_size(args.message_size) if args.message_size is not None else None
    _print_created(create_pmsg(name, mode, args.excl, max_messages, message_size), args.json)
    return 0


@guarded("pmsg send", mutating=True)
def run_pmsg_send(args: argparse.Namespace) -> int:
    from ipctop.actions import posix_values, validators
    from ipctop.actions.posix import send_pmsg

    name = posix_values.existing_queue(args.name)
    priority = posix_values.parse_priority(args.priority)
    data = validators.encode_text(args.text, field="TEXT")
    send_pmsg(name, data, priority, nowait=args.nowait)
    return 0


@guarded("pmsg recv", mutating=True)  # it takes the message off the queue
def run_pmsg_recv(args: argparse.Namespace) -> int:
    from ipctop.actions import posix_values
    from ipctop.actions.posix import receive_pmsg

    name = posix_values.existing_queue(args.name)
    timeout = posix_values.parse_timeout(args.timeout)
    received = receive_pmsg(name, nowait=args.nowait, timeout=timeout)
    if received is None:
        print_error(f"queue {name} stayed empty for {timeout:g} s: nothing was received")
        return 1
    data, priority = received
    if args.json:
        import json

        print(json.dumps({"priority": priority, "text": data.decode("utf-8", "replace")}))
    else:
        write_bytes(data + b"\n")
    return 0
