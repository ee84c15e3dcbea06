"""Queue depth over time, for the monitor's sparklines.

Fed one snapshot per refresh; keeps, for every message queue still present, the
number of messages it held at each scan within a time window.  Pure: no textual.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from ipctop.model import Snapshot

SPARK_BLOCKS = "▁▂▃▄▅▆▇█"


class QueueHistory:
    """Per-queue samples of (scan time, messages queued) over the last `window` seconds."""

    def __init__(self, window: float = 300.0) -> None:
        self.window = window
        self._samples: dict[tuple[int, int, int], deque[tuple[float, int]]] = {}  # (msqid, key, ipc_ns)

    def record(self, snapshot: Snapshot) -> None:
        """Add one sample per queue; forget queues that are gone and samples that are too old."""
        present = set()
        for queue in snapshot.all_msg():
            # A reused msqid with another key is another queue: its history starts afresh.  A msqid is
            # unique only in its IPC namespace (0 here for ipctop's own).
            ident = (queue.msqid, queue.key, snapshot.elsewhere(queue.ipc_ns))
            present.add(ident)
            samples = self._samples.setdefault(ident, deque())
            samples.append((snapshot.time, queue.qnum))
            while samples and samples[0][0] < snapshot.time - self.window:
                samples.popleft()
        for ident in set(self._samples) - present:
            del self._samples[ident]

    def depths(self, msqid: int, key: int, ipc_ns: int = 0) -> list[int]:
        """The recorded depths of one queue, oldest first (`ipc_ns`: of a queue of another namespace)."""
        return [depth for _, depth in self._samples.get((msqid, key, ipc_ns), ())]


def sparkline(values: Sequence[int], width: int) -> str:
    """The last `width` values as block characters scaled to the largest; '' for no values."""
    tail = list(values)[-width:]
    if not tail:
        return ""
    top = max(tail)
    if top <= 0:
        return SPARK_BLOCKS[0] * len(tail)
    last = len(SPARK_BLOCKS) - 1
    return "".join(SPARK_BLOCKS[min(last, round(v / top * last))] for v in tail)
