"""Three generations of real processes for the process tree: a top that holds a pipe's end, its child
that has closed it and holds nothing (as a Chromium zygote or a shell between a program and its
workers), and the grandchild that holds the end it inherited."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator

from tests.support.holders import wait_until
from tests.support.shell_children import children_of, descendants

_SCRIPT = """
import os, sys, time
end = int(sys.argv[1])
if os.fork() == 0:
    if os.fork() == 0:
        time.sleep(600)
        os._exit(0)
    os.close(end)
    print(os.getpid(), flush=True)
    quiet = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):  # its pipes to the test too: it holds nothing
        os.dup2(quiet, fd)
    os.wait()
    os._exit(0)
time.sleep(600)
"""


@contextlib.contextmanager
def three_generations() -> Iterator[tuple[int, int, int]]:
    """(top, middle, grandchild), each asleep, the middle holding nothing; all ended by pid after."""
    read_end, write_end = os.pipe()
    top = subprocess.Popen([sys.executable, "-c", _SCRIPT, str(write_end)], pass_fds=(write_end,),
                           stdout=subprocess.PIPE, text=True)
    os.close(write_end)
    try:
        middle = int(top.stdout.readline())  # type: ignore[union-attr]
        grandchild = wait_until(lambda: next(iter(children_of(middle)), None))
        wait_until(lambda: os.readlink(f"/proc/{middle}/fd/2") == os.devnull)
        yield top.pid, middle, grandchild
    finally:
        for pid in reversed(descendants(top.pid)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        top.wait(timeout=10)
        if top.stdout:
            top.stdout.close()
        os.close(read_end)
