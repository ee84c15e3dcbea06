"""`ipctop list` of POSIX objects and unnamed shared memory, as a user runs it: tables, JSON, --type, filters."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from ipctop.kernel import posix
from tests.support.mounts import with_mqueue_mounted


def ipctop(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ipctop", *args], capture_output=True, text=True, timeout=60)


def test_json_of_each_kind_with_holders_and_no_copies_in_processes(posix_name, holders):
    shm, sem = posix_name(), posix_name()
    holder = holders.spawn("pshm-hold", shm, 10000, "create")
    sem_holder = holders.spawn("psem-hold", sem, 5)
    try:
        result = ipctop("list", "--json", "--type", "pshm,psem,memfd")
        assert result.returncode == 0, result.stderr
        data = json.loads(result.stdout)
        obj = next(o for o in data["pshm"] if o["name"] == shm)
        assert (obj["size"], obj["perms"], obj["unlinked"], obj["owner"]) == (10000, 0o640, False, "root")
        assert {h["pid"] for h in obj["holders"]} == {holder.pid}
        assert set(obj["holders"][0]) == {"pid", "comm", "mode", "fd", "start", "end"}
        semaphore = next(s for s in data["psem"] if s["name"] == sem)
        assert (semaphore["value"], semaphore["blocked"], semaphore["waiters"], semaphore["layout"]) == \
            (5, 0, [], "glibc")
        process = next(p for p in data["processes"] if p["pid"] == holder.pid)
        assert {(held["kind"], held["inode"]) for held in process["posix"]} == {("pshm", obj["inode"])}
        assert data["pmsg"] == [] and data["shm"] == [] and data["pipes"] == []  # not asked for
        assert isinstance(data["limits"]["mq_queues_max"], int) and data["limits"]["dev_shm_size"] > 0
        assert sem_holder.pid in {h["pid"] for h in semaphore["holders"]}
    finally:
        posix.shm_unlink(shm)
        posix.sem_unlink(sem)


def test_tables_and_pid_filter(posix_name, holders):
    shm = posix_name()
    holder = holders.spawn("pshm-hold", shm, 3 * 1024 * 1024, "create")
    try:
        result = ipctop("list", "--type", "pshm", "--pid", str(holder.pid))
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert lines[0] == "POSIX shared memory (1)"
        assert lines[1].split() == ["NAME", "SIZE", "USED", "OWNER", "PERMS", "STATUS", "HELD", "BY"]
        row = lines[2].split()
        assert row[:2] == [shm, "3M"] and row[3:6] == ["root", "rw-r-----", "-"]
        assert row[6] == f"python[{holder.pid}]" or row[6].startswith("python")
        assert f"pshm:{shm}@rw" in result.stdout  # the processes table: it maps it
        assert "Semaphore sets" not in result.stdout
    finally:
        posix.shm_unlink(shm)


def test_unknown_type_names_the_new_kinds():
    result = ipctop("list", "--type", "posix")
    assert result.returncode == 2
    assert "unknown type 'posix': choose from shm, msg, sem, pipe, fifo, pshm, psem, pmsg, memfd" in result.stderr


def test_queue_files_are_read_only_when_asked(posix_name):
    name = posix_name()
    fd = posix.mq_open(name, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600, 3, 32)
    try:
        posix.mq_send(fd, b"abc", 2)

        def both(point: str) -> list:
            plain = json.loads(ipctop("list", "--json", "--type", "pmsg").stdout)
            read = json.loads(ipctop("list", "--json", "--type", "pmsg", "--queue-files").stdout)
            text = ipctop("list", "--type", "pmsg").stdout
            return [[q for q in plain["pmsg"] if q["name"] == name], [q for q in read["pmsg"] if q["name"] == name],
                    plain["posix_notes"], text]

        plain, read, notes, text = with_mqueue_mounted(both)
        assert plain[0]["queued_bytes"] is None and plain[0]["notify_pid"] is None and plain[0]["messages"] == 1
        assert read[0]["queued_bytes"] == 3 and read[0]["notify_pid"] == 0
        assert notes == []  # mounted: nothing unseen
        # the name column is as wide as the longest name listed: compare fields, not spacing
        row = next(line.split() for line in text.splitlines() if line.startswith(f"{name} "))
        assert row[:6] == [name, "1", "3", "32B", "33%", "?"]
    finally:
        os.close(fd)
        posix.mq_unlink(name)


def test_without_the_mqueue_filesystem_list_says_so_and_shows_held_queues(posix_name):
    name = posix_name()
    fd = posix.mq_open(name, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600, 3, 32)
    try:
        result = ipctop("list", "--type", "pmsg")
        assert name in result.stdout
        with open("/proc/self/mountinfo") as f:
            mounted = any(line.split(" - ")[-1].split()[0] == "mqueue" for line in f)
        if not mounted:
            assert "note: /dev/mqueue is not mounted" in result.stdout and "--mount-mqueue" in result.stdout
    finally:
        os.close(fd)
        posix.mq_unlink(name)


def test_mount_mqueue_mounts_it_only_when_asked_and_says_so(posix_name):
    """In a mount namespace of its own (unshare), so that the mount dies with it; /dev/mqueue is removed
    again if this test made it."""
    name = posix_name()
    fd = posix.mq_open(name, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600, 3, 32)
    os.close(fd)  # nobody holds it: only a mounted mqueue filesystem lists it
    made_dir = not os.path.exists("/dev/mqueue")
    try:
        command = [sys.executable, "-m", "ipctop", "list", "--type", "pmsg"]
        plain = subprocess.run(["unshare", "--mount", "--propagation", "private", *command],
                               capture_output=True, text=True, timeout=60)
        mounted = subprocess.run(["unshare", "--mount", "--propagation", "private", *command, "--mount-mqueue"],
                                 capture_output=True, text=True, timeout=60)
        readonly = subprocess.run(["unshare", "--mount", "--propagation", "private", sys.executable, "-m",
                                   "ipctop", "--readonly", "list", "--mount-mqueue"],
                                  capture_output=True, text=True, timeout=60)
        if made_dir:
            assert name not in plain.stdout and "note: /dev/mqueue is not mounted" in plain.stdout
        assert mounted.returncode == 0, mounted.stderr
        if made_dir:
            assert mounted.stderr == "ipctop: mounted the mqueue filesystem on /dev/mqueue (umount /dev/mqueue " \
                                     "undoes it)\n"
            assert readonly.returncode == 2 and "--mount-mqueue changes the system and --readonly is set" in \
                readonly.stderr
        assert name in mounted.stdout and "not mounted" not in mounted.stdout
        with open("/proc/self/mountinfo") as f:
            assert not any(line.split(" - ")[-1].split()[0] == "mqueue" for line in f) or not made_dir
    finally:
        posix.mq_unlink(name)
        if made_dir and os.path.isdir("/dev/mqueue"):
            os.rmdir("/dev/mqueue")


def test_a_terminals_width_cuts_each_kinds_list_of_holders(posix_name, holders):
    # on a terminal a table fits its width; the holders of an object mapped by every backend of a
    # database (66 of PostgreSQL's, named by their titles) were printed whole, over screens of lines
    from ipctop.kinds import KINDS
    from ipctop.kinds.table import kind_table
    from ipctop.snapshot import take_snapshot

    name = posix_name()
    made = [holders.spawn("pshm-hold", name, 4096, "create", "close")]
    try:
        made += [holders.spawn("pshm-hold", name, 4096, "close") for _ in range(5)]
        snapshot = take_snapshot()
        kind = next(kind for kind in KINDS if kind.name == "pshm")
        whole = kind_table(kind, snapshot)
        assert all(f"[{held.pid}]" in whole for held in made)  # piped: every holder
        for width in (80, 100, 120):
            for each in KINDS:  # and whatever else the machine holds, of every kind
                text = kind_table(each, snapshot, width)
                assert max(len(line) for line in text.splitlines()) <= width, text
        row = next(line for line in kind_table(kind, snapshot, 80).splitlines() if line.startswith(name[:13]))
        assert row.rstrip().split()[-1].startswith("+"), row  # what fits, then how many more
    finally:
        posix.shm_unlink(name)
