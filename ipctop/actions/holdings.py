"""The segments ipctop itself attaches, and their release however ipctop exits.

The kernel detaches a process's segments when it exits, even on SIGKILL; this
registry detaches them itself on a normal exit (atexit) and on SIGTERM, SIGHUP,
SIGINT and SIGQUIT, then lets the signal do what it did before, so that
ipctop never relies on the way it dies.  It also keeps reads and writes
within the segment: outside it, or writing to a read-only attachment, would
crash the process instead of raising.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import signal
import threading
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from types import FrameType

from ipctop.kernel import sysv
from ipctop.kernel.errors import IpcError

RELEASE_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT, signal.SIGQUIT)


class HoldingError(Exception):
    """A request about a holding that cannot be met; str() is one sentence."""


@dataclass(frozen=True, slots=True)
class Holding:
    """One attachment ipctop made: where it is mapped and how."""

    shmid: int
    address: int
    size: int
    readonly: bool

    @property
    def mode(self) -> str:
        return "r" if self.readonly else "rw"


class Holdings:
    """Attach, read, write and detach segments; release everything at exit.

    One attachment per segment.  Safe to call from worker threads.
    """

    def __init__(self) -> None:
        self._held: dict[int, Holding] = {}
        self._lock = threading.RLock()

    def __contains__(self, shmid: object) -> bool:
        return shmid in self._held

    def __iter__(self) -> Iterator[Holding]:
        return iter(list(self._held.values()))

    def __len__(self) -> int:
        return len(self._held)

    def get(self, shmid: int) -> Holding | None:
        return self._held.get(shmid)

    def attach(self, shmid: int, readonly: bool = False) -> Holding:
        """shmat the segment and keep it; IpcError when the kernel refuses."""
        with self._lock:
            if shmid in self._held:
                raise HoldingError(f"segment {shmid} is already attached by ipctop ({self._held[shmid].mode})")
            _registries.add(self)
            install_release_handlers()
            size = sysv.shm_stat(shmid).size
            address = sysv.shmat(shmid, readonly=readonly)
            holding = Holding(shmid, address, size, readonly)
            self._held[shmid] = holding
            return holding

    def detach(self, shmid: int) -> None:
        with self._lock:
            holding = self._require(shmid)
            sysv.shmdt(holding.address)
            del self._held[shmid]

    def read(self, shmid: int, offset: int = 0, length: int | None = None) -> bytes:
        """Bytes of a held segment; `length` None reads to the end."""
        with self._lock:
            holding = self._require(shmid)
            length = holding.size - offset if length is None else length
            self._check_range(holding, offset, length)
            return ctypes.string_at(holding.address + offset, length)

    def write(self, shmid: int, offset: int, data: bytes) -> None:
        with self._lock:
            holding = self._require(shmid)
            if holding.readonly:
                raise HoldingError(f"segment {shmid} is attached read-only; detach and attach it read-write to write")
            self._check_range(holding, offset, len(data))
            ctypes.memmove(holding.address + offset, data, len(data))

    def release_all(self) -> list[IpcError]:
        """Detach everything held; never raises, returns what the kernel refused."""
        refusals = []
        with self._lock:
            for shmid, holding in list(self._held.items()):
                try:
                    sysv.shmdt(holding.address)
                except IpcError as error:
                    refusals.append(error)
                self._held.pop(shmid, None)
        return refusals

    def _require(self, shmid: int) -> Holding:
        holding = self._held.get(shmid)
        if holding is None:
            raise HoldingError(f"segment {shmid} is not attached by ipctop")
        return holding

    @staticmethod
    def _check_range(holding: Holding, offset: int, length: int) -> None:
        if offset < 0 or length < 0 or offset + length > holding.size:
            raise HoldingError(
                f"{length} bytes at offset {offset} are outside segment {holding.shmid} ({holding.size} bytes)"
            )


_registries: weakref.WeakSet[Holdings] = weakref.WeakSet()
_previous_handlers: dict[int, object] = {}
_install_lock = threading.Lock()
_atexit_registered = False
_signals_installed = False


def _release_everything() -> None:
    for registry in list(_registries):
        registry.release_all()


def install_release_handlers() -> None:
    """Release every Holdings at exit and on SIGTERM, SIGHUP, SIGINT, SIGQUIT (once per process).

    `attach` calls it; an app whose attaches run in worker threads should call it
    once from the main thread at start, since only the main thread can set handlers.
    A handler the app sets before this call is chained to: it runs after the release.
    """
    global _atexit_registered, _signals_installed
    with _install_lock:
        if not _atexit_registered:
            _atexit_registered = True
            atexit.register(_release_everything)
        # Until it is called from the main thread, atexit alone releases.
        if _signals_installed or threading.current_thread() is not threading.main_thread():
            return
        _signals_installed = True
        for signum in RELEASE_SIGNALS:
            previous = signal.getsignal(signum)
            if previous is signal.SIG_IGN:
                continue  # e.g. under nohup: leave the signal ignored
            _previous_handlers[signum] = previous
            signal.signal(signum, _on_signal)


def _on_signal(signum: int, frame: FrameType | None) -> None:
    _release_everything()
    previous = _previous_handlers.get(signum)
    if callable(previous):
        previous(signum, frame)
        return
    # The default action (or one set outside Python): die of the same signal as before.
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


@contextlib.contextmanager
def attached(shmid: int, readonly: bool) -> Iterator[tuple[Holdings, Holding]]:
    """Hold a segment for the length of a `with` block, released on any way out."""
    holdings = Holdings()
    holding = holdings.attach(shmid, readonly=readonly)
    try:
        yield holdings, holding
    finally:
        holdings.release_all()


_shared: Holdings | None = None


def shared_holdings() -> Holdings:
    """The process-wide registry the TUI uses for `a`, `d`, `w` and the hex view."""
    global _shared
    if _shared is None:
        _shared = Holdings()
    return _shared
