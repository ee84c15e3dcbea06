"""Which processes have not run since the previous scan, so that what was read of them then still holds.

A process changes what a scan reads of it (its fds, its mappings, its wchan,
cmdline, owner and IPC namespace) only by running: open, close, dup, mmap, shmat,
exec, setuid and setns are system calls the task makes itself.  The kernel counts
how much each task has run in /proc/PID/schedstat (time on a CPU, time waiting,
times scheduled), and those counts move whenever the task is scheduled.  So for a
process whose counts (each of its threads') are the same as when it was last read in
full, that reading is still true, and a monitor's scan can skip its fd links,
maps and process files: one read instead of twenty system calls (of a file
held open between scans, run_counts.py).

The counts are read before anything else of a scan, so a process that runs in
the middle of its own reading is read again at the next scan.  Where the rule
does not hold, the process is read again every scan:

- a process with more than MAX_THREADS threads (run_counts.py: a process of more
  than one has each thread's counts in its mark, /proc/PID/schedstat being its
  main thread's);
- a process holding a FIFO end has the links of those fds read again, not its
  whole fd directory (anyone may rename the FIFO's path);
- a process whose parent is not quiet has its ppid read again (it changes when
  the parent exits), unless that parent is read this scan, alive, and the very
  process (by start time) it was when the ppid was last known;
- a process never seen scheduled yet (pcount 0): a new process that took the pid
  of one that exited can only match the old counts (nanoseconds on a CPU and
  waiting, and times scheduled, all equal) if neither has ever run.

What no counter shows (an fd table shared between processes by clone(CLONE_FILES),
another process writing into a process's argv memory, a process that opens a
pipe through /proc/PID/fd/N for a moment and writes to it, the kernel writing to
a pipe it holds itself, as for a core dump) is bounded by reading every process
in full at least once a turn, and each pipe measured again at its own turn (by
inode) as often (records.py).  A turn is FULL_EVERY scans, or as many as take a
minute at a monitor's pace (Scanner.pace): at 1 s, each scan reads a sixtieth of
the processes in full; at 10 s, a thirtieth (each once every five minutes).  On a
large machine a turn is longer, so that a scan reads about TURN_PROCESSES for it
(at 10,000 processes a turn is 120 scans: two minutes at 1 s).  At its turn a process
that has not run keeps what only it can change (its stat, wchan and namespace) and has
the rest read again: its fds, maps, command line and owner.

A ScanMemory belongs to one Scanner (snapshot.py), which uses it for the live
/proc only and never from two threads at once.  Its first scan reads the run counts
too (a monitor's second scan is then as cheap as the later ones); a one-off snapshot
(`ipctop list`) has no ScanMemory and reads none.
"""

from __future__ import annotations

import os
from typing import Any

FULL_EVERY = 30  # scans: the least, whatever the pace
FULL_EVERY_SECONDS = 60.0  # at a monitor's pace, a turn lasts at least this long
TURN_PROCESSES = 100  # at most about this many processes read in full a scan for the turn


def turn_length(interval: float | None, processes: int = 0) -> int:
    """How many scans a turn lasts for scans `interval` seconds apart (None: unknown) on a machine of
    `processes`: every process read in full at least once a minute or once every FULL_EVERY scans,
    whichever is less often, and no more than about TURN_PROCESSES of them a scan (on a large machine
    the turn doubles, from FULL_EVERY, until it is long enough: it changes only at those steps)."""
    by_time = FULL_EVERY if not interval or interval <= 0 else max(FULL_EVERY, round(FULL_EVERY_SECONDS / interval))
    by_count = FULL_EVERY
    while by_count * TURN_PROCESSES < processes:
        by_count *= 2
    return max(by_time, by_count)


class ScanMemory:
    """What the previous scans read of each process, and when (its run counts then)."""

    __slots__ = (
        "scans", "marks", "threads", "threaded", "fds", "fd_scan", "shared", "infos", "ns", "parent_start",
        "attachments", "namespace_attachments", "full_every", "every",
        "now", "counts", "_quiet", "_unchanged", "_due", "listed", "lists_skipped", "_whole_view", "_links", "_skip",
        "_pids",
    )

    def __init__(self, whole_view: bool = False, full_every: int = FULL_EVERY) -> None:
        self.scans = 0
        self.full_every = full_every  # scans a turn lasts at the pace of the scans (turn_length)
        self.every = full_every  # ... at this scan, for as many processes as it lists
        self.marks: dict[int, bytes] = {}  # schedstat when last read in full (or found quiet)
        self.threads: dict[int, int] = {}
        self.threaded: set[int] = set()  # the pids of `threads` with more than one
        self.fds: dict[int, Any] = {}  # fds.PidFds
        self.fd_scan: Any = None  # fds.FdScan of the latest scan, patched by the next
        self.shared: dict[int, tuple] = {}  # mappings.SharedMapping of each process (its parsed maps)
        self.infos: dict[int, Any] = {}  # processes.ProcessInfo
        self.ns: dict[int, str] = {}
        self.parent_start: dict[int, float] = {}  # the start time of each process's parent when its ppid was known
        self.attachments: Any = None  # attachments.AttachmentScan of the latest scan
        self.namespace_attachments: dict[int, Any] = {}  # ... of each other IPC namespace, by inode
        self.now: dict[int, bytes] = {}  # this scan's marks
        from ipctop.collectors.run_counts import RunCounts  # here: a one-off look (no memory) needs none

        self.counts = RunCounts()
        self._quiet: set[int] = set()
        self._unchanged: set[int] = set()
        self._due: set[int] = set()
        self.listed: set[int] = set()  # the pids of this scan (of the previous one, until start_scan)
        self.lists_skipped = 0  # scans that found the listing of the previous one still true
        self._whole_view = whole_view  # procfs.ProcFS.shows_every_process(): its link count may vouch
        self._links: int | None = None
        self._skip: frozenset[int] = frozenset()
        self._pids: list[int] = []

    def start_scan(self, proc: Any) -> list[int]:
        """The pids of this scan (procfs.ProcFS `proc`, the live one), with every process's run counts read
        before anything else is read, and what was read of every process that is not quiet forgotten:
        it is all read again."""
        self.scans += 1
        before = self.listed
        every = self.every = max(self.full_every, turn_length(None, len(before)))
        everything = self.scans % every == 0  # now and then every table is walked, whatever it holds
        links = proc.process_links() if self._whole_view else None  # before the listing it vouches for
        if links is not None and links == self._links and proc.skip == self._skip and not everything:
            # no process forked since the last listing but as many as were reaped: if none of those
            # listed is gone, no other came, and the listing still holds
            pids = self._pids
            self.now, gone = self.counts.read(pids, before, self.threaded, self.marks)
            if gone:
                pids = proc.pids()
                listed = set(pids)
                self.now.update(self.counts.read([pid for pid in pids if pid not in before], listed, self.threaded,
                                                 self.marks)[0])
                self.now = {pid: mark for pid, mark in self.now.items() if pid in listed}
            else:
                self.lists_skipped += 1
                listed = before
        else:
            pids = proc.pids()
            listed = set(pids)
            self.now = self.counts.read(pids, listed, self.threaded, self.marks)[0]
        self._links, self._skip, self._pids, self.listed = links, proc.skip, pids, listed
        threads, threaded = self.threads, self.threaded
        for pid in [pid for pid in threads if pid not in listed] if everything else before - listed:
            threads.pop(pid, None)
            threaded.discard(pid)
        now, marks = self.now, self.marks
        self._unchanged = {pid for pid, mark in now.items() if marks.get(pid) == mark and pid in threads}
        turn = self.scans
        self._quiet = quiet = {pid for pid in self._unchanged if (pid + turn) % every != 0}
        # at its turn a process that has not run is read in full for what others can change (an fd table
        # or address space it shares, its argv memory), but what only it changes is kept: its stat, wchan
        # and namespace (its cmdline and owner are read again: _process_infos, through `due_pids`)
        self._due = due = self._unchanged - quiet
        kept = quiet | due
        # what the tables hold was read at the previous scan or is of a process quiet since, so it is of a
        # process listed then: those not quiet now are what goes, found by one set operation
        for tables, keep in (((self.marks, self.fds, self.shared), quiet),
                             ((self.infos, self.ns, self.parent_start), kept)):
            leaving = before - keep
            for table in tables:
                if everything:
                    leaving = {pid for pid in table if pid not in keep}
                for pid in leaving:
                    table.pop(pid, None)
        return pids

    def unread(self, table: dict[int, Any]) -> set[int]:
        """The pids of this scan that `table` (one of the per-process tables) holds nothing of: after
        start_scan the tables hold quiet processes only, so these are the processes to read."""
        return self.listed - table.keys()

    def quiet(self, pid: int) -> bool:
        """True when `pid` has not run since it was last read in full, so what is remembered of it holds."""
        return pid in self._quiet

    def quiet_pids(self) -> set[int]:
        """Every pid for which `quiet(pid)` is True (not to be changed)."""
        return self._quiet

    def due_pids(self) -> set[int]:
        """The pids at their turn this scan that have not run: read in full again but for what only the
        process itself changes, which `infos` and `ns` keep (not to be changed)."""
        return self._due

    def unchanged_pids(self) -> set[int]:
        """Every pid none of whose threads has run since it was last read, those at their turn
        included (for what only the process itself can change; not to be changed)."""
        return self._unchanged

    def all_unchanged(self, pids: frozenset[int]) -> bool:
        """True when none of `pids` has run since the previous scan, and this is not a scan that reads
        everything (once a turn, for what is not kept per process)."""
        return self.scans % self.every != 0 and pids <= self._unchanged

    def read_in_full(self, pid: int, root: str) -> None:
        """Note that `pid` was read in full this scan (after its mark), with how many threads it has."""
        mark = self.now.get(pid)
        if mark is None:
            self.marks.pop(pid, None)
            return
        self.marks[pid] = mark
        try:
            threads = self.threads[pid] = os.stat(f"{root}/{pid}/task").st_nlink - 2
        except OSError:
            self.threads.pop(pid, None)
            self.threaded.discard(pid)
            return
        if threads > 1:
            self.threaded.add(pid)
        else:
            self.threaded.discard(pid)
