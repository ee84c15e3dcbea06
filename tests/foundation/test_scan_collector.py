"""A scan pauses Python's cyclic garbage collector, and leaves it as it found it.

A scan makes large young containers and no garbage cycles: a collection in the middle of it
walks those containers again for nothing (snapshot._collector_paused).  Real scans of this
machine, watched through gc.callbacks."""

from __future__ import annotations

import gc
import threading
from typing import Any

from ipctop.snapshot import Scanner


def test_no_collection_runs_in_a_scan_and_the_collector_runs_again_after() -> None:
    in_scans: list[int] = []

    def watch(phase: str, info: dict[str, Any]) -> None:
        if phase == "start" and threading.current_thread().name == "ipctop-scan":
            in_scans.append(info["generation"])

    scanner = Scanner()
    gc.callbacks.append(watch)
    try:
        assert gc.isenabled()
        for _ in range(5):  # each scan allocates thousands of containers: a collection were due in each
            scanner.scan()
            assert gc.isenabled()
    finally:
        gc.callbacks.remove(watch)
    assert in_scans == []


def test_a_collector_paused_by_the_caller_stays_paused() -> None:
    gc.disable()
    try:
        Scanner().scan()
        assert not gc.isenabled()
    finally:
        gc.enable()
