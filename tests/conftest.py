"""Fixtures shared by the suite, and the leak guard that fails any test which
leaves behind an IPC object or a process it made."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile

import pytest

from tests.support.holders import Holders
from tests.support.keys import SUITE_KEYS, KeyAllocator
from tests.support.leaks import existing_ids, kill_children, leftover_children, objects_with_keys, remove_object
from tests.support.namespaces import Namespaces, still_running
from tests.support.posix_names import PosixNames

_allocator = SUITE_KEYS
_posix_names = PosixNames(_allocator)
_own_basetemp: list[str] = []  # the temporary directory this run made for tmp_path, if it made one


def pytest_configure(config: pytest.Config) -> None:
    """tmp_path lives in a directory of this run's own, removed when the run passes: the suite leaves
    nothing in /tmp (pytest's default, /tmp/pytest-of-USER, keeps the last three runs)."""
    if config.option.basetemp is None:
        config.option.basetemp = tempfile.mkdtemp(prefix="ipctop-tests-")
        _own_basetemp.append(config.option.basetemp)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    for directory in _own_basetemp:
        if exitstatus == 0:
            shutil.rmtree(directory, ignore_errors=True)
        else:  # kept, for a look at what the failing tests left
            session.config.get_terminal_writer().line(f"temporary files of this run: {directory}")


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
