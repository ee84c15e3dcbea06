"""A backup and a restore stream a segment's bytes: their peak memory does not grow with its size.

Each runs `ipctop` as a process of its own and reads its peak resident memory
(ru_maxrss, from wait4): for a 96 MiB segment it must stay within a few MiB of
the same run on a 4 KiB one (before, both read the whole segment, several times over).
benchmarks/backup_memory.py measures it at 512 MiB.
"""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys

from ipctop.kernel import sysv
from tests.cleanup.helpers import in_exited_child, objects_present, suite_uid

MIB = 1 << 20
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _peak_kib(*argv: str) -> tuple[int, str]:
    process = subprocess.Popen([sys.executable, "-m", "ipctop", *argv], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True)
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    process.stdout.close()
    assert process.returncode == 0, output
    return usage.ru_maxrss, output


def _filled_and_left(key: int, size: int) -> int:
    read_fd, write_fd = os.pipe()

    def make() -> None:
        shmid = sysv.shmget(key, size, sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600)
        address = sysv.shmat(shmid)
        ctypes.memset(address, 0x5A, size)
        sysv.shmdt(address)
        os.write(write_fd, str(shmid).encode())

    try:
        in_exited_child(make, uid=suite_uid())
        return int(os.read(read_fd, 64))
    finally:
        os.close(read_fd)
        os.close(write_fd)


def _round_trip(key: int, size: int, folder) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """(peak KiB of clean --yes --backup, peak KiB of restore) for a segment of `size` bytes."""
    shmid = _filled_and_left(key, size)
    restored = None
    try:
        backed_up, out = _peak_kib("clean", "--yes", "--older-than", "0s", "--backup", str(folder), "--key", hex(key))
        assert f"removed shm {shmid} " in out
        [path] = folder.glob(f"shm-{key:08x}-*.json")
        restoring, out = _peak_kib("restore", str(path))
        restored = int(out.split()[-1])
        address = sysv.shmat(restored, readonly=True)
        try:
            assert ctypes.string_at(address + size - 16, 16) == b"\x5a" * 16
        finally:
            sysv.shmdt(address)
        return backed_up, restoring
    finally:
        if restored is not None:
            sysv.shm_remove(restored)
        elif objects_present({key}):
            sysv.shm_remove(shmid)


def test_backup_and_restore_of_a_large_segment_take_no_more_memory_than_of_a_small_one(ipc_key, tmp_path):
    small = _round_trip(ipc_key(), 4096, tmp_path / "small")
    large = _round_trip(ipc_key(), 96 * MIB, tmp_path / "large")
    for what, little, big in zip(("clean --backup", "restore"), small, large, strict=True):
        assert big - little < 24 * 1024, f"{what}: {big} KiB for 96 MiB, {little} KiB for 4 KiB"
