"""`ipctop shm`: create, remove, chmod, chown, read, write and hold System V segments."""

from __future__ import annotations

import argparse
import signal
from collections.abc import Callable

from ipctop.cli.common import UsageError, print_error
from ipctop.cli.object_args import (
    add_create_action,
    add_object_command,
    add_rm_action,
    guarded,
    ids_or_key,
    key_from_args,
    print_created,
    remove_each,
    write_bytes,
)

READ_CHUNK = 64 * 1024


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    actions = add_object_command(subparsers, common, "shm", help="act on System V shared memory segments",
                                 description="Create, remove, change, read, write and hold shared memory segments.")
    create = add_create_action(actions, common, help="create a segment (shmget) and print its id", run=run_create)
    create.add_argument("--size", required=True, metavar="BYTES", help="size in bytes (or 64K, 1M), 1..shmmax")
    add_rm_action(actions, common, "shm", help="remove segments (IPC_RMID)", run=run_rm,
                  description="Remove segments. One that is still attached is only marked for removal "
                  "and goes away when the last process detaches.")

    chmod = actions.add_parser("chmod", parents=[common], help="change a segment's mode (IPC_SET)")
    chmod.add_argument("id", metavar="ID")
    chmod.add_argument("mode", metavar="MODE", help="octal, such as 600 or 0640")
    chmod.set_defaults(func=run_chmod)

    chown = actions.add_parser("chown", parents=[common], help="change a segment's owner (IPC_SET)")
    chown.add_argument("id", metavar="ID")
    chown.add_argument("owner", metavar="USER[:GROUP]", help="names or numbers; :GROUP changes the group only")
    chown.set_defaults(func=run_chown)

    read = actions.add_parser(
        "read", parents=[common], help="print a segment's contents as a hex dump",
        description="Print the contents like xxd, read through a process that has the segment mapped "
                    "(/proc/PID/mem), which changes nothing. When nobody has it mapped, ipctop attaches it "
                    "read-only for the moment of reading: that makes ipctop its last user (lpid) and sets its "
                    "last attach and detach times; --no-attach (and --readonly) refuse that instead.")
    read.add_argument("id", metavar="ID")
    read.add_argument("--offset", default="0", metavar="N", help="first byte to read (default 0)")
    read.add_argument("--length", default=None, metavar="N", help="how many bytes (default: to the end)")
    read.add_argument("--raw", action="store_true", help="write the bytes as they are instead of a hex dump")
    read.add_argument("--no-attach", action="store_true",
                      help="never attach: fail when no process that maps the segment can be read")
    read.set_defaults(func=run_read)

    write = actions.add_parser("write", parents=[common], help="write text or a file's bytes into a segment")
    write.add_argument("id", metavar="ID")
    write.add_argument("text", nargs="?", default=None, metavar="TEXT", help="the text to write (UTF-8)")
    write.add_argument("--offset", default="0", metavar="N", help="where to write (default 0)")
    write.add_argument("--file", default=None, metavar="PATH", help="write this file's bytes instead of TEXT")
    write.set_defaults(func=run_write)

    # No `common` parent here: after `hold`, --readonly means attaching read-only (SHM_RDONLY).
    hold = actions.add_parser("hold", help="attach a segment and hold it until interrupted",
                              description="Attach the segment and keep it attached until SIGINT or SIGTERM.")
    hold.add_argument("id", metavar="ID")
    hold.add_argument("--readonly", dest="attach_readonly", action="store_true", help="attach read-only")
    hold.add_argument("--ns", default=None, metavar="NAME|INODE|PID",
                      help="the IPC namespace the segment is in (default: ipctop's own)")
    hold.set_defaults(func=run_hold)


@guarded("shm create", mutating=True)
def run_create(args: argparse.Namespace) -> int:
    from ipctop.actions import operations, validators

    key = key_from_args(args)
    size = validators.parse_size(args.size, field="--size")
    mode = validators.parse_mode(args.mode, field="--mode")
    print_created(operations.create_shm(key, size, mode, args.excl), args.json)
    return 0


@guarded("shm rm", mutating=True)
def run_rm(args: argparse.Namespace) -> int:
    from ipctop.actions import validators

    def say_if_only_marked(shmid: int) -> None:
        row = validators.lookup("shm", shmid)
        if row is not None and row.nattch > 0:  # type: ignore[union-attr]
            print_error(
                f"segment {shmid} is still attached {row.nattch} time(s): it is marked for removal "  # type: ignore[union-attr]
                "and goes away when the last process detaches"
            )

    return remove_each("shm", ids_or_key(args, "shm"), after_each=say_if_only_marked)


@guarded("shm chmod", mutating=True)
def run_chmod(args: argparse.Namespace) -> int:
    from ipctop.actions import operations, validators

    shmid = validators.parse_id(args.id, "shm", field="ID")
    mode = validators.parse_mode(args.mode, field="MODE")
    operations.shm_set(shmid, mode=mode)
    return 0


@guarded("shm chown", mutating=True)
def run_chown(args: argparse.Namespace) -> int:
    from ipctop.actions import operations, validators

    shmid = validators.parse_id(args.id, "shm", field="ID")
    owner = validators.parse_owner(args.owner, field="USER[:GROUP]")
    operations.shm_set(shmid, uid=owner.uid, gid=owner.gid)
    return 0


@guarded("shm read", mutating=False)
def run_read(args: argparse.Namespace) -> int:
    from ipctop.actions import validators
    from ipctop.actions.hexdump import hexdump_lines
    from ipctop.actions.holdings import attached

    shmid = validators.parse_id(args.id, "shm", field="ID")
    size = validators.segment_size(shmid)
    offset = validators.parse_offset(args.offset, size, field="--offset")
    length = size - offset
    if args.length is not None:
        length = validators.parse_length(args.length, size - offset, field="--length")

    def show(chunk: bytes, start: int) -> None:
        if args.raw:
            write_bytes(chunk)
        else:
            print("\n".join(hexdump_lines(chunk, start)))

    if _read_through_a_mapper(shmid, offset, length, show):
        return 0
    if args.no_attach or getattr(args, "readonly", False):
        why = "--readonly is set" if getattr(args, "readonly", False) else "--no-attach was given"
        raise UsageError(
            f"no process that has segment {shmid} mapped can be read, so reading it would attach it "
            f"(making ipctop its last user), and {why}"
        )
    with attached(shmid, readonly=True) as (holdings, _):
        print_error(f"note: no process that maps segment {shmid} could be read, so ipctop attached it read-only "
                    "to read it: ipctop is now its last user (lpid), and its last attach and detach times are now")
        for start in range(offset, offset + length, READ_CHUNK):
            show(holdings.read(shmid, start, min(READ_CHUNK, offset + length - start)), start)
    return 0


def _read_through_a_mapper(shmid: int, offset: int, length: int, show: Callable[[bytes, int], None]) -> bool:
    """Read the bytes through a process that maps the segment, a chunk at a time, each checked to
    be read from the segment's mapping still (against a detach meanwhile); False when no process
    that maps it can be read."""
    from ipctop.actions.shm_contents import mapper_of
    from ipctop.snapshot import take_snapshot

    segment = take_snapshot().shm.get(shmid)
    mapper = mapper_of(segment) if segment is not None else None
    if mapper is None:
        return False
    for start in range(offset, offset + length, READ_CHUNK):
        try:
            chunk = mapper.read(start, min(READ_CHUNK, offset + length - start))
        except OSError:
            chunk = None
        if chunk is None or not mapper.still_mapped():
            if start == offset:
                return False
            raise UsageError(f"{mapper.comm}[{mapper.pid}] detached segment {shmid} while it was being read "
                             f"through its mapping: the output stops at byte {start}")
        show(chunk, start)
    return True


def _read_file(path: str, limit: int) -> bytes:
    """At most `limit` bytes of a regular file, all read before anything is written.

    Opened without blocking and refused unless it is a regular file: a FIFO would
    wait for a writer (and a device could give bytes forever)."""
    import os
    import stat

    from ipctop.actions.validators import ValidationError, show

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as f:
            mode = os.fstat(f.fileno()).st_mode
            if not stat.S_ISREG(mode):
                kind = ("a FIFO" if stat.S_ISFIFO(mode) else "a directory" if stat.S_ISDIR(mode)
                        else "a device or a socket")
                raise ValidationError("--file", f"{show(path)} is not a regular file but {kind}")
            data = f.read(limit + 1)
    except ValidationError:
        raise
    except (OSError, ValueError) as error:
        reason = error.strerror.lower() if isinstance(error, OSError) and error.strerror else "it cannot be opened"
        raise ValidationError("--file", f"{show(path)} cannot be read: {reason}") from None
    if len(data) > limit:
        raise ValidationError("--file", f"{show(path)} is larger than the {limit} bytes left from that offset")
    return data


@guarded("shm write", mutating=True)
def run_write(args: argparse.Namespace) -> int:
    from ipctop.actions import validators
    from ipctop.actions.holdings import attached

    if (args.text is None) == (args.file is None):
        raise UsageError("give either TEXT or --file PATH")
    shmid = validators.parse_id(args.id, "shm", field="ID")
    size = validators.segment_size(shmid)
    offset = validators.parse_offset(args.offset, size, field="--offset")
    if args.file is not None:
        data = _read_file(args.file, size - offset)
    else:
        data = validators.encode_text(args.text, field="TEXT")
        validators.check_fits(offset, len(data), size, field="TEXT")
    with attached(shmid, readonly=False) as (holdings, _):
        holdings.write(shmid, offset, data)
    return 0


class _Interrupted(Exception):
    pass


def _interrupt(signum: int, frame: object) -> None:
    raise _Interrupted


@guarded("shm hold", mutating=True, whole=False)  # it waits for signals, which only the main thread gets
def run_hold(args: argparse.Namespace) -> int:
    import os

    from ipctop.actions import validators
    from ipctop.actions.holdings import Holdings
    from ipctop.actions.in_namespace import inside

    choice = args.namespace_choice
    shmid = inside(choice, validators.parse_id, args.id, "shm", field="ID")
    # Set before attaching, so that the release handlers Holdings installs chain to these.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _interrupt)
    holdings = Holdings()
    try:
        # attached inside the segment's namespace, the mapping is this process's wherever it is
        holding = inside(choice, holdings.attach, shmid, readonly=args.attach_readonly)
        where = f" of {choice.label}" if choice is not None and choice.target is not None else ""
        print(f"holding segment {shmid}{where} {holding.mode} at {holding.address:#x} in process {os.getpid()}; "
              "interrupt to detach", flush=True)
        while True:
            signal.pause()
    except _Interrupted:
        return 0
    finally:
        holdings.release_all()
