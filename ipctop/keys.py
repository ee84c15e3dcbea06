"""IPC key ranges that belong to ipctop, so that it never touches others' objects.

All of ipctop's own keys share the top half 0x4950 ("IP").  Demos use one range,
the test suite another; benchmarks a third.  A user's objects are never in them
unless the user puts them there.
"""

from __future__ import annotations

IPCTOP_KEY_PREFIX = 0x4950_0000
DEMO_KEYS = range(0x4950_D000, 0x4950_E000)
TEST_KEYS = range(0x4950_1000, 0x4950_9000)
BENCH_KEYS = range(0x4950_A000, 0x4950_D000)


def is_ipctop_key(key: int) -> bool:
    return (key & 0xFFFF_0000) == IPCTOP_KEY_PREFIX


# POSIX objects have names, not keys: ipctop's own begin with one of these prefixes
# (then a random part), in /dev/shm (shm_open, sem_open as sem.NAME) and in the
# mqueue filesystem.  The leak guard of the test suite and the demo runner act only on
# names with their own prefix.
POSIX_TEST_PREFIX = "ipctop-test-"
POSIX_DEMO_PREFIX = "ipctop-demo-"
POSIX_BENCH_PREFIX = "ipctop-bench-"


def posix_name(prefix: str) -> str:
    """A fresh name in one of ipctop's POSIX ranges, such as `ipctop-test-3f9a0c1e`."""
    import secrets

    return prefix + secrets.token_hex(4)


def is_ipctop_name(name: str) -> bool:
    """Whether a POSIX object's name (with or without `/`, `sem.`) is in one of ipctop's ranges."""
    bare = name.lstrip("/").removeprefix("sem.")
    return bare.startswith((POSIX_TEST_PREFIX, POSIX_DEMO_PREFIX, POSIX_BENCH_PREFIX))
