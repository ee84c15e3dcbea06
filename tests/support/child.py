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
    else:
        print(f"error unknown command {command}", flush=True)
        sys.exit(2)
    _wait_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
