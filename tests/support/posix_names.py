"""POSIX names for the test suite, and the part of the leak guard that finds the objects left with them.

Several suites may run on one machine at once: each names its objects with the
slot of the test key range it holds a lock on (tests/support/keys.py), so that
`ipctop-test-s3-…` objects are this suite's and no other's.  Objects left by an
earlier run of the same slot (a suite killed with SIGKILL) are removed when the
slot is taken again.  Queues are found in a mounted mqueue filesystem, and by
trying each name handed out where none is mounted.
"""

from __future__ import annotations

import contextlib
import os
import secrets

from ipctop.collectors.posix import find_places
from ipctop.collectors.procfs import ProcFS
from ipctop.kernel import posix
from ipctop.kernel.errors import IpcError
from ipctop.keys import POSIX_TEST_PREFIX, TEST_KEYS
from tests.support.keys import KeyAllocator

PROGRAM_PREFIXES = ("", "psm_", "mp-", "PostgreSQL.")


class PosixNames:
    """Call it for a fresh name `/ipctop-test-sN-XXXXXXXX`; the leak guard asks `leftovers()` after each test."""

    def __init__(self, keys: KeyAllocator) -> None:
        self._keys = keys
        self.handed_out: set[str] = set()
        self._prefix: str | None = None

    @property
    def prefix(self) -> str:
        if self._prefix is None:
            slot = (self._keys.slot.start - TEST_KEYS.start) // len(self._keys.slot)
            self._prefix = f"{POSIX_TEST_PREFIX}s{slot}-"
            self.leftovers()  # what a killed run of this slot left: ours, removed quietly
        return self._prefix

    def __call__(self, program: str = "") -> str:
        """A fresh name; `program` puts a program's own prefix first (`psm_`, `mp-`, `PostgreSQL.`), for the
        rules that know those programs' names."""
        assert program in PROGRAM_PREFIXES
        name = f"/{program}{self.prefix}{secrets.token_hex(4)}"
        self.handed_out.add(name)
        return name

    def _ours(self, entry: str) -> bool:
        bare = entry.removeprefix(posix.SEM_PREFIX)
        return any(bare.startswith(program + self.prefix) for program in PROGRAM_PREFIXES)

    def leftovers(self) -> list[str]:
        """Every object named in this suite's range that exists now, each removed; the names handed out forgotten."""
        self.prefix  # noqa: B018 - takes the slot, and the leftovers of a killed run, first
        found = []
        with contextlib.suppress(OSError):
            for entry in os.listdir(posix.DEV_SHM):
                if self._ours(entry):
                    with contextlib.suppress(OSError):
                        os.unlink(f"{posix.DEV_SHM}/{entry}")
                    found.append(f"/dev/shm/{entry}")
        point = find_places(ProcFS()).mqueue_point
        queues = set()
        if point is not None:
            with contextlib.suppress(OSError):
                queues = {"/" + entry for entry in os.listdir(point) if self._ours(entry)}
        queues |= self.handed_out
        for name in sorted(queues):
            try:
                posix.mq_unlink(name)
            except IpcError:
                continue
            found.append(f"queue {name}")
        self.handed_out = set()
        return found
