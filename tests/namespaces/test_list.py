"""`ipctop list` on a machine with real IPC namespaces: tables, JSON and --ns, against lsipc run inside."""

from __future__ import annotations

import contextlib
import io
import json
import os

import pytest

from ipctop.cli.main import main
from ipctop.namespace_scan import NOT_ROOT_NOTE
from tests.namespaces.helpers import ipctop, lsipc_inside
from tests.support.unprivileged import run_as_nobody

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="entering a namespace needs root")


def listed(*args: str) -> dict:
    result = ipctop("list", "--json", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_json_lists_every_namespaces_objects_with_their_namespace(ipc_namespaces):
    key = 0x49501501
    one = ipc_namespaces.spawn([{"kind": "shm", "key": key, "size": 4096, "attach": 1},
                                {"kind": "msg", "key": key + 1, "messages": [[1, "x"]]}])
    two = ipc_namespaces.spawn([{"kind": "shm", "key": key, "size": 8192, "attach": 1, "forks": 1},
                                {"kind": "sem", "key": key + 2, "values": [3]}])
    data = listed()
    names = {ns["inode"]: ns for ns in data["namespaces"]}
    assert names[one.inode]["objects"] == {"shm": 1, "msg": 1, "sem": 0} and not names[one.inode]["own"]
    assert names[two.inode]["processes"] == 2 and names[two.inode]["limits"]["shmmni"] > 0
    assert data["namespaces"][0]["own"] and data["namespaces"][0]["name"] == "host"
    segments = {(s["ipc_ns"], s["shmid"]): s for s in data["shm"] if s["key"] == key}
    assert set(segments) == {(one.inode, one.ids[0]), (two.inode, two.ids[0])} and one.ids[0] == two.ids[0]
    for member, size in ((one, 4096), (two, 8192)):
        segment = segments[(member.inode, member.ids[0])]
        (inside,) = lsipc_inside(member.pid, "-m", "KEY,ID,SIZE,NATTCH,CPID")
        assert (segment["size"], segment["nattch"], segment["cpid"]) == (
            size, int(inside["nattch"]), int(inside["cpid"]))
        assert segment["container"] == names[member.inode]["name"]
        assert sorted(a["pid"] for a in segment["attachers"]) == sorted([member.pid, *member.children])
    (queue,) = [q for q in data["msg"] if q["ipc_ns"] == one.inode]
    assert (queue["qnum"], queue["lspid"]) == (1, one.pid)
    (sem_set,) = [s for s in data["sem"] if s["ipc_ns"] == two.inode]
    assert sem_set["values"] == [3]


def test_ns_selects_a_namespace_by_pid_inode_or_name(ipc_namespaces):
    member = ipc_namespaces.spawn([{"kind": "shm", "key": 0x49501504}, {"kind": "msg", "key": 0x49501505}])
    by_pid = listed("--ns", str(member.pid))
    assert [ns["inode"] for ns in by_pid["namespaces"]] == [member.inode]
    assert {(s["ipc_ns"], s["key"]) for s in by_pid["shm"]} == {(member.inode, 0x49501504)}
    assert [p["pid"] for p in by_pid["processes"]] == [member.pid]
    name = by_pid["namespaces"][0]["name"]
    assert listed("--ns", str(member.inode))["shm"] == listed("--ns", name)["shm"] == by_pid["shm"]
    host = listed("--ns", "host")
    assert all(s["ipc_ns"] != member.inode for s in host["shm"]) and host["namespaces"][0]["own"]


def test_tables_name_each_objects_namespace(ipc_namespaces):
    member = ipc_namespaces.spawn([{"kind": "shm", "key": 0x49501506, "size": 12288}])
    result = ipctop("list", "--type", "shm")
    assert result.returncode == 0, result.stderr
    name = listed("--ns", str(member.pid))["namespaces"][0]["name"]
    line = next(line for line in result.stdout.splitlines() if line.startswith("0x49501506"))
    assert line.split()[1:3] == [str(member.ids[0]), name] and "12K" in line
    assert "IPC namespaces (" in result.stdout and f"{member.inode}" in result.stdout


def test_bad_ns_gets_one_sentence(ipc_namespaces):
    result = ipctop("list", "--ns", "no-such-container")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("ipctop: --ns: no IPC namespace is named 'no-such-container'")
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.unprivileged
def test_as_nobody_list_says_other_namespaces_are_not_shown(ipc_namespaces):
    member = ipc_namespaces.spawn([{"kind": "shm", "key": 0x49501507}])

    def run(*argv: str) -> dict:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["list", *argv])
        return {"code": code, "out": out.getvalue(), "err": err.getvalue()}

    plain = run_as_nobody(lambda: run("--type", "shm"))
    # its own line among the notes after the table (others may follow: a process of nobody's on the machine
    # whose system calls cannot be read, say)
    assert plain["code"] == 0 and NOT_ROOT_NOTE in plain["out"].splitlines()
    assert "0x49501507" not in plain["out"] and "NAMESPACE" not in plain["out"]
    other = run_as_nobody(lambda: run("--ns", str(member.pid)))
    assert other["code"] == 2 and other["err"] == f"ipctop: --ns: {NOT_ROOT_NOTE}\n"
