"""A process's shared mappings asked of the kernel (PROCMAP_QUERY) are the shared lines of its maps text.

Real processes hold each kind of shared mapping (a System V attachment split by
mprotect, POSIX shared memory, a named semaphore, a memfd, shared anonymous
memory, a file whose name has a newline); what the query gives is compared, field
by field, with the lines of /proc/PID/maps whose permissions end in `s`.  And a
kernel without the query (the text read instead) gives the same snapshot, as does a
process whose seccomp filter refuses the ioctl (a real filter, in a child).
"""

from __future__ import annotations

import mmap
import os

import pytest

from ipctop.collectors import procfs
from ipctop.kernel import posix, procmap, sysv
from ipctop.snapshot import take_snapshot


def _shared_text_lines(pid: int) -> tuple[list[list[bytes]], int]:
    """The shared lines of pid's maps text, each as (range, perms, offset, device, inode, name); and how
    many lines the text has."""
    with open(f"/proc/{pid}/maps", "rb") as f:
        lines = f.read().splitlines()
    fields = [_fields(line) for line in lines]
    return [line for line in fields if line[1].endswith(b"s")], len(lines)


def _fields(line: bytes) -> list[bytes]:
    """A maps line as (range, perms, offset, device, inode, name), the name empty when there is none."""
    fields = line.split(None, 5)
    return [*fields[:5], fields[5] if len(fields) > 5 else b""]


def _queried_lines(pid: int) -> list[list[bytes]] | None:
    fd = os.open(f"/proc/{pid}/maps", os.O_RDONLY)
    try:
        data = procmap.shared_lines(fd)
    finally:
        os.close(fd)
    if data is None:
        return None
    return [_fields(line) for line in data.splitlines()]


def _has_query() -> bool:
    return _queried_lines(os.getpid()) is not None


needs_query = pytest.mark.skipif(not _has_query(), reason="this kernel has no PROCMAP_QUERY (Linux 6.11)")


@needs_query
def test_every_kind_of_shared_mapping_reads_as_its_maps_line(ipc_key, posix_name, holders, tmp_path):
    shmid = sysv.shmget(ipc_key(), 3 * 4096, sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600)
    shm_name, sem_name = posix_name(), posix_name()
    memfd = os.memfd_create("ipctop-test-memfd\nsecond line")
    odd_file = tmp_path / "a file\nwith a newline"
    odd_file.write_bytes(b"\0" * 4096)
    kept = []
    try:
        os.ftruncate(memfd, 2 * 4096)
        split = holders.spawn("shm-attach-split", shmid)
        pshm = holders.spawn("pshm-hold", shm_name, 8192, "create")
        psem = holders.spawn("psem-hold", sem_name, 1)
        memfd_holder = holders.spawn("memfd-map", memfd, 2 * 4096, pass_fds=(memfd,))
        anonymous = holders.spawn("anon-fork", 4096)
        with open(odd_file, "r+b") as f:
            kept.append(mmap.mmap(f.fileno(), 4096))  # a shared mapping of a file, by this very process
        kinds = {b"/SYSV": split.pid, b"/dev/shm/" + shm_name[1:].encode(): pshm.pid,
                 b"/dev/shm/sem.": psem.pid, b"/memfd:ipctop-test-memfd\\012second line": memfd_holder.pid,
                 b"/dev/zero": anonymous.pid, b"with a newline": os.getpid()}
        for pid in {*kinds.values(), int(anonymous.ready.split()[1])}:
            expected, total = _shared_text_lines(pid)
            assert _queried_lines(pid) == expected, pid
            assert total > len(expected)  # the private lines (libraries, heap, stack) are left out
        for needle, pid in kinds.items():
            assert any(needle in line[5] for line in _queried_lines(pid) or ()), needle
        assert len([line for line in _queried_lines(split.pid) or () if b"/SYSV" in line[5]]) == 3  # the split
    finally:
        for area in kept:
            area.close()
        os.close(memfd)
        sysv.shm_remove(shmid)
        posix.shm_unlink(shm_name)
        posix.sem_unlink(sem_name)


def test_a_kernel_without_the_query_gives_the_same_snapshot(ipc_key, posix_name, holders, monkeypatch):
    shmid = sysv.shmget(ipc_key(), 3 * 4096, sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600)
    name = posix_name()
    try:
        split = holders.spawn("shm-attach-split", shmid)
        holders.spawn("pshm-hold", name, 4096, "create")
        holders.spawn("anon-fork", 4096)

        def seen(snapshot):  # type: ignore[no-untyped-def]
            return (snapshot.shm[shmid].attachers, snapshot.shm[shmid].attachers_complete,
                    sorted((o.inode, o.holders) for o in snapshot.pshm.values()),
                    sorted((o.inode, o.holders) for o in snapshot.memfd.values() if o.source == "anonymous"))

        asked = seen(take_snapshot())
        # as on a kernel before 6.11: the ioctl is not there, and maps is read as text
        monkeypatch.setattr(procfs, "shared_lines", lambda _fd: None)
        assert seen(take_snapshot()) == asked
        assert [a.pid for a in asked[0]] == [split.pid]
    finally:
        sysv.shm_remove(shmid)
        posix.shm_unlink(name)


_REFUSE_THE_QUERY = """
import ctypes, json, os, struct, sys
from ipctop.kernel import procmap
from ipctop.snapshot import take_snapshot
arch, ioctl_nr = {"x86_64": (0xC000003E, 16), "aarch64": (0xC00000B7, 29)}[os.uname().machine]
ld, jeq, ret = 0x20, 0x15, 0x06
program = [(ld, 0, 0, 4), (jeq, 0, 5, arch), (ld, 0, 0, 0), (jeq, 0, 3, ioctl_nr), (ld, 0, 0, 24),
           (jeq, 0, 1, procmap.PROCMAP_QUERY), (ret, 0, 0, 0x00050000 | 1), (ret, 0, 0, 0x7FFF0000)]
code = b"".join(struct.pack("=HBBI", *instruction) for instruction in program)
buffer = ctypes.create_string_buffer(code)
fprog = struct.pack("=HxxxxxxQ", len(program), ctypes.addressof(buffer))
libc = ctypes.CDLL("libc.so.6", use_errno=True)
fprog_buffer = ctypes.create_string_buffer(fprog)
assert libc.prctl(38, 1, 0, 0, 0) == 0  # PR_SET_NO_NEW_PRIVS
# PR_SET_SECCOMP, SECCOMP_MODE_FILTER
assert libc.prctl(22, 2, ctypes.c_void_p(ctypes.addressof(fprog_buffer)), 0, 0) == 0, ctypes.get_errno()
fd = os.open("/proc/self/maps", os.O_RDONLY)
refused = procmap.shared_lines(fd) is None
snapshot = take_snapshot()
segment = snapshot.shm[int(sys.argv[1])]
print(json.dumps([refused, [[a.pid, a.start, a.end, a.vmas] for a in segment.attachers],
                  segment.attachers_complete]))
"""


@needs_query
@pytest.mark.skipif(os.uname().machine not in ("x86_64", "aarch64"), reason="the filter knows x86_64 and aarch64")
def test_a_query_refused_by_seccomp_reads_the_text(ipc_key, holders):
    import json
    import subprocess
    import sys

    shmid = sysv.shmget(ipc_key(), 3 * 4096, sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600)
    try:
        split = holders.spawn("shm-attach-split", shmid)
        out = subprocess.run([sys.executable, "-c", _REFUSE_THE_QUERY, str(shmid)], capture_output=True,
                             text=True, timeout=120, check=True)
        refused, attachers, complete = json.loads(out.stdout)
        segment = take_snapshot().shm[shmid]
        assert refused  # the filter made the ioctl fail with EPERM
        assert attachers == [[a.pid, a.start, a.end, a.vmas] for a in segment.attachers]
        assert attachers[0][0] == split.pid and attachers[0][3] == 3 and complete
    finally:
        sysv.shm_remove(shmid)
