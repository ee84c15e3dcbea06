"""Hands out IPC keys that no object uses now, and remembers them for the leak guard.

Several test suites may run on one machine at once (CI beside a developer, or
developers beside each other).  Each suite claims a slot of the test key range by
binding an abstract unix socket named after it, held for the life of the process,
so no two suites ever hand out the same key and a leak guard never mistakes
another suite's object for its own (or removes it).  An abstract name lives in
no file system: it leaves nothing in /tmp and goes with the process, even after
SIGKILL.  (Abstract names belong to the network namespace, so suites in separate
IPC namespaces but one network namespace still take different slots: safe, if
more than needed.)
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import random
import socket

from ipctop.keys import TEST_KEYS

SLOT_SIZE = 512
SLOTS = len(TEST_KEYS) // SLOT_SIZE


def keys_in_use() -> set[int]:
    used = set()
    for name in ("shm", "msg", "sem"):
        with open(f"/proc/sysvipc/{name}") as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields:
                    used.add(int(fields[0]) & 0xFFFFFFFF)
    return used


def _locked_by_an_older_suite(slot: int) -> bool:
    """Checkouts from before this scheme claim a slot by locking /tmp/ipctop-test-keys-SLOT.lock: respect
    that while they are around (the file is only opened if it exists; nothing is made)."""
    try:
        fd = os.open(f"/tmp/ipctop-test-keys-{slot}.lock", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)
    return False


def _slot_range(slot: int) -> range:
    first = TEST_KEYS.start + slot * SLOT_SIZE
    return range(first, first + SLOT_SIZE)


def claim_slot(slot: int) -> socket.socket | None:
    """The socket that claims `slot`, or None while another process holds it."""
    claim = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        claim.bind(f"\0ipctop-test-keys-{slot}")
    except OSError:  # EADDRINUSE: another suite holds this slot
        claim.close()
        return None
    return claim


def _claim_slot() -> tuple[range, socket.socket]:
    """The first slot of TEST_KEYS no other process has claimed, and the socket that claims it."""
    start = random.randrange(SLOTS)
    for offset in range(SLOTS):
        slot = (start + offset) % SLOTS
        if _locked_by_an_older_suite(slot):
            continue
        claim = claim_slot(slot)
        if claim is not None:
            return _slot_range(slot), claim
    raise RuntimeError("every slot of the test key range is taken by other test runs")


class KeyAllocator:
    """Call it for a fresh key; `handed_out` holds the keys of the current test (the
    leak guard checks and clears it after each test; a test may add keys it made
    otherwise, e.g. with ftok)."""

    def __init__(self, slot: int | None = None, claim: socket.socket | None = None) -> None:
        """Without arguments the first free slot is claimed on first use; with them, `slot` (its index),
        which `claim` (claim_slot's socket) holds."""
        self.handed_out: set[int] = set()
        self._ever: set[int] = set()
        self._slot: range | None = _slot_range(slot) if slot is not None else None
        self._claim: socket.socket | None = claim

    @property
    def slot_index(self) -> int:
        return (self.slot.start - TEST_KEYS.start) // SLOT_SIZE

    @property
    def slot(self) -> range:
        if self._slot is None:
            self._slot, self._claim = _claim_slot()
        return self._slot

    def __call__(self) -> int:
        used = keys_in_use()
        free = [k for k in self.slot if k not in used and k not in self.handed_out]
        fresh = [k for k in free if k not in self._ever]
        if not free:
            raise RuntimeError(f"no free key left in the test slot {self.slot.start:#x}..{self.slot.stop - 1:#x}")
        key = random.choice(fresh or free)
        self.handed_out.add(key)
        self._ever.add(key)
        return key

    def take_test_keys(self) -> set[int]:
        """The keys handed out since the last call; the next test starts with none."""
        keys, self.handed_out = self.handed_out, set()
        return keys


SUITE_KEYS = KeyAllocator()  # the one allocator of this test run (tests get it through the ipc_key fixture)


def suite_uid() -> int:
    """A uid that no process on the machine runs as but this run's own short-lived children.

    An object made under it, by a child that then exits, has no live process of its
    creating user: what a crashed program of an ordinary user leaves behind, and what
    the cleanup's creator rule needs to see (an object made as root always has a live
    possible creator: this test run).  Taken from this run's key slot, so that two
    runs at once never share it.
    """
    return SUITE_KEYS.slot.start
