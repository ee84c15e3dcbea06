"""What the kernel says a process holds, read straight from /proc, to compare ipctop's findings with."""

from __future__ import annotations

import contextlib
import os


def fds_on(pid: int, inode: int) -> set[int]:
    """The fds of `pid` on that inode, from its fd directory and fdinfo (Python's mmap keeps a dup of its fd)."""
    found = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError), open(f"/proc/{pid}/fdinfo/{fd}") as f:
            if f"ino:\t{inode}\n" in f.read():
                found.add(int(fd))
    return found


def maps_lines(pid: int, dev: int, inode: int) -> list[tuple[int, int, str]]:
    """(start, end, perms) of every line of pid's maps for that device and inode."""
    found = []
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            fields = line.split()
            major, minor = (int(x, 16) for x in fields[3].split(":"))
            if os.makedev(major, minor) == dev and int(fields[4]) == inode:
                start, end = (int(x, 16) for x in fields[0].split("-"))
                found.append((start, end, fields[1]))
    return found
