"""The suite's last resort against a test that hangs past pytest-timeout: say where, end the run.

pytest-timeout (signal method) fails a test that runs longer than `timeout` by
raising in the main thread, once.  That is not always the end of it: raised out
of an event loop, the exception is followed by asyncio.run's cancelling of every
task, and a shutdown that waits there on what hangs gets no second alarm.  Stop
30's CI sat silent until its own limit (80 minutes on one test, not a line of
output; the test waited on Textual's animator, support/animations.py).  So a
thread watches each test too: if the test is still
running `GRACE` seconds after pytest-timeout's limit, it prints every thread's
Python stack and, from /proc, where each thread and each child waits in the
kernel, ends this run's children (by pid), removes its objects and temporary
directories, and exits the run with status 3.
"""

from __future__ import annotations

import contextlib
import faulthandler
import os
import shutil
import sys
import threading
from collections.abc import Iterator
from typing import TextIO

import pytest

from tests.support.leaks import kill_children, leftover_children, objects_with_keys, remove_object

GRACE = 60.0  # seconds after pytest-timeout's limit: time for a test's own teardown to end
GRACE_VARIABLE = "IPCTOP_TEST_WATCHDOG_GRACE"  # another grace, in seconds (the watchdog's own test)
EXIT_STATUS = 3


def _read(path: str) -> str:
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace").replace("\0", " ").strip()
    except OSError as error:
        return f"({error.strerror})"


def _kernel_side(pid: int) -> str:
    """Where a process's threads are in the kernel: state, wchan and the system call (its number first)."""
    lines = []
    for task in sorted(os.listdir(f"/proc/{pid}/task"), key=int) if os.path.isdir(f"/proc/{pid}/task") else []:
        base = f"/proc/{pid}/task/{task}"
        stat = _read(f"{base}/stat")
        comm, _, rest = stat.rpartition(")")
        state = rest.split()[0] if rest.split() else "?"
        lines.append(f"  {pid}/{task} {comm.partition('(')[2]!r} state {state} wchan {_read(f'{base}/wchan')!r}"
                     f" syscall {_read(f'{base}/syscall')!r}")
    return "\n".join(lines)


def _fire(nodeid: str, limit: float, capture: object, basetemp: str | None) -> None:
    with contextlib.suppress(Exception):
        capture.suspend_global_capture(in_=True)  # type: ignore[attr-defined]
    out = sys.__stderr__ or sys.stderr
    out.write(f"\n!!! {nodeid} still runs {limit:g} s after it began (pytest-timeout did not end it):"
              " every thread's stack, where each waits in the kernel, then the run ends\n")
    out.flush()
    faulthandler.dump_traceback(file=out, all_threads=True)
    children = leftover_children()
    out.write(_kernel_side(os.getpid()) + "\n")
    for child in children:
        out.write(f"  child {child.pid}: {_read(f'/proc/{child.pid}/cmdline')[:120]!r}\n{_kernel_side(child.pid)}\n")
    out.flush()
    kill_children(children)
    with contextlib.suppress(Exception):
        _remove_objects(out)
    _remove_directories(basetemp)
    os._exit(EXIT_STATUS)


def _remove_directories(basetemp: str | None) -> None:
    """What the run's sessionfinish would remove: its tmp_path directory (conftest.py) and the one
    pytest-textual-snapshot keeps its pictures in."""
    run_directory = os.path.dirname(basetemp) if basetemp else ""
    if os.path.basename(run_directory).startswith("ipctop-tests-"):
        shutil.rmtree(run_directory, ignore_errors=True)
    snapshots = os.environ.get("TEXTUAL_SNAPSHOT_TEMPDIR")
    if snapshots:
        shutil.rmtree(snapshots, ignore_errors=True)


def _remove_objects(out: TextIO) -> None:
    """The run's System V and POSIX objects, as the leak guard would remove them after the test."""
    from tests.support.keys import SUITE_KEYS
    from tests.support.posix_names import PosixNames

    for kind, ident, key in objects_with_keys(SUITE_KEYS.take_test_keys()):
        out.write(f"  removed {kind} {ident} (key {key:#010x})\n")
        remove_object(kind, ident)
    for name in PosixNames(SUITE_KEYS).leftovers():
        out.write(f"  removed {name}\n")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    mark = item.get_closest_marker("timeout")  # a test's own limit, as pytest-timeout reads it
    timeout = float((mark.args[0] if mark.args else mark.kwargs.get("timeout", 0)) if mark is not None
                    else item.config.getini("timeout") or 0)
    if timeout <= 0:
        yield
        return
    limit = timeout + float(os.environ.get(GRACE_VARIABLE) or GRACE)
    capture = item.config.pluginmanager.getplugin("capturemanager")
    watcher = threading.Timer(limit, _fire, args=(item.nodeid, limit, capture, item.config.option.basetemp))
    watcher.daemon = True
    watcher.name = "ipctop-test-watchdog"
    watcher.start()
    try:
        yield
    finally:
        watcher.cancel()
