"""The floor of a one-off look written in Python: the reads ipctop makes of every process, and nothing else.

Run as `python -S benchmarks/floor.py` (no site, no ipctop): it reads the System V
tables and, for every process, what a one-off `ipctop list` reads (the fd
directory, a readlink per fd and an lstat per pipe end, the IPC namespace link, the
thread count, the main thread's system call, the shared mappings, stat, cmdline and
wchan), by two processes at 600 processes or more as ipctop does, and writes the raw
values. It builds no records, checks nothing against churn, names nothing, and imports
only what pays for itself: the shared mappings are asked of the kernel (PROCMAP_QUERY,
which needs ctypes) only on a machine of QUERY_FROM processes or more, and read from the
maps text below that; the values are written as Python's repr, not JSON (json's import
is 1-2 ms). What it costs is a lower bound for any Python program making the same look,
so a target below it cannot be met in Python, and the distance from it to `ipctop list
--json` is the cost of ipctop's own work (imports, records, checks, JSON).

It changes nothing: every file is opened read-only, and the ioctl only asks.
"""

from __future__ import annotations

import marshal
import os
import sys

# nothing from typing: its import (with re, enum and collections) is about 5 ms, a third of the floor

SPLIT_FROM = 600  # as ipctop.collectors.split_read.SPLIT_FROM
# From this many processes asking the kernel for the shared mappings repays importing ctypes (about 1.3 ms)
# over reading every maps file's text (Python interpreters have some 100 lines each)
QUERY_FROM = 200
_SHARED_COVERING_OR_NEXT = 0x08 | 0x10


def shared_maps_asker():  # -> Callable[[int], ...]: unannotated, as naming Callable would import collections
    """A function giving a process's shared mappings by PROCMAP_QUERY (as ipctop.kernel.procmap asks them);
    its imports are made here, once."""
    import ctypes
    import fcntl
    import struct

    query_struct = struct.Struct("=9Q4I2Q")  # struct procmap_query
    request = (3 << 30) | (query_struct.size << 16) | (ord("f") << 8) | 17

    def shared_maps_asked(pid: int) -> list[tuple[int, int, int, bytes]] | None:
        try:
            fd = os.open(f"/proc/{pid}/maps", os.O_RDONLY)
        except OSError:
            return None
        name = ctypes.create_string_buffer(4096)
        query, found, address = bytearray(query_struct.size), [], 0
        try:
            while True:
                query_struct.pack_into(query, 0, query_struct.size, _SHARED_COVERING_OR_NEXT, address, 0, 0, 0, 0,
                                       0, 0, 0, 0, 4096, 0, ctypes.addressof(name), 0)
                try:
                    fcntl.ioctl(fd, request, query)
                except OSError:
                    break  # no shared mapping after `address` (or no PROCMAP_QUERY: the floor is then lower)
                fields = query_struct.unpack(query)
                found.append((fields[3], fields[4], fields[8], name.raw[: max(fields[11] - 1, 0)]))
                address = fields[4]
        finally:
            os.close(fd)
        return found

    return shared_maps_asked


def shared_maps_read(pid: int) -> list[bytes] | None:
    """The shared lines of the maps text (the fourth letter of the permissions is `s`)."""
    text = small_file(f"/proc/{pid}/maps", -1)  # to its end: one read gives a page of lines or so
    return None if text is None else [line for line in text.split(b"\n") if line[line.find(b" ") + 4:][:1] == b"s"]


def small_file(path: str, size: int = 4096) -> bytes | None:
    """One read of `size` bytes (-1: every byte, read after read); None when it cannot be read."""
    try:
        with open(path, "rb", buffering=0) as file:
            return file.read(size)
    except OSError:
        return None


shared_maps = shared_maps_read


def one_process(pid: int) -> tuple[object, ...]:
    base = f"/proc/{pid}"
    fds = []
    try:
        for name in os.listdir(f"{base}/fd"):
            try:
                target = os.readlink(f"{base}/fd/{name}")
                mode = os.lstat(f"{base}/fd/{name}").st_mode if target.startswith("pipe:") else 0
            except OSError:
                continue
            fds.append((name, target, mode))
    except OSError:
        pass
    try:
        namespace = os.readlink(f"{base}/ns/ipc")
    except OSError:
        namespace = None
    try:
        threads = os.stat(f"{base}/task").st_nlink - 2
    except OSError:
        threads = 0
    return (fds, namespace, threads, small_file(f"{base}/syscall"), shared_maps(pid), small_file(f"{base}/stat"),
            small_file(f"{base}/cmdline"), small_file(f"{base}/wchan"))


def read_by_a_child(pids: list[int]) -> tuple[int, int]:
    answer, into = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(answer)
        data = memoryview(marshal.dumps({pid: one_process(pid) for pid in pids}))
        while data:
            data = data[os.write(into, data):]
        os._exit(0)
    os.close(into)
    return child, answer


def main() -> None:
    global shared_maps
    pids = [int(name) for name in os.listdir("/proc") if name.isdigit()]
    if len(pids) >= QUERY_FROM:
        shared_maps = shared_maps_asker()
    tables = [small_file(f"/proc/sysvipc/{kind}") for kind in ("shm", "msg", "sem")]
    split = len(pids) >= SPLIT_FROM and len(os.sched_getaffinity(0)) >= 2
    child, answer = read_by_a_child(pids[1::2]) if split else (0, -1)
    found = {pid: one_process(pid) for pid in (pids[0::2] if split else pids)}
    if split:
        chunks = []
        while chunk := os.read(answer, 1 << 20):
            chunks.append(chunk)
        os.waitpid(child, 0)
        found.update(marshal.loads(b"".join(chunks)))
    sys.stdout.write(repr({"tables": tables, "processes": found}))
    sys.stdout.flush()
    os._exit(0)  # as `ipctop list` ends: no teardown


if __name__ == "__main__":
    main()
