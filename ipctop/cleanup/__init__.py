"""The leak finder and the safe cleanup of System V objects (no textual, no rich).

`find_leaks(snapshot, filters, now, evidence=gather(snapshot))` says which
objects are leaked and why, from a snapshot and what /proc tells beside it;
`remove_candidates(candidates, backup_dir)` removes the removable ones after
checking again, by IPC_STAT, that each id still names the object that was
judged.  The CLI (`ipctop clean`, `ipctop restore`) and the
TUI's Leaks view both call these two.
"""

from __future__ import annotations

from ipctop.cleanup.evidence import Evidence, gather
from ipctop.cleanup.filters import LeakFilters, parse_duration, parse_keys
from ipctop.cleanup.leaks import LeakCandidate, find_leaks
from ipctop.cleanup.remove import RemovalResult, remove_candidates
from ipctop.cleanup.waiters import QueueWaiters, Waiters, scan_queue_waiters, scan_waiters

__all__ = [
    "Evidence",
    "LeakCandidate",
    "LeakFilters",
    "QueueWaiters",
    "RemovalResult",
    "Waiters",
    "find_leaks",
    "gather",
    "parse_duration",
    "parse_keys",
    "remove_candidates",
    "scan_queue_waiters",
    "scan_waiters",
]
