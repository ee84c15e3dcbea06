"""A child process that holds a real IPC object for a test, then waits to be ended.

Run as `python child.py COMMAND ARGS...`.  It prints one line starting with
`ready` once it holds what it was asked to hold (or `error ...`), closes its
stdout (so that the pipe to the test does not linger), and waits for a signal.
Commands that must block (sem-wait, msg-recv) print `ready` just before blocking.
"""

from __future__ import annotations

import os
import signal
import sys

from ipctop.kernel import sysv


def _ready(text: str = "") -> None:
    sys.stdout.write(f"ready {text}\n".rstrip() + "\n")
    sys.stdout.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)


def _wait_forever() -> None:
    while True:
        signal.pause()


def main(argv: list[str]) -> None:
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
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
        print(f"ready {shmid}", flush=True)
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
        print(f"error unknown command {command}", flush=True)
        sys.exit(2)
    _wait_forever()


_kept: list[object] = []  # what the extra commands must keep alive


def _pipe_on_usr1(_args: list[str]) -> None:
    """Open a new pipe (and keep both ends) each time SIGUSR1 arrives."""
    signal.signal(signal.SIGUSR1, lambda *_: _kept.append(os.pipe()))
    _ready()


def _thread_pipe_on_file(args: list[str]) -> None:
    """PATH: a second thread opens a pipe once PATH exists; the main thread never wakes."""
    import threading
    import time

    def watch() -> None:
        while not os.path.exists(args[0]):
            time.sleep(0.02)
        _kept.append(os.pipe())
        time.sleep(1e6)

    threading.Thread(target=watch, daemon=True).start()
    _ready()


def _fork_holder(_args: list[str]) -> None:
    """Fork a child that keeps the fds passed in and waits; print its pid."""
    child = os.fork()
    if child == 0:
        signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
        _wait_forever()
    _ready(str(child))


def _shm_attach_split(args: list[str]) -> None:
    """SHMID: attach it and mprotect its second page read-only: one attach, three mappings."""
    import ctypes

    from ipctop.kernel.libc import libc

    address = sysv.shmat(int(args[0]))
    if libc().mprotect(ctypes.c_void_p(address + 4096), ctypes.c_size_t(4096), 1) != 0:
        print("error mprotect", flush=True)
        sys.exit(1)
    _ready(hex(address))


def _msg_recv_thread(args: list[str]) -> None:
    """MSQID TYPE: a second thread blocks in msgrcv; the main thread waits in pause()."""
    import threading

    threading.Thread(target=lambda: sysv.msgrcv(int(args[0]), int(args[1]), 8192), daemon=True).start()
    _ready()


def _msg_send(args: list[str]) -> None:
    """MSQID TYPE SIZE: send one message of SIZE bytes, blocking in msgsnd while the queue is full."""
    _ready()
    sysv.msgsnd(int(args[0]), int(args[1]), bytes(int(args[2])))


def _read_fd(args: list[str]) -> None:
    """FD: block reading it (a pipe end passed in)."""
    _ready()
    os.read(int(args[0]), 1)


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


EXTRA_COMMANDS = {
    "msg-recv-thread": _msg_recv_thread,
    "msg-send": _msg_send,
    "read-fd": _read_fd,
    "wait-readable": _wait_readable,
    "shm-attach-split": _shm_attach_split,
    "pipe-on-usr1": _pipe_on_usr1,
    "thread-pipe-on-file": _thread_pipe_on_file,
    "fork-holder": _fork_holder,
}


if __name__ == "__main__":
    main(sys.argv[1:])
