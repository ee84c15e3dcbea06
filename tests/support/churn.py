"""A process that churns System V attachments as fast as it can, for the exactness tests.

Run as `python churn.py SECONDS SHMID...`: until SECONDS have passed it attaches a
random one of the segments, forks a child that exits at once (a fork copies the
attachment, the exit drops it), and detaches; then it exits.  Every attach,
detach, fork and exit changes the segment's nattch, lpid and times.  It prints
`ready` first, and dies with its parent (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import os
import random
import signal
import sys
import time

from ipctop.kernel import sysv
from ipctop.kernel.libc import libc

PR_SET_PDEATHSIG = 1


def main(argv: list[str]) -> None:
    libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() == 1:
        return  # the parent died before the line above
    seconds, shmids = float(argv[0]), [int(a) for a in argv[1:]]
    print("ready", flush=True)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        address = sysv.shmat(random.choice(shmids))
        child = os.fork()
        if child == 0:
            os._exit(0)
        os.waitpid(child, 0)
        sysv.shmdt(address)


if __name__ == "__main__":
    main(sys.argv[1:])
