"""As a user who is not root: other namespaces can be neither found nor entered, and that is said."""

from __future__ import annotations

import os

import pytest

from ipctop.collectors import namespaces
from ipctop.collectors.procfs import ProcFS
from ipctop.kernel.ipcns import Target, Unenterable, may_enter
from tests.support.unprivileged import run_as_nobody

pytestmark = [
    pytest.mark.unprivileged,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root to make a namespace and drop to nobody"),
]


def test_nobody_finds_only_its_own_namespace_and_cannot_enter_another(ipc_namespaces):
    member = ipc_namespaces.spawn([{"kind": "shm", "key": 0x49501201, "attach": 1}])
    target = Target(member.inode, (member.pid,))

    def look() -> dict:
        proc = ProcFS()
        discovery = namespaces.discover(proc, proc.pids(), os.readlink("/proc/self/ns/ipc"))
        found = namespaces.read_namespaces(proc, [target])[member.inode]
        return {
            "inodes": sorted(discovery.members),
            "own": discovery.own,
            "member_seen": member.pid in discovery.namespace_of,
            "unreadable": discovery.unreadable,
            "may_enter": may_enter(),
            "refusal": str(found) if isinstance(found, Unenterable) else None,
        }

    seen = run_as_nobody(look)
    assert seen["inodes"] == [seen["own"]] and not seen["member_seen"]
    assert seen["unreadable"] > 0 and seen["may_enter"] is False
    assert seen["refusal"] == (f"IPC namespace {member.inode} cannot be entered: reading its processes' "
                               "namespace is not allowed (needs root)")
    assert may_enter()  # root may
