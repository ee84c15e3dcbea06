"""The commands of child.py that hold POSIX objects and shared memory without a name.

Each prints `ready ...` once it holds what it was asked to (see child.py).
"""

from __future__ import annotations

import mmap
import os
import signal

from ipctop.kernel import posix
from ipctop.kernel.libc import libc

PR_SET_PDEATHSIG = 1

_kept: list[object] = []


def _ready(text: str = "") -> None:
    """child.py's: the line on the pipe to the test, which is then closed (child.py runs as __main__)."""
    import __main__

    __main__._ready(text)


def _pshm_hold(args: list[str]) -> None:
    """NAME SIZE [create] [close] [unlink]: open (or create) it, map it, write its name at the start;
    `close` closes the fd after mapping, `unlink` unlinks the name; prints the fd (-1 when closed) and address."""
    name, size, options = args[0], int(args[1]), set(args[2:])
    flags = os.O_RDWR | (os.O_CREAT | os.O_EXCL if "create" in options else 0)
    fd = posix.shm_open(name, flags, 0o640)
    if "create" in options:
        os.ftruncate(fd, size)
    area = mmap.mmap(fd, size)
    area[: len(name)] = name.encode()
    _kept.append(area)
    address = _address(area)
    if "close" in options:
        os.close(fd)
        fd = -1
    if "unlink" in options:
        posix.shm_unlink(name)
    _ready(f"{fd} {address:#x}")


def _address(area: mmap.mmap) -> int:
    import ctypes

    return ctypes.addressof(ctypes.c_char.from_buffer(area))


def _psem_hold(args: list[str]) -> None:
    """NAME [VALUE]: sem_open it (creating it with VALUE when given); prints its address."""
    flags = os.O_CREAT | os.O_EXCL if len(args) > 1 else 0
    address = posix.sem_open(args[0], flags, 0o600, int(args[1]) if len(args) > 1 else 0)
    _ready(f"{address:#x}")


def _psem_wait(args: list[str]) -> None:
    """NAME: sem_open it, print ready, then block in sem_wait."""
    address = posix.sem_open(args[0], 0)
    _ready(f"{address:#x}")
    posix.sem_wait(address)


def _pmsg_hold(args: list[str]) -> None:
    """NAME [create MAXMSG MSGSIZE]: mq_open it read-write and keep the fd; prints the fd."""
    if len(args) > 1:
        fd = posix.mq_open(args[0], os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600, int(args[2]), int(args[3]))
    else:
        fd = posix.mq_open(args[0], os.O_RDWR)
    _ready(str(fd))


def _pmsg_receive(args: list[str]) -> None:
    """NAME: mq_open it, print ready, then block in mq_receive."""
    fd = posix.mq_open(args[0], os.O_RDONLY)
    _ready(str(fd))
    posix.mq_receive(fd, posix.mq_getattr(fd).message_size)


def _anon_fork(args: list[str]) -> None:
    """SIZE [CHILDREN]: map shared anonymous memory, write to it, fork CHILDREN (1) children that keep it;
    prints the children's pids (`,`-separated) and the address."""
    area = mmap.mmap(-1, int(args[0]), flags=mmap.MAP_SHARED)
    area[:5] = b"hello"
    _kept.append(area)
    children = [_keeper() for _ in range(int(args[1]) if len(args) > 1 else 1)]
    _ready(f"{','.join(map(str, children))} {_address(area):#x}")


def _keeper() -> int:
    """A forked child that keeps what its parent mapped until it is ended or its parent dies; its pid."""
    child = os.fork()
    if child == 0:
        import __main__

        signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
        os.close(__main__._report)  # the parent reports; the test reads until both have closed it
        # dies with the holder: a test that fails before it ends this child must not leave it to init
        libc()["prctl"](PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() == 1:
            os._exit(0)
        while True:
            signal.pause()
    return child


def _memfd_map(args: list[str]) -> None:
    """FD SIZE: map the memfd passed in as FD; prints the address."""
    area = mmap.mmap(int(args[0]), int(args[1]))
    _kept.append(area)
    _ready(f"{_address(area):#x}")


def _pshm_on_usr1(args: list[str]) -> None:
    """NAME: when SIGUSR1 arrives, open NAME and map it (then sleep on)."""

    def map_it(*_: object) -> None:
        fd = posix.shm_open(args[0], os.O_RDWR)
        _kept.append(mmap.mmap(fd, 4096))
        os.close(fd)

    signal.signal(signal.SIGUSR1, map_it)
    _ready()


def _futex_wait(address: int) -> None:
    """Sleep in futex(address, FUTEX_WAIT, 0) (the word must be 0), as a process-shared lock does."""
    import ctypes

    number = {"x86_64": 202, "aarch64": 98}[os.uname().machine]
    libc()["syscall"](number, ctypes.c_void_p(address), 0, 0, None)


def _pshm_futex(args: list[str]) -> None:
    """NAME OFFSET: map the shared memory object NAME, print ready, then sleep on the futex word at OFFSET."""
    fd = posix.shm_open(args[0], os.O_RDWR)
    area = mmap.mmap(fd, 4096)
    os.close(fd)
    _kept.append(area)
    _ready(f"{_address(area):#x}")
    while True:
        _futex_wait(_address(area) + int(args[1], 0))


def _private_futex(_args: list[str]) -> None:
    """Sleep on a lock of its own (a futex in private memory: no IPC)."""
    import threading

    lock = threading.Lock()
    lock.acquire()
    _ready()
    lock.acquire()


def _pmsg_send(args: list[str]) -> None:
    """NAME: mq_open it for writing, print ready, then send until it blocks in mq_send (the queue full)."""
    fd = posix.mq_open(args[0], os.O_WRONLY)
    _ready(str(fd))
    while True:
        posix.mq_send(fd, b"more", 0)


POSIX_COMMANDS = {
    "pshm-futex": _pshm_futex,
    "private-futex": _private_futex,
    "pmsg-send": _pmsg_send,
    "pshm-on-usr1": _pshm_on_usr1,
    "pshm-hold": _pshm_hold,
    "psem-hold": _psem_hold,
    "psem-wait": _psem_wait,
    "pmsg-hold": _pmsg_hold,
    "pmsg-receive": _pmsg_receive,
    "anon-fork": _anon_fork,
    "memfd-map": _memfd_map,
}
