"""The POSIX demos, checked against /dev/shm, the processes' fds and maps, and what ipctop's snapshot says."""

from __future__ import annotations

import errno
import os
import re

from ipctop.demos import DemoRun
from ipctop.kernel import posix
from ipctop.snapshot import take_snapshot
from tests.demos.helpers import run_demo, wchan


def _one(run: DemoRun, kind: str) -> str:
    (name,) = run.current.posix_names(kind)
    return name


def _shm_holders(name: str, unlinked: bool = False) -> set[tuple[int, bool]]:
    """(pid, mapped) of each holder of the shared memory object `name`, as the snapshot says."""
    found = [o for o in take_snapshot().pshm.values() if o.name == name and o.unlinked == unlinked]
    assert len(found) == 1, found
    return {(h.pid, h.fd is None) for h in found[0].holders}


def test_posix_shm_name_goes_at_unlink_and_memory_at_the_last_munmap():
    seen = {}

    def both_map_it(run: DemoRun) -> None:
        name = _one(run, "pshm")
        reader = run.made.pid_of("reader")
        seen["name"] = name
        seen["inode"] = os.stat(posix.shm_path(name)).st_ino
        assert {(run.pid, True), (reader, True)} <= _shm_holders(name)

    def unlinked_but_held(run: DemoRun) -> None:
        name, reader = seen["name"], run.made.pid_of("reader")
        assert not os.path.exists(posix.shm_path(name))
        assert {(run.pid, True), (reader, True)} <= _shm_holders(name, unlinked=True)
        with open(f"/proc/{reader}/maps") as f:
            assert any(f" {seen['inode']} " in line and line.rstrip().endswith("(deleted)") for line in f)

    def writer_alone(run: DemoRun) -> None:
        assert _shm_holders(seen["name"], unlinked=True) == {(run.pid, True)}

    done = run_demo("posix-shm", at={"exchange": both_map_it, "reader-exit": unlinked_but_held,
                                     "last-munmap": writer_alone})
    assert done.run.results["exists_after_unlink"] is False
    assert f'shm_open("{seen["name"]}", O_CREAT|O_EXCL|O_RDWR, 0600) = 3' in done.text
    assert f'shm_unlink("{seen["name"]}") = 0' in done.text
    assert all(seen["inode"] != o.inode for o in take_snapshot().pshm.values())


def test_posix_mq_priorities_notify_and_a_full_queue():
    def full(run: DemoRun) -> None:
        name = _one(run, "pmsg")
        sender = run.made.pid_of("sender")
        assert wchan(sender) not in ("", "0")
        [queue] = [q for q in take_snapshot().pmsg.values() if q.name == name]
        assert (queue.messages, queue.max_messages, queue.message_size) == (4, 4, 64)
        assert {run.pid, sender} <= {h.pid for h in queue.holders}

    done = run_demo("posix-mq", at={"nonblock": full})
    results = done.run.results
    assert results["priority_order"] == "7,3,1"
    assert results["nonblocking_errno"] == errno.EAGAIN
    assert "sigwait({SIGRTMIN+1}) = SIGRTMIN+1: a message arrived" in done.text
    assert "mq_getattr(3, &attr) = 0; mq_curmsgs = 4, mq_maxmsg = 4, mq_msgsize = 64" in done.text


def test_posix_sem_race_loses_updates_and_the_named_semaphore_fixes_it():
    def three_map_the_lock(run: DemoRun) -> None:
        lock = sorted(run.current.posix_names("psem"))
        semaphores = {s.name: s for s in take_snapshot().psem.values() if s.name in lock}
        workers = {pid for pid, role in run.current.pids.items() if role == "worker"}
        assert len(workers) == 2
        assert any({h.pid for h in s.holders} == workers | {run.pid} and s.value == 1 for s in semaphores.values())

    done = run_demo("posix-sem", at={"race": three_map_the_lock})
    results = done.run.results
    assert results["race_got"] < results["expected"], "the race lost no update"
    assert results["locked_got"] == results["expected"] and results["locked_lost"] == 0


def test_memfd_is_one_object_held_by_both_then_by_the_child_alone():
    seen = {}

    def memfds(run: DemoRun) -> dict[int, set[int]]:
        found = {}
        for obj in take_snapshot().memfd.values():
            pids = {h.pid for h in obj.holders}
            if obj.source == "memfd" and obj.name == "ipctop-demo" and pids & set(run.made.pids):
                found[obj.inode] = pids
        return found

    def shared(run: DemoRun) -> None:
        found = memfds(run)
        assert list(found.values()) == [{run.pid, run.made.pid_of("child")}]
        seen["inode"] = next(iter(found))

    def child_alone(run: DemoRun) -> None:
        assert memfds(run) == {seen["inode"]: {run.made.pid_of("child")}}
        assert not any(o.name.startswith("memfd") for o in take_snapshot().pshm.values())

    done = run_demo("memfd", at={"close": shared, "exit": child_alone})
    assert re.search(r'memfd_create\("ipctop-demo", 0\) = \d+', done.text)
    assert "recvmsg(" in done.text and '"written before the fd was passed"' in done.text
    assert seen["inode"] not in take_snapshot().memfd


def test_shm_vs_pipe_moves_the_same_bytes_both_ways_and_measures_each():
    done = run_demo("shm-vs-pipe")
    results = done.run.results
    assert results["same_bytes"] is True
    assert results["pipe_mb_s"] > 0 and results["shm_mb_s"] > 0
    assert "4 copies of every byte" in done.text and "2 copies of every byte" in done.text
