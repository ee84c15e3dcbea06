"""The exporter on a machine with real IPC namespaces: every object's series labelled with its namespace."""

from __future__ import annotations

import os
import signal

import pytest

from ipctop.exporter.collector import IpcCollector
from tests.exporter.helpers import exposition, find, parse, value

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="entering a namespace needs root")


def test_objects_of_other_namespaces_are_labelled_with_theirs(ipc_namespaces):
    key = 0x49501901
    web = ipc_namespaces.spawn([{"kind": "shm", "key": key, "size": 8192, "attach": 1},
                                {"kind": "msg", "key": key + 1, "messages": [[1, "abc"], [2, "de"]]}])
    db = ipc_namespaces.spawn([{"kind": "shm", "key": key, "size": 4096, "attach": 1, "forks": 1}])
    samples = parse(exposition(IpcCollector(max_series=100_000, leak_grace=0)))
    (shmid,) = {web.ids[0], db.ids[0]}  # one id, two segments
    sizes = {labels["namespace"]: (labels["container"], size)
             for _, labels, size in find(samples, "ipctop_shm_size_bytes", shmid=str(shmid), key=f"{key:#010x}")}
    assert set(sizes) == {web.link, db.link}
    assert sizes[web.link][1] == 8192 and sizes[db.link][1] == 4096
    web_name, db_name = sizes[web.link][0], sizes[db.link][0]
    assert value(samples, "ipctop_shm_attached_processes", namespace=db.link, shmid=str(shmid)) == 2
    assert value(samples, "ipctop_msgq_messages", namespace=web.link, container=web_name) == 2
    assert value(samples, "ipctop_objects", kind="shm", container=db_name) == 1
    assert value(samples, "ipctop_objects", kind="msg", container=db_name) == 0 or not find(
        samples, "ipctop_objects", kind="msg", container=db_name)
    host = find(samples, "ipctop_objects", kind="shm", container="host")
    assert len(host) == 1 and host[0][1]["namespace"] == os.readlink("/proc/self/ns/ipc")
    assert all("namespace" not in s[1] for s in find(samples, "ipctop_limit_objects"))


def test_ns_exports_only_that_namespace_and_its_leaks(ipc_namespaces):
    key = 0x49501903
    leaky = ipc_namespaces.spawn([{"kind": "shm", "key": key, "size": 4096, "forks": 1}])
    os.kill(leaky.pid, signal.SIGKILL)  # its creator gone, never attached: leaked, its child keeps the namespace
    leaky.popen.wait()
    samples = parse(exposition(IpcCollector(max_series=100_000, leak_grace=0, namespaces=str(leaky.children[0]))))
    sysv_kinds = ("shm", "msg", "sem")  # pipes are in no IPC namespace: they count in ipctop's own
    assert {s[1]["namespace"] for s in find(samples, "ipctop_objects") if s[2] and s[1]["kind"] in sysv_kinds} == {
        leaky.link}
    assert [s[1]["shmid"] for s in find(samples, "ipctop_shm_size_bytes")] == [str(leaky.ids[0])]
    assert value(samples, "ipctop_leaked_objects", kind="shm", namespace=leaky.link) == 1
    (idle,) = find(samples, "ipctop_leaked_object_idle_seconds")
    assert (idle[1]["id"], idle[1]["key"], idle[1]["namespace"]) == (str(leaky.ids[0]), f"{key:#010x}", leaky.link)
