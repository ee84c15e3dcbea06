"""Made-up container cgroups for tests, removed afterwards with whatever is left in them.

A process put in `<cgroup2 mount>/ipctop-test-PID/docker-<id>.scope` reads, in its
/proc/PID/cgroup, as Docker's systemd driver makes it; one in the v1 `name=systemd`
hierarchy under `…/docker/<id>` as its cgroupfs driver makes it.
"""

from __future__ import annotations

import contextlib
import os
import time


def mount_of(kind: str) -> str | None:
    """A writable mount of the unified hierarchy (`cgroup2`) or of v1's `name=systemd`, or None."""
    with open("/proc/self/mounts") as f:
        for line in f:
            fields = line.split()
            if len(fields) < 4:
                continue
            unified = kind == "cgroup2" and fields[2] == "cgroup2"
            systemd = kind == "name=systemd" and fields[2] == "cgroup" and "name=systemd" in fields[3].split(",")
            if (unified or systemd) and "rw" in fields[3].split(",") and os.access(fields[1], os.W_OK):
                return fields[1]
    return None


class Cgroups:
    """Makes cgroups under one directory of ipctop's own; `close()` moves out what is left and removes them."""

    def __init__(self) -> None:
        self.made: list[tuple[str, str]] = []  # (mount, directory), in the order made

    def make(self, kind: str, path: str) -> str | None:
        """`path` (relative, e.g. `docker-<id>.scope`) under `ipctop-test-PID` of that hierarchy; None
        where it cannot be made here."""
        mount = mount_of(kind)
        if mount is None:
            return None
        directory = mount
        try:
            for part in [f"ipctop-test-{os.getpid()}", *path.strip("/").split("/")]:
                directory = os.path.join(directory, part)
                if not os.path.isdir(directory):
                    os.mkdir(directory)
                    self.made.append((mount, directory))
        except OSError:
            return None
        return directory

    @staticmethod
    def move(directory: str, pid: int) -> None:
        with open(os.path.join(directory, "cgroup.procs"), "w") as procs:
            procs.write(str(pid))

    def close(self) -> None:
        for mount, directory in reversed(self.made):
            deadline = time.monotonic() + 10
            while True:
                with contextlib.suppress(OSError), open(os.path.join(directory, "cgroup.procs")) as procs:
                    for pid in procs.read().split():  # still running: back to the root
                        with contextlib.suppress(OSError):
                            self.move(mount, int(pid))
                try:
                    os.rmdir(directory)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)  # a process that just exited leaves the cgroup a little later
        self.made.clear()
