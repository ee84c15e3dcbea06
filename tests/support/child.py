"""A child process that holds a real IPC object for a test, then waits to be ended.

Run as `python child.py COMMAND ARGS...`.  It prints one line starting with
`ready` once it holds what it was asked to hold (or `error ...`) and waits for a
signal.  A helper must be settled when it says it is ready: its fd 1 points at
/dev/null from the start, the line goes through a copy of the pipe to the test
that is closed right after it, and the test reads to the end of that pipe, so
nothing of the report is still open when the test starts looking at the process.
Commands that must block (sem-wait, msg-recv) print `ready` just before blocking.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import sys

from ipctop.kernel import sysv

_report = -1  # the pipe to the test, until the ready line is written


def _settle_stdout() -> None:
    """Keep the pipe to the test on a descriptor of its own and point fd 1 at /dev/null."""
    global _report
    _report = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)


def _ready(text: str = "") -> None:
    """Say ready (once) and close the pipe: the test reads up to its end."""
    global _report
    if _report < 0:
        return
    os.write(_report, (f"ready {text}".rstrip() + "\n").encode())
    os.close(_report)
    _report = -1


_wakeup: socket.socket | None = None  # where the signal module notes each signal as it arrives


def _note_signals() -> None:
    """From the start, have every signal also write a byte to a socket (a socket, not a pipe: the
    tests count the helper's pipes).  A signal that lands just before the helper goes to sleep
    then still wakes it: with pause() alone it would be handled only at the next one."""
    global _wakeup
    _wakeup, writer = socket.socketpair()
    writer.setblocking(False)
    signal.set_wakeup_fd(writer.fileno())
    _kept.append(writer)


def _wait_forever() -> None:
    """Sleep, running the Python handlers of each signal that comes (SIGTERM's exits)."""
    assert _wakeup is not None
    while True:
        select.select([_wakeup], [], [])
        _wakeup.recv(512)


def main(argv: list[str]) -> None:
    _note_signals()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    _settle_stdout()
    command, args = argv[0], argv[1:]
    if command == "hold":  # hold the fds passed in (pipe ends), nothing else
        _ready()
    elif command == "shm-attach":  # SHMID [ro] [times]
        readonly = len(args) > 1 and args[1] == "ro"
        times = int(args[2]) if len(args) > 2 else 1
        addresses = [sysv.shmat(int(args[0]), readonly=readonly) for _ in range(times)]
        _ready(" ".join(hex(a) for a in addresses))
    elif command == "shm-create-exit":  # KEY SIZE: create, write, exit without IPC_RMID
        shmid = sysv.shmget(int(args[0]), int(args[1]), sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600)
        _ready(str(shmid))
        return
    elif command == "sem-wait":  # SEMID INDEX DELTA: block in semop
        _ready()
        sysv.semop(int(args[0]), int(args[1]), int(args[2]))
        _ready("done")
    elif command == "msg-recv":  # MSQID TYPE: block in msgrcv
        _ready()
        sysv.msgrcv(int(args[0]), int(args[1]), 8192)
    elif command == "fifo-open":  # PATH r|w: block in open() until the other side opens
        flags = os.O_RDONLY if args[1] == "r" else os.O_WRONLY
        _ready("opening")
        os.open(args[0], flags)
    elif command in EXTRA_COMMANDS:
        EXTRA_COMMANDS[command](args)
    else:
        os.write(_report, f"error unknown command {command}\n".encode())
        sys.exit(2)
    _wait_forever()


_kept: list[object] = []  # what the extra commands must keep alive


def _pipe_on_usr1(_args: list[str]) -> None:
    """Open a new pipe (and keep both ends) each time SIGUSR1 arrives."""
    signal.signal(signal.SIGUSR1, lambda *_: _kept.append(os.pipe()))
    _ready()


def _write_on_usr1(args: list[str]) -> None:
    """FD: write one byte to FD (a pipe end passed in) each time SIGUSR1 arrives."""
    fd = int(args[0])
    signal.signal(signal.SIGUSR1, lambda *_: os.write(fd, b"x"))
    _ready()


def _move_fd_on_usr1(args: list[str]) -> None:
    """FROM TO: when SIGUSR1 arrives, move fd FROM to fd TO (dup2, then close), as a shell saves its fds."""
    source, target = int(args[0]), int(args[1])

    def move(*_: object) -> None:
        os.dup2(source, target)
        os.close(source)

    signal.signal(signal.SIGUSR1, move)
    _ready()


def _close_on_usr1(args: list[str]) -> None:
    """FD: close fd FD (a pipe end passed in) when SIGUSR1 arrives, and live on."""
    fd = int(args[0])
    signal.signal(signal.SIGUSR1, lambda *_: os.close(fd))
    _ready()


def _thread_pipe(args: list[str]) -> None:
    """PATH or FD: a second thread opens a pipe once PATH exists (it polls: it runs) or once a byte can
    be read from FD (it sleeps until then); the main thread never wakes."""
    import threading
    import time

    def watch() -> None:
        if args[0].isdigit():
            os.read(int(args[0]), 1)
        else:
            while not os.path.exists(args[0]):
                time.sleep(0.02)
        _kept.append(os.pipe())
        time.sleep(1e6)

    threading.Thread(target=watch, daemon=True).start()
    _ready()


def _threads_one_busy(args: list[str]) -> None:
    """N: one thread that never stops running, then N threads that sleep; the main thread sleeps too."""
    import threading
    import time

    def spin() -> None:
        while True:
            pass

    threading.Thread(target=spin, daemon=True).start()
    for _ in range(int(args[0])):
        threading.Thread(target=lambda: time.sleep(1e6), daemon=True).start()
    _ready()


def _unshare_ipc_on_read(args: list[str]) -> None:
    """FD: once a byte can be read from FD, move to an IPC namespace of its own (no fork); then sleep."""
    import ctypes

    _ready()
    os.read(int(args[0]), 1)
    if ctypes.CDLL(None, use_errno=True).unshare(0x08000000) != 0:  # CLONE_NEWIPC
        os._exit(3)
    _wait_forever()


def _fork_holder(_args: list[str]) -> None:
    """Fork a child that keeps the fds passed in and waits; print its pid."""
    child = os.fork()
    if child == 0:
        _note_signals()  # a socket of its own: its parent's signals must wake its parent
        signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
        os.close(_report)  # the parent reports; the test reads until both have closed it
        _wait_forever()
    _ready(str(child))


def _fork_busy_parent(args: list[str]) -> None:
    """FLAG: fork a child that keeps the fds passed in and waits; print its pid, then run every 20 ms
    (a parent that is never quiet) until FLAG exists, and exit."""
    import time

    child = os.fork()
    if child == 0:
        _note_signals()
        signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
        os.close(_report)
        _wait_forever()
    _ready(str(child))
    while not os.path.exists(args[0]):
        time.sleep(0.02)
    os._exit(0)


def _shm_attach_split(args: list[str]) -> None:
    """SHMID: attach it and mprotect its second page read-only: one attach, three mappings."""
    import ctypes

    from ipctop.kernel.libc import libc

    address = sysv.shmat(int(args[0]))
    if libc().mprotect(ctypes.c_void_p(address + 4096), ctypes.c_size_t(4096), 1) != 0:
        print("error mprotect", flush=True)
        sys.exit(1)
    _ready(hex(address))


def _msg_send(args: list[str]) -> None:
    """MSQID TYPE SIZE: send one message of SIZE bytes, blocking in msgsnd while the queue is full."""
    _ready()
    sysv.msgsnd(int(args[0]), int(args[1]), bytes(int(args[2])))


def _read_fd(args: list[str]) -> None:
    """FD: block reading it (a pipe end passed in)."""
    _ready()
    os.read(int(args[0]), 1)


def _read_then_spin(args: list[str]) -> None:
    """FD: block reading it (a pipe end passed in); once a byte came, run without end."""
    _ready()
    os.read(int(args[0]), 1)
    while True:
        pass


def _wait_readable(args: list[str]) -> None:
    """poll|select|epoll FD: block until FD (a pipe end passed in) is readable."""
    import select

    how, fd = args[0], int(args[1])
    if how == "poll":
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        _ready()
        poller.poll()
    elif how == "select":
        _ready()
        select.select([fd], [], [])
    else:
        epoll = select.epoll()
        epoll.register(fd, select.EPOLLIN)
        _kept.append(epoll)
        _ready()
        epoll.poll()


def _blocked_in_a_thread(call) -> None:  # type: ignore[no-untyped-def]
    """Block in `call` on a second thread; the main thread only waits for signals."""
    import threading

    threading.Thread(target=call, daemon=True).start()
    _ready()


def _msg_recv_thread(args: list[str]) -> None:
    """MSQID TYPE: a second thread blocks in msgrcv (as a server's receiving thread does)."""
    _blocked_in_a_thread(lambda: sysv.msgrcv(int(args[0]), int(args[1]), 8192))


def _sem_wait_thread(args: list[str]) -> None:
    """SEMID INDEX DELTA: a second thread blocks in semop."""
    _blocked_in_a_thread(lambda: sysv.semop(int(args[0]), int(args[1]), int(args[2])))


def _sem_create_as(args: list[str]) -> None:
    """KEY UID V1,V2,...: as user UID, create a set and SETALL it (its creator, alive); print its id."""
    uid = int(args[1])
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    values = [int(v) for v in args[2].split(",")]
    semid = sysv.semget(int(args[0]), len(values), sysv.IPC_CREAT | sysv.IPC_EXCL | 0o666)
    sysv.sem_setall(semid, values)
    _ready(str(semid))


def _hostile(args: list[str]) -> None:
    """NAME SHMID FIFO: rename itself (prctl PR_SET_NAME) to NAME, attach SHMID and hold FIFO open."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(15, args[0].encode("utf-8", "surrogateescape"), 0, 0, 0)  # PR_SET_NAME
    _kept.append(sysv.shmat(int(args[1])))
    _kept.append(os.open(args[2], os.O_RDWR))  # a FIFO opened read-write does not wait for a partner
    _ready()


EXTRA_COMMANDS = {
    "hostile": _hostile,
    "sem-create-as": _sem_create_as,
    "msg-recv-thread": _msg_recv_thread,
    "sem-wait-thread": _sem_wait_thread,
    "msg-send": _msg_send,
    "read-fd": _read_fd,
    "read-then-spin": _read_then_spin,
    "wait-readable": _wait_readable,
    "shm-attach-split": _shm_attach_split,
    "pipe-on-usr1": _pipe_on_usr1,
    "write-on-usr1": _write_on_usr1,
    "move-fd-on-usr1": _move_fd_on_usr1,
    "close-on-usr1": _close_on_usr1,
    "thread-pipe-on-file": _thread_pipe,
    "thread-pipe-on-read": _thread_pipe,
    "unshare-ipc-on-read": _unshare_ipc_on_read,
    "threads-one-busy": _threads_one_busy,
    "fork-holder": _fork_holder,
    "fork-busy-parent": _fork_busy_parent,
}


if __name__ == "__main__":
    from posix_child import POSIX_COMMANDS  # a sibling: child.py runs as a script from its directory

    EXTRA_COMMANDS.update(POSIX_COMMANDS)
    main(sys.argv[1:])
