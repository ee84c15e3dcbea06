"""What a test run killed with SIGKILL leaves behind, removed the moment it dies.

A run that ends (passed, failed, Ctrl-C, SIGTERM: tests/conftest.py) removes what it
made itself.  A run killed with SIGKILL cannot: its holder children, shells, tmux and
Prometheus servers would sleep on for good (orphans, adopted by init), its objects
would wait until a later run takes the same key slot, and its files until a later run
sweeps them.  So each run starts an undertaker: a process of its own session (a
Ctrl-C or a kill of the run's process group does not reach it) that waits for the
run's death on a pidfd, and then

- ends, by pid, every process whose environment carries the run's mark (MARK_VARIABLE:
  the run's pid and start time, inherited by every process the run starts unless a
  test hands one a whole new environment), again until none is left;
- takes the run's key slot back (tests/support/keys.py) and removes the System V
  objects with keys of that slot and the POSIX objects named in it, as the leak guard
  would (objects made with IPC_PRIVATE it cannot know);
- removes the run's directory (/tmp/ipctop-tests-…), if its `.owner` names the run.

After a run that ended on its own it finds nothing, and exits.  It never touches a
process without the mark, an object outside the slot, or a directory another run owns.

Run as `python undertaker.py MARK SLOT RUN_DIRECTORY` (RUN_DIRECTORY may be empty).
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import sys
import time

MARK_VARIABLE = "IPCTOP_TEST_RUN"  # "PID:START" of the run that started a process
ROUNDS = 50  # of finding and killing the marked processes (one may fork while the others are killed)


def start_time(pid: int) -> str | None:
    """Field 22 of /proc/PID/stat (clock ticks since boot): with the pid, names one process for good."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[19].decode()
    except (OSError, IndexError):
        return None


def start(slot: int, run_directory: str) -> None:
    """Mark this process's environment as the run's and start its undertaker. Call once, before the run
    starts any process. The undertaker is not the run's child (forked twice): the leak guard, which ends
    every child a test leaves, never sees it."""
    mark = f"{os.getpid()}:{start_time(os.getpid())}"
    environment = {name: value for name, value in os.environ.items() if name != MARK_VARIABLE}
    argv = [sys.executable, os.path.abspath(__file__), mark, str(slot), run_directory]
    os.environ[MARK_VARIABLE] = mark
    middle = os.fork()
    if middle == 0:
        try:
            os.setsid()  # a Ctrl-C or a kill of the run's process group does not reach it
            if os.fork() == 0:
                devnull = os.open(os.devnull, os.O_RDWR)
                for fd in (0, 1, 2):
                    os.dup2(devnull, fd)
                os.execve(sys.executable, argv, environment)
        finally:
            os._exit(0)
    os.waitpid(middle, 0)


def _marked(mark: bytes) -> list[int]:
    """Every process but this one whose environment carries `mark`."""
    entry = b"\0" + MARK_VARIABLE.encode() + b"=" + mark + b"\0"
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as f:
                environment = b"\0" + f.read()
        except OSError:
            continue
        if entry in environment or environment.endswith(entry[:-1]):
            found.append(int(name))
    return found


def _end_marked(mark: bytes) -> None:
    for _ in range(ROUNDS):
        pids = _marked(mark)
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.05)


def _remove_objects(slot: int) -> None:
    from tests.support.keys import KeyAllocator, claim_slot
    from tests.support.leaks import objects_with_keys, remove_object
    from tests.support.posix_names import PosixNames

    claim = claim_slot(slot)
    if claim is None:
        return  # another run took the slot already: its objects are its own now
    keys = KeyAllocator(slot, claim)
    for kind, ident, _key in objects_with_keys(set(keys.slot)):
        remove_object(kind, ident)
    PosixNames(keys).leftovers()
    claim.close()


def _remove_directory(run_directory: str, mark: str) -> None:
    if not run_directory:
        return
    try:
        with open(os.path.join(run_directory, ".owner")) as f:
            owner = ":".join(f.read().split())
    except OSError:
        return  # removed by the run itself, or not one this scheme made
    if owner == mark:
        shutil.rmtree(run_directory, ignore_errors=True)


def _wait_for_death(pid: int, started: str) -> None:
    try:
        pidfd = os.pidfd_open(pid)
    except OSError:
        pidfd = None
    if start_time(pid) != started:  # gone already (or the pid is another process's now)
        return
    if pidfd is not None:
        select.select([pidfd], [], [])
        return
    while start_time(pid) == started:  # no pidfd (before Linux 5.3): look once a second
        time.sleep(1)


def main(argv: list[str]) -> None:
    mark, slot, run_directory = argv
    for signum in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)  # it ends by itself, once the run is gone and swept
    pid, started = mark.split(":")
    _wait_for_death(int(pid), started)
    _end_marked(mark.encode())
    with contextlib.suppress(Exception):  # a System V or POSIX call that fails leaves the rest to do
        _remove_objects(int(slot))
    _remove_directory(run_directory, mark)


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    main(sys.argv[1:])
