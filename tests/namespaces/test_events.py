"""Events of a monitor watching real IPC namespaces: each keyed by its namespace, none confused."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from ipctop.diff import EventKind, diff
from ipctop.history import QueueHistory
from ipctop.kernel import sysv
from ipctop.kernel.ipcns import Target, run_in
from ipctop.snapshot import Scanner
from ipctop.timeline import Timeline
from tests.support.holders import CHILD

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="entering a namespace needs root")


def test_attach_detach_and_removal_in_one_namespace_are_its_own_events(ipc_namespaces):
    key = 0x49501701
    one = ipc_namespaces.spawn([{"kind": "shm", "key": key, "attach": 1}, {"kind": "msg", "key": key + 1}])
    two = ipc_namespaces.spawn([{"kind": "shm", "key": key, "attach": 1}, {"kind": "msg", "key": key + 1}])
    shmid, msqid = one.ids
    assert two.ids == one.ids  # the same ids in both
    scanner, timeline, history = Scanner(), Timeline(), QueueHistory()
    before = scanner.scan()
    timeline.seed(before)
    name = before.namespace(one.inode).name
    # a process that joins namespace one (nsenter -i, in our pid namespace) and attaches its segment
    attacher = subprocess.Popen(["nsenter", "-t", str(one.pid), "-i", sys.executable, CHILD, "shm-attach", str(shmid)],
                                stdout=subprocess.PIPE, text=True)
    try:
        assert attacher.stdout.readline().startswith("ready")
        run_in(Target(one.inode, (one.pid,)), sysv.msgsnd, msqid, 1, b"one")
        after = scanner.scan()
        events = diff(before, after)
        ours = [(e.kind, e.object_kind, e.object_id, e.pid, e.ipc_ns, e.container) for e in events
                if e.ipc_ns in (one.inode, two.inode)]
        assert (EventKind.ATTACHED, "shm", shmid, attacher.pid, one.inode, name) in ours
        assert (EventKind.QUEUE_GREW, "msg", msqid, os.getpid(), one.inode, name) in ours
        assert all(ipc_ns == one.inode for *_, ipc_ns, _name in ours)  # nothing happened in two
        assert not any(e.object_kind in ("shm", "msg") and e.object_id == shmid and not e.ipc_ns for e in events)
        timeline.record(events)
        history.record(before)
        history.record(after)
        assert [entry.what for entry in timeline.lifetime("shm", shmid, one.inode)] == ["first seen", "attached"]
        assert [entry.what for entry in timeline.lifetime("shm", shmid, two.inode)] == ["first seen"]
        assert history.depths(msqid, key + 1, one.inode) == [0, 1]
        assert history.depths(msqid, key + 1, two.inode) == [0, 0]
        label = next(e for e in events if e.kind is EventKind.ATTACHED and e.ipc_ns == one.inode).object_label
        assert label == f"shm {shmid} in {name}"
    finally:
        attacher.send_signal(signal.SIGKILL)
        attacher.wait()
        attacher.stdout.close()
    gone = scanner.scan()
    detached = [e for e in diff(after, gone) if e.kind is EventKind.DETACHED and e.ipc_ns]
    assert [(e.object_id, e.pid, e.ipc_ns) for e in detached] == [(shmid, attacher.pid, one.inode)]
    run_in(Target(two.inode, (two.pid,)), sysv.msg_remove, msqid)
    removed = [e for e in diff(gone, scanner.scan())
               if e.kind is EventKind.REMOVED and e.ipc_ns in (one.inode, two.inode)]
    assert [(e.object_kind, e.object_id, e.ipc_ns) for e in removed] == [("msg", msqid, two.inode)]


def test_a_namespace_that_ends_takes_its_objects_with_it(ipc_namespaces):
    member = ipc_namespaces.spawn([{"kind": "sem", "key": 0x49501703, "values": [1]}])
    scanner = Scanner()
    before = scanner.scan()
    ipc_namespaces.end(member)
    events = diff(before, scanner.scan())
    assert [(e.kind, e.object_kind, e.ipc_ns) for e in events if e.ipc_ns == member.inode] == [
        (EventKind.REMOVED, "sem", member.inode)]
