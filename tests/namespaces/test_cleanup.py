"""Cleanup on a machine with real IPC namespaces: leaks judged and removed inside their own namespace."""

from __future__ import annotations

import os
import signal

import pytest

from ipctop.cleanup import LeakFilters, find_leaks, remove_candidates
from ipctop.cleanup.backup import read_backup
from ipctop.kernel import sysv
from ipctop.kernel.ipcns import Target, run_in
from ipctop.snapshot import take_snapshot
from tests.namespaces.helpers import ipctop, lsipc_inside

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="entering a namespace needs root")


def leaked_in_a_namespace(ipc_namespaces, key: int):  # type: ignore[no-untyped-def]
    """A namespace whose segment's creator has exited (never attached), kept alive by its child."""
    member = ipc_namespaces.spawn([{"kind": "shm", "key": key, "forks": 1}])
    os.kill(member.pid, signal.SIGKILL)
    member.popen.wait()
    return member


def test_a_leak_inside_a_namespace_is_found_and_removed_there_and_nowhere_else(ipc_namespaces, tmp_path):
    key = 0x49501801
    leaky = leaked_in_a_namespace(ipc_namespaces, key)
    (child,) = leaky.children
    used = ipc_namespaces.spawn([{"kind": "shm", "key": key, "attach": 1}])  # same shmid and key, in use
    assert used.ids == leaky.ids
    snapshot = take_snapshot()
    name = snapshot.namespace(leaky.inode).name
    candidates = [c for c in find_leaks(snapshot, LeakFilters(grace=0)) if c.key == key]  # no grace period
    assert [(c.id, c.ipc_ns, c.container, c.removable) for c in candidates] == [
        (leaky.ids[0], leaky.inode, name, True)]
    assert candidates[0].label == f"shm {leaky.ids[0]} (key {key:#010x}) in {name}"
    assert f"creator pid {leaky.pid} has exited" in candidates[0].reason

    dry = ipctop("clean", "--key", hex(key), "--older-than", "0s")
    line = next(line for line in dry.stdout.splitlines() if line.startswith("shm"))
    assert line.split()[1:3] == [str(leaky.ids[0]), name] and "remove" in line

    (result,) = remove_candidates(candidates, tmp_path)
    assert result.outcome == "removed", result.message
    assert result.message.startswith(f"removed shm {leaky.ids[0]} (key {key:#010x}) in {name}: ")
    assert lsipc_inside(child, "-m", "ID") == []  # gone inside its namespace
    assert [int(s["nattch"]) for s in lsipc_inside(used.pid, "-m", "NATTCH")] == [1]  # the other is untouched
    backup = read_backup(result.backup_path)
    assert (backup.key, backup.namespace) == (key, name)
    taken = ipctop("restore", result.backup_path, "--ns", str(used.pid))
    assert taken.returncode == 1 and "exists (id" in taken.stderr  # that namespace has the key: refused
    restored = ipctop("restore", result.backup_path, "--ns", str(child))
    assert restored.returncode == 0, restored.stderr
    assert restored.stdout.startswith(f"restored shm key {key:#010x} from ") and f"(IPC namespace {leaky.inode})" in (
        restored.stdout)
    assert [s["key"] for s in lsipc_inside(child, "-m", "KEY")] == [f"{key:#010x}"]


def test_clean_yes_with_ns_removes_only_in_that_namespace(ipc_namespaces):
    key = 0x49501802
    one = leaked_in_a_namespace(ipc_namespaces, key)
    two = leaked_in_a_namespace(ipc_namespaces, key)
    result = ipctop("clean", "--yes", "--key", hex(key), "--ns", str(one.children[0]), "--older-than", "0s")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("removed shm") == 1 and "1 removed" in result.stdout
    assert lsipc_inside(one.children[0], "-m", "ID") == []
    assert len(lsipc_inside(two.children[0], "-m", "ID")) == 1


def test_a_creator_alive_in_another_namespace_keeps_the_object(ipc_namespaces):
    """ipctop (or any program) may act in a namespace through a thread of its own: the process that
    made an object there is then alive outside it, and its object is not taken for a leak."""
    member = ipc_namespaces.spawn([{"kind": "msg", "key": 0x49501803}])
    target = Target(member.inode, (member.pid,))
    shmid = run_in(target, sysv.shmget, 0x49501804, 4096, sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600)
    (segment,) = [s for s in take_snapshot().namespace(member.inode).shm.values() if s.shmid == shmid]
    assert segment.cpid == os.getpid()
    assert not [c for c in find_leaks(take_snapshot(), LeakFilters(grace=0)) if c.key == 0x49501804]


def test_a_candidate_whose_namespace_ended_is_skipped_and_says_why(ipc_namespaces):
    key = 0x49501805
    leaky = leaked_in_a_namespace(ipc_namespaces, key)
    candidates = [c for c in find_leaks(take_snapshot(), LeakFilters(grace=0)) if c.key == key]
    ipc_namespaces.end(leaky)
    (result,) = remove_candidates(candidates)
    assert result.outcome == "skipped"
    assert result.message.endswith(": its processes have all exited (and its objects with it)")
