"""Waiting System V calls that everyone sees waiting, and that still stop when ipctop exits.

A receive that waits for its message, a semaphore operation that waits, a send
to a full queue: each is one real blocked system call (msgrcv, semop, msgsnd
without IPC_NOWAIT) in the thread that asked for it.  So /proc/PID/task/TID/
syscall, wchan and semncnt show ipctop as a waiter, as they would any program,
and ipctop's own cleanup keeps the object.  (Polling with IPC_NOWAIT, or waiting
in time slices, would hide the waiter between polls.)

To stop such a call, `Waits.cancel()` sends WAKE_SIGNAL to each waiting thread
(pthread_kill).  The System V calls are never restarted after a signal handler
(signal(7)), so the call returns EINTR and `Waits.run` raises Cancelled.  A
signal that arrives just before the thread enters the call would be lost, so
cancel() repeats it until every waiting thread has left its call.

A signal whose action is "ignore" interrupts nothing: `prepare()` installs a
handler that does nothing, once, from the main thread (Python allows no other).
"""

from __future__ import annotations

import contextlib
import errno
import signal
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from ipctop.kernel.errors import IpcError

T = TypeVar("T")

WAKE_SIGNAL = signal.SIGURG  # ignored by default, used by nothing else in ipctop
_REPEAT = 0.01  # seconds between two wake-up signals to a thread still in its call


class Cancelled(Exception):
    """A waiting receive, send or semaphore operation was cancelled before it completed."""


def _ignore(_signum: int, _frame: object) -> None:
    """The wake-up signal's handler: its only job is to interrupt the call."""


def prepare() -> bool:
    """Install the wake-up handler (from the main thread); False where it cannot be installed."""
    if signal.getsignal(WAKE_SIGNAL) is _ignore:
        return True
    if threading.current_thread() is not threading.main_thread():
        return False
    signal.signal(WAKE_SIGNAL, _ignore)
    return True


class Waits:
    """The waiting calls of one program (the monitor), stopped together by `cancel()`.

    `cancelled` is set by cancel(); pass an Event to share it with the rest of the program.
    """

    def __init__(self, cancelled: threading.Event | None = None) -> None:
        self.cancelled = cancelled or threading.Event()
        self._lock = threading.Lock()
        self._threads: set[int] = set()

    def is_set(self) -> bool:
        return self.cancelled.is_set()

    def run(self, call: Callable[[], T], what: str) -> T:
        """Make the blocking `call` in this thread; raise Cancelled if cancel() interrupts it.

        `what` names the operation for the message ("receiving from queue 3").  An
        EINTR from another signal (e.g. SIGWINCH) makes the call again.
        """
        ident = threading.get_ident()
        with self._lock:
            self._threads.add(ident)
        try:
            while True:
                if self.cancelled.is_set():  # after registering: cancel() then signals us, or we see it here
                    raise Cancelled(f"{what} was cancelled")
                try:
                    return call()
                except IpcError as error:
                    if error.errno != errno.EINTR:
                        raise
        finally:
            with self._lock:
                self._threads.discard(ident)

    @property
    def waiting(self) -> int:
        """How many threads are in a waiting call now."""
        with self._lock:
            return len(self._threads)

    def cancel(self, timeout: float = 2.0) -> bool:
        """Stop every waiting call; True once all have returned (within `timeout` seconds)."""
        self.cancelled.set()
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                threads = list(self._threads)
            if not threads:
                return True
            if time.monotonic() > deadline:
                return False
            for ident in threads:
                with contextlib.suppress(OSError):  # the thread has just ended
                    signal.pthread_kill(ident, WAKE_SIGNAL)
            time.sleep(_REPEAT)
