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
