"""Working inside another IPC namespace: a thread of ipctop's own that joins it with setns.

`/proc/sysvipc/*`, `/proc/sys/kernel/{shm*,msg*,sem}`, `/proc/sys/fs/mqueue/*` and every
System V call by id (shmctl, msgctl, semctl, msgsnd, semop...) act on the IPC namespace
of the *thread* that makes them: the kernel keeps the namespaces per task, and
setns(fd, CLONE_NEWIPC) moves the calling thread alone (the rules for a single-threaded
caller concern user and mount namespaces, not IPC ones).  So a thread of ipctop that
joins a namespace sees and acts in that namespace while every other thread of ipctop
stays in its own, and, staying in ipctop's pid namespace, it reads every pid as a pid
of the host.  No process is forked or started: entering a namespace costs the open of
/proc/PID/ns/ipc and one setns (microseconds), not a fork of a large process (~6 ms at
120 MB) or an interpreter start (~10-40 ms) (docs/namespaces.md has the measurements).

Each `visit()` and `run_in()` uses a fresh thread that only ever does that work, goes
back to ipctop's namespace and ends, so no other code can find itself in a namespace it
did not expect, and ipctop never keeps a namespace (and its objects) alive after the
work.  A namespace is entered by an fd of /proc/PID/ns/ipc of one of its
processes, checked to be the very namespace asked for (by its inode), so a pid reused
meanwhile cannot send ipctop into another one.

Entering needs CAP_SYS_ADMIN (root); without it `Unenterable` says so.

One more effect of setns(CLONE_NEWIPC): the kernel applies and drops the entering
thread's SEM_UNDO adjustments (it shares the process's list, so only its own share is
dropped).  An operation with SEM_UNDO done inside another namespace is therefore undone
when the thread leaves it, as it would be when a helper process exits.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import NamedTuple, TypeVar

from ipctop.kernel.libc import libc

CLONE_NEWIPC = 0x0800_0000
CAP_SYS_ADMIN = 21

T = TypeVar("T")


class Unenterable(Exception):
    """An IPC namespace could not be entered; `str()` is one sentence saying why."""

    def __init__(self, inode: int, reason: str, err: int = 0) -> None:
        self.inode = inode
        self.reason = reason
        self.errno = err
        super().__init__(f"IPC namespace {inode} cannot be entered: {reason}")


class Target(NamedTuple):
    """An IPC namespace by its inode, and pids of processes in it (any one will do to enter it)."""

    inode: int
    pids: tuple[int, ...]


def _setns(fd: int, nstype: int) -> None:
    function = libc().setns
    function.argtypes = [ctypes.c_int, ctypes.c_int]
    if function(fd, nstype) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def inode_of(link: str) -> int:
    """The inode in a namespace link's text (`ipc:[4026531839]`), 0 when it is not one."""
    start, end = link.find("["), link.rfind("]")
    if start < 0 or end < start:
        return 0
    try:
        return int(link[start + 1 : end])
    except ValueError:
        return 0


def own_inode(root: str = "/proc") -> int:
    """The inode of the IPC namespace of the calling thread."""
    try:
        return os.stat(f"{root}/thread-self/ns/ipc").st_ino
    except OSError:
        return 0


def may_enter() -> bool:
    """True when this process has CAP_SYS_ADMIN, which setns into an IPC namespace needs."""
    try:
        with open("/proc/self/status", "rb") as status:
            for line in status:
                if line.startswith(b"CapEff:"):
                    return bool(int(line.split()[1], 16) >> CAP_SYS_ADMIN & 1)
    except (OSError, ValueError, IndexError):
        pass
    return False


def open_namespace(target: Target, root: str = "/proc") -> int:
    """An fd of the namespace `target` names, through the first of its pids still in it."""
    for pid in target.pids:
        try:
            fd = os.open(f"{root}/{pid}/ns/ipc", os.O_RDONLY | os.O_CLOEXEC)
        except PermissionError as error:
            raise Unenterable(target.inode, "reading its processes' namespace is not allowed (needs root)",
                              error.errno or errno.EACCES) from None
        except OSError:
            continue  # exited
        if os.fstat(fd).st_ino == target.inode:
            return fd
        os.close(fd)  # the pid was reused, or the process moved: not this namespace
    raise Unenterable(target.inode, "its processes have all exited (and its objects with it)", errno.ESRCH)


def _enter(target: Target, root: str) -> None:
    fd = open_namespace(target, root)
    try:
        _setns(fd, CLONE_NEWIPC)
    except OSError as error:
        reason = ("setns is not allowed: it needs CAP_SYS_ADMIN (run ipctop as root)"
                  if error.errno == errno.EPERM else f"setns failed: {os.strerror(error.errno or 0).lower()}")
        raise Unenterable(target.inode, reason, error.errno or 0) from None
    finally:
        os.close(fd)


class _Result:
    __slots__ = ("values", "error")

    def __init__(self) -> None:
        self.values: dict[int, object] = {}
        self.error: BaseException | None = None


def visit(targets: Iterable[Target], work: Callable[[Target], T], root: str = "/proc") -> dict[int, T | Unenterable]:
    """`work(target)` run inside each namespace in turn, by one thread of its own; by inode, what
    it returned, or the `Unenterable` that says why that namespace could not be entered.
    Exceptions `work` raises are raised here, after the thread has ended."""
    result = _Result()
    todo = list(targets)

    def run() -> None:
        home = os.open(f"{root}/thread-self/ns/ipc", os.O_RDONLY | os.O_CLOEXEC)
        try:
            for target in todo:
                try:
                    _enter(target, root)
                except Unenterable as refusal:
                    result.values[target.inode] = refusal
                    continue
                result.values[target.inode] = work(target)
        except BaseException as error:  # handed to the caller's thread
            result.error = error
        finally:
            # back home before the caller goes on: an ending thread leaves its namespace only when
            # the kernel reaps it, a little after join() returns, and until then it would keep the
            # last namespace (and its objects) alive after its own processes have exited
            with contextlib.suppress(OSError):  # else the thread's end leaves it
                _setns(home, CLONE_NEWIPC)
            os.close(home)

    if todo:
        thread = threading.Thread(target=run, name="ipctop-ipcns", daemon=True)
        thread.start()
        thread.join()
    if result.error is not None:
        raise result.error
    return result.values  # type: ignore[return-value]


def run_in(target: Target, function: Callable[..., T], *args: object, root: str = "/proc", **kwargs: object) -> T:
    """`function(*args, **kwargs)` called inside the namespace `target` (by a thread of its own);
    raises `Unenterable`, or what `function` raises."""
    outcome = visit([target], lambda _target: function(*args, **kwargs), root)[target.inode]
    if isinstance(outcome, Unenterable):
        raise outcome
    return outcome


def targets(members: dict[int, Sequence[int]]) -> list[Target]:
    """Targets from {inode: pids}."""
    return [Target(inode, tuple(pids)) for inode, pids in members.items()]
