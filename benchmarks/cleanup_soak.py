"""A churn soak for the cleanup: processes make, use, remove and abandon objects as fast as they can
while `ipctop clean --yes` runs in a loop on the soak's keys.  Does clean ever remove an object in use?

    python -m benchmarks.cleanup_soak [--minutes 10] [--workers 4]

Workers run as a user no other process runs as (SOAK_USER), live a second or two,
and loop: make a segment, a queue or a set under a key of the benchmark range,
use it (attach, send and receive, semop), keep it for a while and use it again,
then either remove it or leave it behind (abandoned, on purpose) and eventually
exit.  An object a live worker still holds or will use again is in use; one
whose maker exited without removing it is abandoned, what clean should take.
Every use checks that its object is still there: a queue or set gone
(EIDRM/EINVAL) or a segment marked for removal under an attached worker counts as
"removed in use".  clean runs as ipctop's CLI does, with --older-than 0s (no
grace: the hardest case), --key for exactly the soak's keys and --user for its
user (other benchmarks use the same key range).

At the end it prints how many objects were made, abandoned, removed by clean, and
removed in use (goal 0), and removes whatever is left.  Run as root.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

from ipctop.kernel import sysv
from ipctop.kernel.errors import IpcError
from ipctop.keys import BENCH_KEYS

SOAK_USER = 0x4950_A0FE
SOAK_KEYS = range(BENCH_KEYS.start + 0x800, BENCH_KEYS.start + 0xC00)  # 1,024 keys of the benchmark range
KINDS = ("shm", "msg", "sem")


def _make(kind: str) -> tuple[int, int] | None:
    key = random.choice(SOAK_KEYS)
    flags = sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600
    try:
        if kind == "shm":
            return sysv.shmget(key, 4096, flags), key
        if kind == "msg":
            return sysv.msgget(key, flags), key
        return sysv.semget(key, 1, flags), key
    except IpcError:
        return None  # the key is taken: try another next time


def _use(kind: str, ident: int, attached: dict[int, int]) -> bool:
    """Use the object once; False when it was removed (or marked for removal) under us."""
    try:
        if kind == "shm":
            if ident not in attached:
                attached[ident] = sysv.shmat(ident)
            return not sysv.shm_stat(ident).mode & 0o1000
        if kind == "msg":
            sysv.msgsnd(ident, 1, b"soak", nowait=True)
            sysv.msgrcv(ident, 0, 64, nowait=True)
            return True
        sysv.semop(ident, 0, 1, nowait=True)
        sysv.semop(ident, 0, -1, nowait=True)
        return True
    except IpcError as error:
        return error.errno not in (errno.EIDRM, errno.EINVAL)  # EAGAIN, ENOMSG...: still there


def worker(report: int, seed: int) -> None:
    """One short life: make objects, use them, remove some, abandon the rest; write a line per event."""
    random.seed(seed)
    os.setgroups([])
    os.setresgid(SOAK_USER, SOAK_USER, SOAK_USER)
    os.setresuid(SOAK_USER, SOAK_USER, SOAK_USER)
    held: list[tuple[str, int, int]] = []
    attached: dict[int, int] = {}
    until = time.monotonic() + random.uniform(0.5, 2.5)
    while time.monotonic() < until:
        if len(held) < 6 and random.random() < 0.5:
            kind = random.choice(KINDS)
            made = _make(kind)
            if made is not None:
                held.append((kind, *made))
                os.write(report, f"made {kind} {made[0]}\n".encode())
        for kind, ident, _key in list(held):
            if not _use(kind, ident, attached):
                os.write(report, f"lost {kind} {ident}\n".encode())
                held.remove((kind, ident, _key))
        if held and random.random() < 0.2:  # done with one: remove it
            kind, ident, key = held.pop(random.randrange(len(held)))
            if kind == "shm" and ident in attached:
                sysv.shmdt(attached.pop(ident))
            with contextlib.suppress(IpcError):
                {"shm": sysv.shm_remove, "msg": sysv.msg_remove, "sem": sysv.sem_remove}[kind](ident)
        time.sleep(random.uniform(0, 0.02))
    for address in attached.values():
        sysv.shmdt(address)
    for kind, ident, _key in held:
        os.write(report, f"abandoned {kind} {ident}\n".encode())
    os._exit(0)  # without removing what it holds: crashed, as far as anyone can tell


def _soak_objects() -> list[tuple[str, int]]:
    found = []
    for kind in KINDS:
        with open(f"/proc/sysvipc/{kind}") as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields and int(fields[0]) & 0xFFFFFFFF in SOAK_KEYS:
                    found.append((kind, int(fields[1])))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=4, help="workers alive at once")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("run as root: the workers run as another user", file=sys.stderr)
        return 2
    keys = ",".join(hex(k) for k in (SOAK_KEYS.start, SOAK_KEYS.stop - 1))
    key_list = ",".join(hex(k) for k in SOAK_KEYS)
    read_fd, write_fd = os.pipe()
    os.set_blocking(read_fd, False)
    events: dict[str, int] = {"made": 0, "lost": 0, "abandoned": 0}
    lost: list[str] = []
    cleaned = cleans = 0
    workers: set[int] = set()
    pending = b""
    end = time.monotonic() + args.minutes * 60
    clean: subprocess.Popen[bytes] | None = None
    try:
        while time.monotonic() < end:
            while len(workers) < args.workers:
                pid = os.fork()
                if pid == 0:
                    os.close(read_fd)
                    worker(write_fd, random.randrange(1 << 30))
                workers.add(pid)
            for pid in list(workers):
                if os.waitpid(pid, os.WNOHANG)[0]:
                    workers.discard(pid)
            with contextlib.suppress(BlockingIOError):
                pending += os.read(read_fd, 1 << 16)
            *lines, pending = pending.split(b"\n")
            for line in lines:
                what = line.decode().split()[0]
                events[what] += 1
                if what == "lost":
                    lost.append(line.decode())
            if clean is None:
                # Its report goes to a file (read once it exits): a pipe read only then would fill and block it.
                report = tempfile.TemporaryFile()  # noqa: SIM115 - closed when that run of clean has been read
                clean = subprocess.Popen([sys.executable, "-m", "ipctop", "clean", "--yes", "--older-than", "0s",
                                          "--user", str(SOAK_USER), "--key", key_list], stdout=report,
                                         stderr=subprocess.DEVNULL)
            elif clean.poll() is not None:
                report.seek(0)
                cleaned += sum(line.startswith(b"removed ") for line in report.read().splitlines())
                report.close()
                cleans += 1
                clean = None
            time.sleep(0.005)
    finally:
        if clean is not None:
            clean.wait()
            report.close()
        for pid in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        for kind, ident in _soak_objects():
            with contextlib.suppress(IpcError):
                {"shm": sysv.shm_remove, "msg": sysv.msg_remove, "sem": sysv.sem_remove}[kind](ident)
        os.close(read_fd)
        os.close(write_fd)
    print(f"{args.minutes:g} min, keys {keys}: {events['made']} objects made, {events['abandoned']} abandoned, "
          f"{cleaned} removed by {cleans} runs of clean --yes, {events['lost']} removed in use")
    for line in lost[:20]:
        print(f"  {line}")
    return 1 if events["lost"] else 0


if __name__ == "__main__":
    sys.exit(main())
