"""Hands out IPC keys from the test range that no object uses now, and remembers
them so that the leak guard can check nothing with those keys is left."""

from __future__ import annotations

import random

from ipctop.keys import TEST_KEYS


def keys_in_use() -> set[int]:
    used = set()
    for name in ("shm", "msg", "sem"):
        with open(f"/proc/sysvipc/{name}") as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields:
                    used.add(int(fields[0]) & 0xFFFFFFFF)
    return used


class KeyAllocator:
    def __init__(self) -> None:
        self.handed_out: set[int] = set()
        self._rng = random.Random()

    def __call__(self) -> int:
        used = keys_in_use()
        while True:
            key = self._rng.choice(TEST_KEYS)
            if key not in used and key not in self.handed_out:
                self.handed_out.add(key)
                return key
