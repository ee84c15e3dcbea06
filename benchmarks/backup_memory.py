"""Peak memory of `ipctop clean --yes --backup` and `ipctop restore` on one large segment.

    python -m benchmarks.backup_memory [--mib 512] [--ipctop-root DIR]

A child makes a segment of the given size in the benchmark key range, fills it
and exits (so that it is a leak); `ipctop clean` backs it up and removes it,
`ipctop restore` makes it again from the file.  Each runs as a process of its
own, and its peak resident memory (ru_maxrss, from wait4) is printed with the
size of the backup file.  --ipctop-root runs another checkout's ipctop (e.g. an
older one, to compare).  Everything it makes is removed at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import shutil
import subprocess
import sys
import tempfile

from ipctop.kernel import sysv
from ipctop.kernel.errors import IpcError
from ipctop.keys import BENCH_KEYS

MIB = 1 << 20


def _free_key() -> int:
    used = set()
    for kind in ("shm", "msg", "sem"):
        with open(f"/proc/sysvipc/{kind}") as f:
            used |= {int(line.split()[0]) & 0xFFFFFFFF for line in f.readlines()[1:] if line.strip()}
    return next(key for key in BENCH_KEYS if key not in used)


def _leaked_segment(key: int, size: int) -> int:
    """A segment made and filled by a child that then exited: its creator is gone."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            shmid = sysv.shmget(key, size, sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600)
            address = sysv.shmat(shmid)
            pattern = bytes(range(251)) * (MIB // 251 + 1)
            for offset in range(0, size, MIB):
                ctypes.memmove(address + offset, pattern, min(MIB, size - offset))
            sysv.shmdt(address)
            os.write(write_fd, str(shmid).encode())
        finally:
            os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd) as f:
        text = f.read()
    os.waitpid(pid, 0)
    return int(text)


def _peak(argv: list[str], root: str) -> tuple[int, int, str]:
    """(exit code, peak resident memory in KiB, output) of `python -m ipctop ARGV` run from `root`."""
    env = {**os.environ, "PYTHONPATH": root}
    process = subprocess.Popen([sys.executable, "-m", "ipctop", *argv], cwd=root, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    process.stdout.close()
    return process.returncode, usage.ru_maxrss, output


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mib", type=int, default=512, help="the segment's size in MiB (default 512)")
    parser.add_argument("--ipctop-root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        help="the checkout whose ipctop to run (default: this one)")
    args = parser.parse_args()
    size = args.mib * MIB
    key = _free_key()
    folder = tempfile.mkdtemp(prefix="ipctop-bench-backup-")
    shmid = _leaked_segment(key, size)
    restored = None
    try:
        code, clean_kib, out = _peak(["clean", "--yes", "--older-than", "0s", "--backup", folder, "--key", hex(key)],
                                     args.ipctop_root)
        if code != 0 or f"removed shm {shmid}" not in out:
            print(out)
            return 1
        [name] = os.listdir(folder)
        path = os.path.join(folder, name)
        code, restore_kib, out = _peak(["restore", path], args.ipctop_root)
        if code != 0:
            print(out)
            return 1
        restored = int(out.split()[-1])
        print(f"segment {args.mib} MiB; backup file {os.path.getsize(path) / MIB:.0f} MiB")
        print(f"clean --yes --backup: peak RSS {clean_kib / 1024:.0f} MiB")
        print(f"restore:              peak RSS {restore_kib / 1024:.0f} MiB")
    finally:
        for ident in (shmid, restored):
            if ident is not None:
                with contextlib.suppress(IpcError):
                    sysv.shm_remove(ident)
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
