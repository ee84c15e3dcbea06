"""Many processes' /proc files read by two processes at once, for a one-off snapshot of a large machine.

At thousands of processes most of a first scan is the kernel answering reads of
/proc/PID (a listing of fd and a readlink per fd, the maps, the system calls, stat,
cmdline and wchan).  A second thread does not help (the GIL passes at every system
call), a second process does: a forked child reads every other
process of the list while this one reads the rest, and sends what it found back
through a pipe (marshal, as plain tuples the caller's `encode` makes and `decode`
reads back).  The child reads as this process would (the same function) and
changes nothing.

This process reads its own files before the pipe to the child exists, so that the
pipe is never in its fds; the child, made after the list of pids, is not in
it either.  Where the child cannot help (fork refused, it fails, or it has not
answered within ANSWER_WITHIN seconds: a read of a process stuck in the kernel), its
share is read here, so the answer is the same, only later.
"""

from __future__ import annotations

import ctypes
import marshal
import os
import select
import time
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from ipctop.collectors.procfs import ProcFS
from ipctop.kernel.libc import libc

# Below this many processes a fork costs more than half of their reading saves.
SPLIT_FROM = 600
# A helper that has not answered this many seconds after its parent read its own share is given up
# (as the Scanner gives up a read of a process stuck in the kernel) and its share read by the parent.
ANSWER_WITHIN = 2.0
_PR_SET_PDEATHSIG = 1
_SIGKILL = 9  # signal.SIGKILL on Linux: the signal module (its enums) costs every start 1.2 ms

Found = TypeVar("Found")


class Reader(Generic[Found]):
    """What is read of one process, how it travels as plain values, and what "nothing" is (not sent)."""

    __slots__ = ("read", "encode", "decode", "nothing")

    def __init__(self, read: Callable[[int], Found], encode: Callable[[Found], Any], decode: Callable[[Any], Found],
                 nothing: Found) -> None:
        self.read, self.encode, self.decode, self.nothing = read, encode, decode, nothing


def worth_splitting(proc: ProcFS, count: int) -> bool:
    """True when `count` processes of `proc` are read faster by two processes: the live /proc, and a
    machine with two CPUs for us."""
    return count >= SPLIT_FROM and proc.is_live and len(os.sched_getaffinity(0)) >= 2


def read_split(proc: ProcFS, what: str, pids: Sequence[int], reader: Reader[Found],
               deadline: float = ANSWER_WITHIN) -> dict[int, Found]:
    """`reader.read(pid)` of every pid (in their order), by this process and a forked child, but for those
    where it found `reader.nothing` (left out).  This process notes each of its own reads in `proc` (for
    the scan's watchdog)."""
    own = os.getpid()
    read = reader.read
    found: dict[int, Found] = {}
    nothing = reader.nothing
    if own in pids:
        proc.reading(own, what)
        if (one := read(own)) is not nothing:  # before the pipe is made: the snapshot must not show it
            found[own] = one
    # interleaved: neighbouring pids are often alike (a pool of workers), so each share is half the work
    theirs = [pid for pid in pids[1::2] if pid != own]
    ours = [pid for pid in pids[0::2] if pid != own]
    child, answer = _start_child(theirs, reader) if theirs else (None, -1)
    from_child = None
    try:
        for pid in ours:
            proc.reading(pid, what)
            if (one := read(pid)) is not nothing:
                found[pid] = one
        proc.done()  # waiting for the child is not a read of the last process
    finally:
        if child is not None:
            # also when this scan was given up meanwhile: the child is never left behind
            from_child = _collect(child, answer, deadline, reader.decode)
    if from_child is None:
        from_child = {}
        for pid in theirs:
            proc.reading(pid, what)
            if (one := read(pid)) is not nothing:
                from_child[pid] = one
        proc.done()
    found.update(from_child)
    return {pid: found[pid] for pid in pids if pid in found}  # in the order of `pids`, as a loop would give


def _start_child(pids: list[int], reader: Reader[Found]) -> tuple[int | None, int]:
    """The child reading `pids` and the read end of its answer; (None, -1) when no child could be made."""
    parent, prctl = os.getpid(), libc()["prctl"]  # a function object of its own: no one else's argtypes
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    try:
        answer, into = os.pipe2(os.O_CLOEXEC)
    except OSError:
        return None, -1
    try:
        child = os.fork()
    except OSError:
        os.close(answer)
        os.close(into)
        return None, -1
    if child == 0:
        status = 1
        try:
            os.close(answer)
            # killed with the thread that made it, so with its process, even by SIGKILL (it never
            # outlives the read it helps, so the thread's end is no earlier than it would be)
            prctl(_PR_SET_PDEATHSIG, _SIGKILL, 0, 0, 0)
            if os.getppid() != parent:
                os._exit(1)  # the parent died before the line above: nobody to answer
            read, encode, nothing = reader.read, reader.encode, reader.nothing
            data = marshal.dumps({pid: encode(found) for pid in pids if (found := read(pid)) is not nothing})
            view = memoryview(data)
            while view:
                view = view[os.write(into, view):]
            status = 0
        finally:
            # never back into the parent's code, its atexit handlers or buffers (Ctrl-C included: no traceback)
            os._exit(status)
    os.close(into)
    return child, answer


def _collect(child: int, answer: int, deadline: float, decode: Callable[[Any], Found]) -> dict[int, Found] | None:
    """The child's findings, or None when it failed or did not answer in time (it is then killed)."""
    chunks: list[bytes] = []
    until = time.monotonic() + deadline
    poller = select.poll()
    poller.register(answer, select.POLLIN)
    complete = False
    try:
        while (left := until - time.monotonic()) > 0:
            if not poller.poll(left * 1000):
                break
            chunk = os.read(answer, 1 << 20)
            if not chunk:
                complete = True
                break
            chunks.append(chunk)
    finally:
        os.close(answer)
    if not complete:
        os.kill(child, _SIGKILL)  # our own child, by pid
        _reap(child)
        return None
    _, status = os.waitpid(child, 0)
    if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
        return None
    try:
        plain = marshal.loads(b"".join(chunks))
    except (EOFError, ValueError, TypeError):
        return None
    return {pid: decode(value) for pid, value in plain.items()}



def _reap(child: int) -> None:
    """Wait a moment for a killed child; one that a kernel wait keeps from dying is left to init."""
    until = time.monotonic() + 1.0
    while time.monotonic() < until:
        done, _status = os.waitpid(child, os.WNOHANG)
        if done:
            return
        time.sleep(0.01)
