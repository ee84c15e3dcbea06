"""The records of the processes' ancestors that hold nothing, kept between a monitor's scans.

The monitor's Scanner reads the ancestors of the processes it lists (snapshot.py) so that the
process tree is drawn whole (proctree.py).  A quiet ancestor's facts are the very object they were
at the previous scan; this keeps its record the very object too, and hands on the very mapping
when none changed, which the tree compares by identity before it builds anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from ipctop.collectors.processes import ProcessInfo
from ipctop.model import Process


class AncestorMemo:
    """The ancestors' records of the previous scan, and the mapping handed on (see the module's docstring)."""

    def __init__(self) -> None:
        self._made: dict[int, tuple[ProcessInfo, Process]] = {}
        self._last: Mapping[int, Process] = MappingProxyType({})

    def of(self, found: dict[int, ProcessInfo]) -> Mapping[int, Process]:
        made = self._made
        same = found.keys() == made.keys()
        records = {}
        for pid, info in found.items():
            earlier = made.get(pid)
            if earlier is not None and earlier[0] is info:
                records[pid] = earlier[1]
                continue
            record = Process(*info)
            if earlier is not None and earlier[1] == record:  # read again (it ran), and the same
                record = earlier[1]
            else:
                same = False
            records[pid] = record
        self._made = {pid: (info, records[pid]) for pid, info in found.items()}
        if not same:
            self._last = MappingProxyType(records)
        return self._last
