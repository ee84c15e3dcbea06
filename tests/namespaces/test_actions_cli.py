"""The action commands with --ns act inside that IPC namespace, checked with ipcs/lsipc run inside it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from tests.namespaces.helpers import ipctop, lsipc_inside
from tests.support.holders import wait_until

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="entering a namespace needs root")


def test_create_send_receive_set_and_chmod_inside_a_namespace(ipc_namespaces):
    member = ipc_namespaces.spawn([{"kind": "sem", "key": 0x49501601, "values": [0, 0]}])
    ns = str(member.pid)
    created = ipctop("msg", "create", "--key", "0x49501602", "--ns", ns, "--json")
    assert created.returncode == 0, created.stderr
    msqid = json.loads(created.stdout)["id"]
    assert [q["key"] for q in lsipc_inside(member.pid, "-q", "KEY")] == ["0x49501602"]
    with open("/proc/sysvipc/msg") as ours:
        assert 0x49501602 not in {int(line.split()[0]) & 0xFFFFFFFF for line in ours.readlines()[1:] if line.split()}

    assert ipctop("msg", "send", str(msqid), "hello", "--type", "3", "--ns", ns).returncode == 0
    (queue,) = lsipc_inside(member.pid, "-q", "MSGS,LSPID")
    assert int(queue["msgs"]) == 1
    received = ipctop("msg", "recv", str(msqid), "--ns", ns, "--json")
    assert json.loads(received.stdout) == {"type": 3, "text": "hello"}

    (semid,) = member.ids
    assert ipctop("sem", "set", str(semid), "1", "7", "--ns", ns).returncode == 0
    assert ipctop("sem", "op", str(semid), "1", "-2", "--ns", ns).returncode == 0
    values = [line.split()[1] for line in subprocess.run(
        ["nsenter", "-t", ns, "-i", "ipcs", "-s", "-i", str(semid)], capture_output=True, text=True).stdout.splitlines()
        if line[:1].isdigit()]
    assert values == ["0", "5"]
    assert ipctop("sem", "rm", str(semid), "--ns", ns).returncode == 0
    assert lsipc_inside(member.pid, "-s", "ID") == []
    assert ipctop("msg", "rm", str(msqid), "--ns", ns).returncode == 0


def test_rm_of_the_same_id_in_two_namespaces_removes_only_the_one_asked_for(ipc_namespaces):
    one = ipc_namespaces.spawn([{"kind": "shm", "key": 0x49501603}])
    two = ipc_namespaces.spawn([{"kind": "shm", "key": 0x49501603}])
    assert one.ids == two.ids
    result = ipctop("shm", "rm", str(one.ids[0]), "--ns", str(one.inode))
    assert result.returncode == 0, result.stderr
    assert lsipc_inside(one.pid, "-m", "ID") == []
    assert [int(s["id"]) for s in lsipc_inside(two.pid, "-m", "ID")] == two.ids


def test_write_and_read_a_segment_inside_a_namespace_through_its_mapper(ipc_namespaces):
    member = ipc_namespaces.spawn([{"kind": "shm", "key": 0x49501604, "size": 4096, "attach": 1}])
    (shmid,) = member.ids
    ns = str(member.pid)
    assert ipctop("shm", "write", str(shmid), "inside!", "--ns", ns).returncode == 0
    (before,) = lsipc_inside(member.pid, "-m", "LPID,NATTCH")
    read = ipctop("shm", "read", str(shmid), "--length", "7", "--raw", "--ns", ns)
    assert read.returncode == 0, read.stderr
    assert read.stdout == "inside!" and "attached" not in read.stderr  # read through the member's mapping
    (after,) = lsipc_inside(member.pid, "-m", "LPID,NATTCH")
    assert after == before  # looking changed nothing


def test_hold_attaches_inside_and_detaches_on_interrupt(ipc_namespaces):
    member = ipc_namespaces.spawn([{"kind": "shm", "key": 0x49501605, "attach": 1}])
    (shmid,) = member.ids
    hold = subprocess.Popen([sys.executable, "-m", "ipctop", "shm", "hold", str(shmid), "--ns", str(member.pid)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = hold.stdout.readline()
        assert line.startswith(f"holding segment {shmid} of ") and f"(IPC namespace {member.inode})" in line
        assert [int(s["nattch"]) for s in lsipc_inside(member.pid, "-m", "NATTCH")] == [2]
        hold.send_signal(signal.SIGINT)
        assert hold.wait(timeout=30) == 0
        wait_until(lambda: [int(s["nattch"]) for s in lsipc_inside(member.pid, "-m", "NATTCH")] == [1], timeout=10)
    finally:
        if hold.poll() is None:
            hold.kill()
            hold.wait()
        hold.stdout.close()
        hold.stderr.close()


def test_refusals_name_the_namespace_in_one_sentence(ipc_namespaces):
    member = ipc_namespaces.spawn([{"kind": "msg", "key": 0x49501606}])
    missing = ipctop("shm", "rm", "77", "--ns", str(member.pid))
    assert missing.returncode == 2
    assert missing.stderr.startswith("ipctop: ID: no segment has id 77 (in ")
    assert missing.stderr.rstrip().endswith(f"(IPC namespace {member.inode}))") and missing.stderr.count("\n") == 1
    nowhere = ipctop("msg", "send", "0", "x", "--ns", "no-such-namespace")
    assert nowhere.returncode == 2 and "--ns: no IPC namespace is named 'no-such-namespace'" in nowhere.stderr
    kill = ipctop("kill", str(member.pid), "--ns", str(member.pid))
    assert kill.returncode == 2 and kill.stderr == "ipctop: --ns does not apply to kill: process ids are the host's\n"
    assert lsipc_inside(member.pid, "-q", "ID") != []  # nothing was done
