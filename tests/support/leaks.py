"""The leak guard: finds IPC objects and processes a test made and did not remove.

It knows a test's objects by the keys handed out to it and by the ids tests
register (for IPC_PRIVATE objects); it never looks at, or removes, anything else.
"""

from __future__ import annotations

import contextlib
import os
import signal

import psutil

from ipctop.kernel import sysv
from ipctop.kernel.errors import IpcError


def objects_with_keys(keys: set[int]) -> list[tuple[str, int, int]]:
    """(kind, id, key) of every object whose key (or original key) is in `keys`."""
    found = []
    for kind, id_column in (("shm", 1), ("msg", 1), ("sem", 1)):
        with open(f"/proc/sysvipc/{kind}") as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields and int(fields[0]) & 0xFFFFFFFF in keys:
                    found.append((kind, int(fields[id_column]), int(fields[0]) & 0xFFFFFFFF))
    return found


def existing_ids(kind: str, ids: set[int]) -> set[int]:
    with open(f"/proc/sysvipc/{kind}") as f:
        present = {int(line.split()[1]) for line in f.readlines()[1:] if line.split()}
    return present & ids


def remove_object(kind: str, ident: int) -> None:
    remove = {"shm": sysv.shm_remove, "msg": sysv.msg_remove, "sem": sysv.sem_remove}[kind]
    with contextlib.suppress(IpcError):
        remove(ident)


def leftover_children() -> list[psutil.Process]:
    """Descendants of the test process that are still running (zombies not counted)."""
    alive = []
    for child in psutil.Process(os.getpid()).children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if child.status() != psutil.STATUS_ZOMBIE:
                alive.append(child)
    return alive


def kill_children(children: list[psutil.Process]) -> None:
    for child in children:
        with contextlib.suppress(psutil.Error, ProcessLookupError):
            os.kill(child.pid, signal.SIGKILL)
    psutil.wait_procs(children, timeout=5)
