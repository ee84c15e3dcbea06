"""Naming real namespaces after their container: members put in made-up container cgroups."""

from __future__ import annotations

import os

import pytest

from ipctop.collectors import namespaces
from ipctop.collectors.procfs import ProcFS
from tests.support.cgroups import Cgroups

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to make namespaces and cgroups")

PROC = ProcFS()
ID = "3f2a1b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708"
ID2 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"


@pytest.fixture
def cgroups():
    made = Cgroups()
    yield made
    made.close()


def named() -> dict[int, namespaces.NamespaceInfo]:
    discovery = namespaces.discover(PROC, PROC.pids(), os.readlink("/proc/self/ns/ipc"))
    return {info.inode: info for info in namespaces.name_namespaces(PROC, discovery)}


def test_a_namespace_in_a_docker_scope_is_named_after_the_container(cgroups, ipc_namespaces):
    scope = cgroups.make("cgroup2", f"system.slice/docker-{ID}.scope")
    if scope is None:
        pytest.skip("no writable cgroup v2 hierarchy here")
    member = ipc_namespaces.spawn([{"kind": "shm", "key": 0x49501101}], pid_namespace=True)
    cgroups.move(scope, member.pid)
    info = named()[member.inode]
    assert (info.name, info.kind, info.container_id) == ("docker:3f2a1b4c5d6e", "docker", ID)
    assert info.cgroup.endswith(f"/system.slice/docker-{ID}.scope")
    # unshare itself joined the namespace before it forked the container's first process
    assert info.members == (member.popen.pid, member.pid) and info.leader == member.popen.pid


def test_the_container_is_recognised_from_a_member_other_than_the_leader(cgroups, ipc_namespaces):
    scope = cgroups.make("cgroup2", f"machine.slice/libpod-{ID}.scope/container")
    if scope is None:
        pytest.skip("no writable cgroup v2 hierarchy here")
    member = ipc_namespaces.spawn([{"kind": "shm", "key": 0x49501102, "attach": 1, "forks": 1}])
    (child,) = member.children
    cgroups.move(scope, child)  # as after `podman exec`: the leader stays where it was
    info = named()[member.inode]
    assert info.members == (member.pid, child)
    assert (info.name, info.kind, info.leader) == ("podman:3f2a1b4c5d6e", "podman", member.pid)


def test_a_cgroupfs_docker_layout_in_a_v1_hierarchy_is_recognised(cgroups, ipc_namespaces):
    directory = cgroups.make("name=systemd", f"docker/{ID2}")
    if directory is None:
        pytest.skip("no writable cgroup v1 name=systemd hierarchy here")
    member = ipc_namespaces.spawn([{"kind": "msg", "key": 0x49501103}])
    cgroups.move(directory, member.pid)
    assert named()[member.inode].name == "docker:0123456789ab"


def test_namespaces_in_one_plain_cgroup_are_named_after_it_and_told_apart_by_leader(cgroups, ipc_namespaces):
    service = cgroups.make("cgroup2", "system.slice/jobs.service")
    if service is None:
        pytest.skip("no writable cgroup v2 hierarchy here")
    one = ipc_namespaces.spawn([{"kind": "msg", "key": 0x49501104}])
    two = ipc_namespaces.spawn([{"kind": "msg", "key": 0x49501105}])
    cgroups.move(service, one.pid)
    cgroups.move(service, two.pid)
    found = named()
    assert {found[one.inode].name, found[two.inode].name} == {f"jobs.service[{one.pid}]", f"jobs.service[{two.pid}]"}
    assert found[one.inode].kind == "cgroup"


def test_a_namespace_in_ipctops_own_cgroup_is_named_after_its_leaders_command(ipc_namespaces):
    member = ipc_namespaces.spawn([{"kind": "msg", "key": 0x49501106}])
    with open(f"/proc/{member.pid}/comm") as f:
        assert named()[member.inode].name == f"{f.read().strip()}[{member.pid}]"
