"""Each process's run counts (/proc/PID/schedstat), read once a scan from files held open between scans.

Opening a /proc/PID file costs about 3 µs (the walk of the path and the revalidation of
the pid's directory); reading one already open, again from offset 0, under 1 µs.  At
10,000 processes that is 38 ms against 7 ms a scan, the largest part of a monitor's tick.
So a monitor keeps each process's schedstat open from the scan that first reads it to the
scan that finds the process gone.

A held file names its process, not its number: once that process has been reaped a read
fails with ESRCH, even when a new process has taken the pid.  The file is then closed and
the pid opened anew, so a reused pid never shows the old process's counts.

A process of more than one thread has its main thread's counts in that file: each of its
threads' counts (/proc/PID/task/TID/schedstat, opened and closed at each scan) are added to
its mark, with their thread ids, so that a thread other than the main one that runs (or comes,
or goes) changes the mark too.  The threads are read against the process's mark when it was
last read in full, and no further once one differs: the process then has no mark, and is read
in full (a busy process of 200 threads costs a few opens a scan, not 200); the scan after the
one that finds it quiet makes its whole mark again.  Beyond MAX_THREADS threads no mark is
made: such a process is read in full at every scan.

The files are held by one thread with an fd table of its own (kernel/fdtable.py): they are
not ipctop's fds for lsof, for another ipctop, or for ipctop's own scan of itself, and the
process's fd numbers stay as low as before (select() takes fds below 1024 only).  The soft
RLIMIT_NOFILE is raised towards the hard one as the machine's processes need; the files of
processes beyond it, or all of them where a thread cannot have its own table, are opened,
read and closed at each scan.  The thread ends, and its table with every file in it, when
its RunCounts is collected.
"""

from __future__ import annotations

import os
import queue
import resource
import threading
import weakref
from collections.abc import Mapping

from ipctop.kernel.fdtable import own_fd_table

_SPARE = 16  # fd numbers left free in the holding thread's table
_MARK_SIZE = 128
MAX_THREADS = 256  # a process of more threads has no mark (reading each costs about what reading it in full does)
_FLAGS = os.O_RDONLY | os.O_CLOEXEC


class RunCounts:
    """The run counts of one monitor's processes (see the module's docstring)."""

    __slots__ = ("_requests", "_answers", "_thread", "__weakref__")

    def __init__(self) -> None:
        self._requests: queue.SimpleQueue[_Request | None] = queue.SimpleQueue()
        self._answers: queue.SimpleQueue[tuple[dict[int, bytes], bool] | BaseException] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def read(self, pids: list[int], listed: set[int], threaded: set[int] | frozenset[int] = frozenset(),
             earlier: Mapping[int, bytes] | None = None) -> tuple[dict[int, bytes], bool]:
        """Each listed process's run counts (`listed`: `pids` as a set), each thread's with them for the
        processes of `threaded`; a process gone, unreadable or never scheduled yet has none, and so has one
        of `threaded` that ran since its mark in `earlier` (not changed while this runs).  The files of
        processes no longer listed are closed.  The flag is True when a process read before, or one of
        `pids`, is found gone (or unreadable)."""
        if self._thread is None:
            self._thread = threading.Thread(target=_hold, args=(self._requests, self._answers),
                                            name="ipctop-run-counts", daemon=True)
            self._thread.start()
            weakref.finalize(self, self._requests.put, None)
        self._requests.put((pids, listed, threaded, earlier or {}))
        answer = self._answers.get()
        if isinstance(answer, BaseException):
            raise answer
        return answer


_Request = tuple[list[int], set[int], "set[int] | frozenset[int]", Mapping[int, bytes]]


def _hold(requests: queue.SimpleQueue[_Request | None],
          answers: queue.SimpleQueue[object]) -> None:
    """The holding thread: answers each list of pids with their counts until it gets None."""
    try:
        own_fd_table()
        files: dict[int, int] | None = {}
    except (OSError, AttributeError):  # AttributeError: a C library without unshare()
        files = None  # this thread's fds would be the process's: nothing is held
    room = -1
    while (request := requests.get()) is not None:
        pids, listed, threaded, earlier = request
        try:
            if files is not None and room < len(pids):
                room = _make_room(len(pids))
            marks, gone = _read(pids, listed, files, room)
            for pid in threaded & marks.keys():
                mark = marks[pid]
                threads = _thread_marks(pid, mark, earlier.get(pid))
                if threads is None:
                    del marks[pid]
                else:
                    marks[pid] = mark + threads
            answers.put((marks, gone))
        except BaseException as error:  # handed to the scanning thread
            answers.put(error)


def _read(pids: list[int], listed: set[int], files: dict[int, int] | None,
          room: int) -> tuple[dict[int, bytes], bool]:
    marks = {}
    gone = False
    pread, open_, close = os.pread, os.open, os.close
    held = files if files is not None else {}
    if held:
        for pid in [pid for pid in held if pid not in listed]:
            close(held.pop(pid))
    get = held.get
    for pid in pids:
        fd = get(pid)
        if fd is not None:
            try:
                # the very process of the earlier reading: its counts are kept even when it has
                # never been scheduled (pcount 0), which otherwise marks a pid that may be reused
                marks[pid] = pread(fd, _MARK_SIZE, 0)
                continue
            except OSError:  # that process is gone: the pid may be a new one's, opened below
                gone = True
                del held[pid]
                close(fd)
        try:
            fd = open_(f"/proc/{pid}/schedstat", _FLAGS)
        except OSError:
            gone = True
            continue
        try:
            mark = pread(fd, _MARK_SIZE, 0)
        except OSError:
            gone = True
            close(fd)
            continue
        if files is not None and len(held) < room:
            held[pid] = fd
        else:
            close(fd)
        if not mark.endswith(b" 0\n"):  # pcount 0: never scheduled yet
            marks[pid] = mark
    return marks, gone


def _thread_marks(pid: int, main: bytes, earlier: bytes | None) -> bytes | None:
    """Each thread's id and counts, in the order of their ids, to follow the main thread's counts
    `main`; None when they could not all be read, there are more than MAX_THREADS, or they differ from
    those of the process's mark `earlier` (None: no mark, all are read)."""
    expected = None
    if earlier is not None:
        if not earlier.startswith(main):
            return None  # the main thread ran
        expected = earlier[len(main):]
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return None
    if len(tids) > MAX_THREADS:
        return None
    parts = []
    length = 0
    open_, pread, close = os.open, os.pread, os.close
    for tid in sorted(tids, key=int):
        try:
            fd = open_(f"/proc/{pid}/task/{tid}/schedstat", _FLAGS)
        except OSError:
            return None
        try:
            part = b"%s:%s" % (tid.encode(), pread(fd, _MARK_SIZE, 0))
        except OSError:
            return None
        finally:
            close(fd)
        if expected is not None and expected[length:length + len(part)] != part:
            return None  # this thread ran, or came
        length += len(part)
        parts.append(part)
    if expected is not None and len(expected) != length:
        return None  # a thread went
    return b"".join(parts)


def _make_room(processes: int) -> int:
    """How many files may be held for `processes`, the soft fd limit raised towards the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = _SPARE + processes + processes // 4  # room to grow without a raise each scan
    if soft != resource.RLIM_INFINITY and soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    if soft == resource.RLIM_INFINITY:
        return processes + processes // 4
    return max(0, soft - _SPARE)  # the limit bounds each table's fd numbers: this thread's is its own
