"""Fixtures shared by the suite, and the leak guard that fails any test which
leaves behind an IPC object or a process it made."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile

import pytest

from tests.support import undertaker
from tests.support.holders import Holders
from tests.support.keys import SUITE_KEYS, KeyAllocator
from tests.support.leaks import existing_ids, kill_children, leftover_children, objects_with_keys, remove_object
from tests.support.namespaces import Namespaces, still_running
from tests.support.posix_names import PosixNames
from tests.support.scratch import SCRATCH_VARIABLE

pytest_plugins = ["tests.support.watchdog", "tests.support.animations", "tests.support.notifications"]

_allocator = SUITE_KEYS
_posix_names = PosixNames(_allocator)
_own_basetemp: list[str] = []  # the temporary directory this run made for tmp_path, if it made one


KEEP_FILES = "IPCTOP_KEEP_TEST_FILES"  # set it to keep a failing run's temporary files for a look (until the next run)


def _sweep_dead_runs() -> None:
    """Remove the temporary directories of earlier runs whose pytest is gone (killed before it could)."""
    for name in os.listdir(tempfile.gettempdir()):
        directory = os.path.join(tempfile.gettempdir(), name)
        if not name.startswith("ipctop-tests-"):
            continue
        try:
            with open(os.path.join(directory, ".owner")) as f:
                pid, started = f.read().split()
        except (OSError, ValueError):
            continue  # not one this scheme made: left alone
        if undertaker.start_time(int(pid)) != started:
            shutil.rmtree(directory, ignore_errors=True)


def pytest_configure(config: pytest.Config) -> None:
    """tmp_path lives in a directory of this run's own, removed when the run ends, passed or failed
    (pytest's default, /tmp/pytest-of-USER, keeps the last three runs); a run killed before it could
    remove it has it removed by the next run, which knows it by the pid and start time it records."""
    if config.option.basetemp is None:
        _sweep_dead_runs()
        run_directory = tempfile.mkdtemp(prefix="ipctop-tests-")
        with open(os.path.join(run_directory, ".owner"), "w") as f:
            f.write(f"{os.getpid()} {undertaker.start_time(os.getpid())}\n")
        _own_basetemp.append(run_directory)
        # a directory inside: pytest empties a given basetemp before its first use
        config.option.basetemp = os.path.join(run_directory, "tmp")
        scratch = os.path.join(run_directory, "scratch")  # the tests' other temporary files (support/scratch.py)
        os.mkdir(scratch, 0o700)
        os.environ[SCRATCH_VARIABLE] = scratch
    _interrupt_on_sigterm()
    undertaker.start(_allocator.slot_index, _own_basetemp[0] if _own_basetemp else "")  # for a SIGKILL


def _interrupt_on_sigterm() -> None:
    """SIGTERM (a CI job's time limit, a `kill`) ends the run as Ctrl-C does: the test in progress
    and the session are torn down, so its processes, objects and files are removed there and then
    (by default Python dies at once, and what the run made waits for the next run's sweep). A child
    the run forked without exec inherits this handler; there SIGTERM does what it did before."""
    run = os.getpid()

    def interrupted(signum: int, frame: object) -> None:
        if os.getpid() != run:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        raise KeyboardInterrupt("SIGTERM")

    signal.signal(signal.SIGTERM, interrupted)


@pytest.hookimpl(hookwrapper=True)
def pytest_sessionstart(session: pytest.Session):  # type: ignore[no-untyped-def]
    """Plugins make their temporary directories when the session starts (pytest-textual-snapshot makes one
    with a bare mkdtemp): inside the run's directory, they go with it even when the run is killed."""
    before = tempfile.tempdir
    if _own_basetemp:
        tempfile.tempdir = os.environ[SCRATCH_VARIABLE]
    try:
        yield
    finally:
        tempfile.tempdir = before


@pytest.hookimpl(trylast=True)  # after the plugins' own, which may still read their directories in it
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    for directory in _own_basetemp:
        if exitstatus != 0 and os.environ.get(KEEP_FILES):
            session.config.get_terminal_writer().line(f"temporary files of this run kept: {directory}")
        else:
            shutil.rmtree(directory, ignore_errors=True)


_registered: dict[str, set[int]] = {"shm": set(), "msg": set(), "sem": set()}
# (pid, start time) of the processes tests put in IPC namespaces of their own: their objects go with the last of them
_namespace_members: set[tuple[int, int]] = set()


@pytest.fixture
def ipc_key() -> KeyAllocator:
    """Call it to get a fresh key from the test range that nothing uses."""
    return _allocator


@pytest.fixture
def posix_name() -> PosixNames:
    """Call it to get a fresh POSIX name (`/ipctop-test-sN-…`) of this suite's own range."""
    return _posix_names


@pytest.fixture
def register_ipc():
    """register_ipc(kind, id): an IPC_PRIVATE object the test made, for the leak guard."""

    def register(kind: str, ident: int) -> int:
        _registered[kind].add(ident)
        return ident

    return register


@pytest.fixture
def holders():
    group = Holders()
    yield group
    group.close()


@pytest.fixture
def ipc_namespaces():
    """Members of new IPC namespaces holding real objects (tests/support/namespaces.py), all ended after the test."""
    group = Namespaces(_namespace_members)
    yield group
    group.close()


@pytest.fixture(autouse=True)
def leak_guard(request):
    yield
    problems = []
    children = leftover_children()
    if children:
        problems.append("processes " + ", ".join(f"{c.pid}" for c in children))
        kill_children(children)
    left = objects_with_keys(_allocator.take_test_keys())
    for kind, ident, key in left:
        problems.append(f"{kind} {ident} (key {key:#010x})")
        remove_object(kind, ident)
    problems += _posix_names.leftovers()
    for kind, ids in _registered.items():
        for ident in existing_ids(kind, ids):
            problems.append(f"{kind} {ident} (private)")
            remove_object(kind, ident)
        ids.clear()
    if _namespace_members:
        for pid in sorted(still_running(_namespace_members)):
            problems.append(f"process {pid} in an IPC namespace of the test's (and with it the namespace's objects)")
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        _namespace_members.clear()
    if problems:
        pytest.fail(f"{request.node.nodeid} left behind: {'; '.join(problems)}", pytrace=False)
